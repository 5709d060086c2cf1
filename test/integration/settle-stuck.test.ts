import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStuckSettler } from '../../src/approval/settle-stuck.js';
import { createSweeper } from '../../src/approval/sweeper.js';
import type { RecoveryRequest } from '../../src/approval/types.js';
import { startJobEngine } from '../../src/jobs.js';
import { sha256Checksum } from '../../src/recovery/conversation.js';
import type { CoreDeps } from '../../src/recovery/deps.js';
import type { RestorePlan } from '../../src/recovery/plan.js';
import type { ReplayPlan } from '../../src/recovery/replay.js';
import { createRedisClient, createRedisTier } from '../../src/recovery/tiers/redis.js';
import { createRequestAuditLookup } from '../../src/store/audit-lookup.js';
import { createRequestStore, type RequestStore } from '../../src/store/requests.js';
import { expiryNotice } from '../../src/workflow/context.js';
import { makeConversation } from '../helpers/conversations.js';
import { freePort } from '../helpers/net.js';
import { type Stack, startStack } from '../helpers/stack.js';

/**
 * Runs a crashed replica left behind, settled by what the stores hold and never run again. A
 * crash is left exactly as a dead process leaves it: the rows it committed, a lease nobody
 * renews, and whatever reached Redis.
 */

const SCHEMA = 'zeus_recover';
const CHANNEL = 'C_INC';
let stack: Stack;
let core: CoreDeps;
let store: RequestStore;
let n = 0;
const zeusCalls: string[] = [];
const silent = { info: () => {}, warn: () => {} };

beforeAll(async () => {
  stack = await startStack();
  const runtime = await stack.runtime();
  // Any call to Zeus from a settler would be a re-run (or a look it must not need): recorded.
  core = {
    ...runtime.deps,
    zeus: {
      replay: async (id) => {
        zeusCalls.push(`replay ${id}`);
        throw new Error('a settler must never send a replay');
      },
      status: async (id) => {
        zeusCalls.push(`status ${id}`);
        throw new Error('not expected');
      },
    },
  };
  store = createRequestStore(runtime.pool, SCHEMA);
}, 60_000);
afterAll(async () => stack.stop());

function settler(graceMs = 0, overrides: Partial<Parameters<typeof createStuckSettler>[0]> = {}) {
  const kicks = { n: 0 };
  const s = createStuckSettler({
    core,
    requests: store,
    lookup: createRequestAuditLookup(stack.db.pool, SCHEMA),
    kick: () => {
      kicks.n++;
    },
    graceMs,
    leaseMs: 10_000,
    settleDelaysMs: [20, 20],
    logger: silent,
    ...overrides,
  });
  return Object.assign(s, { kicks });
}

const sum = (doc: string) => sha256Checksum(Buffer.from(doc));

interface Crash {
  id: string;
  request: RecoveryRequest;
  oldDoc: string;
  newDoc: string;
}

type Step = 'approved' | 'executing' | 'locked' | 'audited' | 'written';

/** Files, approves and runs a restore by hand up to `step`, then leaves it as a crash would. */
async function crashedRestore(step: Step): Promise<Crash> {
  const id = `c-crash-${++n}`;
  const oldDoc = makeConversation(id, 2);
  const newDoc = makeConversation(id, 5);
  await stack.seed('redis', id, oldDoc);
  const plan: RestorePlan = {
    conversationId: id,
    source: { kind: 'tier', tier: 'postgres' },
    sourceLabel: 'postgres',
    target: { exists: true, checksum: sum(newDoc), bytes: newDoc.length, analysis: null },
    current: { exists: true, checksum: sum(oldDoc), bytes: oldDoc.length, ttlMs: null, analysis: null },
    diff: { added: [], removed: [], changed: [], unchanged: 2, identical: false },
    diffSummary: '+3 steps',
    warnings: [],
    createdAt: new Date().toISOString(),
  };
  const created = await store.create({
    kind: 'restore',
    conversationId: id,
    channelId: CHANNEL,
    requester: 'U_ALICE',
    reason: 'INC-7 crash test',
    plan,
    requiredApprovals: 1,
    ttlMinutes: 30,
  });
  const approved = await store.approve(created.id, 'U_BOB');
  if (approved.kind !== 'approved') throw new Error(`not approved: ${approved.kind}`);
  const crash = { id, request: approved.request, oldDoc, newDoc };
  return step === 'approved' ? crash : runUpTo(crash, step);
}

/** Its owner runs it, by hand, up to `step` and stops there. */
async function runUpTo(crash: Crash, step: Exclude<Step, 'approved'>): Promise<Crash> {
  const { id, oldDoc, newDoc } = crash;
  const created = crash.request;
  expect(await store.startExecution(created.id)).toBe(true);
  if (step === 'executing') return crash;
  const lease = await core.locks.acquire(id, `slack:U_ALICE (request ${created.id})`, 60_000);
  if (!lease.acquired) throw new Error('lock not acquired');
  if (step === 'locked') return crash;
  const backup = await core.backups.create({
    conversationId: id,
    key: core.redis.locate(id),
    existed: true,
    value: Buffer.from(oldDoc),
    checksum: sum(oldDoc),
    ttlMs: null,
    actor: 'slack:U_ALICE',
    reason: 'INC-7 crash test',
    requestId: created.id,
    takenFor: 'restore',
  });
  // What recovery/execute.ts appends right before its compare-and-set.
  await core.audit.append(
    {
      action: 'restore.started',
      actor: 'slack:U_ALICE',
      conversationId: id,
      requestId: created.id,
      data: { source: 'postgres', backupId: backup.id, before: sum(oldDoc), after: sum(newDoc), reason: 'x' },
    },
    { deliverTo: { channelId: CHANNEL } },
  );
  if (step === 'audited') return crash;
  await stack.seed('redis', id, newDoc);
  return crash;
}

/** The dead owner's lease runs out (as it would after LOCK_LEASE_MS, without the wait). */
async function leaseRunsOut(id: string): Promise<void> {
  await stack.db.pool.query(
    `UPDATE ${SCHEMA}.locks SET expires_at = now() - interval '1 millisecond' WHERE conversation_id = $1`,
    [id],
  );
}

async function entries(requestId: string, action: string) {
  const { rows } = await stack.db.pool.query<{ seq: string; data: string }>(
    `SELECT seq, data FROM ${SCHEMA}.audit_log WHERE request_id = $1 AND action = $2 ORDER BY seq`,
    [requestId, action],
  );
  return rows.map((r) => ({ seq: Number(r.seq), data: JSON.parse(r.data) as Record<string, unknown> }));
}

async function deliveredTo(seq: number): Promise<string | null> {
  const { rows } = await stack.db.pool.query<{ channel_id: string }>(
    `SELECT channel_id FROM ${SCHEMA}.audit_deliveries WHERE seq = $1`,
    [seq],
  );
  return rows[0]?.channel_id ?? null;
}

async function redisHolds(id: string): Promise<string | null> {
  return stack.redis.client.get(stack.redis.key(id));
}

/** The conversation takes new work again: the open-request guard and the lock are both free. */
async function conversationIsFree(crash: Crash): Promise<void> {
  expect(await store.openForConversation(crash.id)).toBeNull();
  const next = await store.create({
    kind: 'restore',
    conversationId: crash.id,
    channelId: CHANNEL,
    requester: 'U_ALICE',
    reason: 'after the crash',
    plan: crash.request.plan,
    requiredApprovals: 1,
    ttlMinutes: 30,
  });
  expect(next.state).toBe('requested');
  const lease = await core.locks.acquire(crash.id, 'test', 1000);
  expect(lease.acquired).toBe(true);
  if (lease.acquired) await lease.release();
  await store.cancel(next.id, 'U_ALICE');
}

describe('settling requests a crashed replica left behind', () => {
  it('the new bytes in Redis: succeeded, audited once for its thread, not run again, conversation free', async () => {
    const crash = await crashedRestore('written');
    const s = settler();
    expect(await s.settleOnce()).toBe(0); // the dead owner's lease is still live: hands off
    await leaseRunsOut(crash.id);
    expect(await s.settleOnce()).toBe(1);

    const settled = await store.get(crash.request.id);
    expect(settled?.state).toBe('succeeded');
    expect(settled?.result).toMatchObject({ settled: true, outcome: 'succeeded', reached: 'write' });
    const [entry, ...more] = await entries(crash.request.id, 'request.settled');
    expect(more).toEqual([]);
    expect(entry?.data).toMatchObject({
      outcome: 'succeeded',
      reached: 'write',
      observed: sum(crash.newDoc),
      before: sum(crash.oldDoc),
      after: sum(crash.newDoc),
      request: { id: crash.request.id, state: 'succeeded' },
    });
    expect(entry?.data.leaseExpiredAt).toEqual(expect.any(String));
    // Queued for the request's thread in the same transaction, and the worker woken.
    expect(await deliveredTo(entry?.seq ?? -1)).toBe(CHANNEL);
    expect(s.kicks.n).toBe(1);
    // Never re-run: one restore.started, one backup, Redis as the crashed run left it.
    expect(await entries(crash.request.id, 'restore.started')).toHaveLength(1);
    const backups = await core.backups.listForConversation(crash.id, 10);
    expect(backups).toHaveLength(1);
    expect(await redisHolds(crash.id)).toBe(crash.newDoc);
    // A second sweep finds nothing more to do.
    expect(await s.settleOnce()).toBe(0);
    await conversationIsFree(crash);
  });

  it('the old bytes in Redis after restore.started: failed, nothing written, Redis untouched', async () => {
    const crash = await crashedRestore('audited');
    await leaseRunsOut(crash.id);
    expect(await settler().settleOnce()).toBe(1);
    const settled = await store.get(crash.request.id);
    expect(settled?.state).toBe('failed');
    expect(settled?.result).toMatchObject({
      outcome: 'failed',
      reached: 'write',
      observed: sum(crash.oldDoc),
    });
    expect(String(settled?.result?.error)).toMatch(/nothing was written/);
    expect(await redisHolds(crash.id)).toBe(crash.oldDoc);
    await conversationIsFree(crash);
  });

  it('a third value in Redis: unknown, naming what to check and the backup', async () => {
    const crash = await crashedRestore('written');
    const other = makeConversation(crash.id, 9);
    await stack.seed('redis', crash.id, other);
    await leaseRunsOut(crash.id);
    expect(await settler().settleOnce()).toBe(1);
    const settled = await store.get(crash.request.id);
    expect(settled?.state).toBe('unknown');
    const [entry] = await entries(crash.request.id, 'request.settled');
    expect(entry?.data).toMatchObject({ outcome: 'unknown', observed: sum(other) });
    expect(String(entry?.data.detail)).toMatch(/Inspect c-crash-\d+.*backup bk_/);
    expect(await redisHolds(crash.id)).toBe(other);
    await conversationIsFree(crash);
  });

  it('executing but stopped before restore.started: failed before the write, nothing written', async () => {
    const crash = await crashedRestore('locked');
    await leaseRunsOut(crash.id);
    expect(await settler().settleOnce()).toBe(1);
    const settled = await store.get(crash.request.id);
    expect(settled?.state).toBe('failed');
    expect(settled?.result).toMatchObject({ reached: 'before_write' });
    expect(await redisHolds(crash.id)).toBe(crash.oldDoc);
    await conversationIsFree(crash);
  });

  it('executing with no lease row at all (died before taking it): settled only after the grace', async () => {
    const crash = await crashedRestore('executing');
    expect(await settler(60_000).settleOnce()).toBe(0);
    expect((await store.get(crash.request.id))?.state).toBe('executing');
    expect(await settler(0).settleOnce()).toBe(1);
    expect((await store.get(crash.request.id))?.result).toMatchObject({ reached: 'before_write' });
    await conversationIsFree(crash);
  });

  it('approved but never started: failed "nothing ran", and its owner can no longer start it', async () => {
    const crash = await crashedRestore('approved');
    expect(await settler(60_000).settleOnce()).toBe(0);
    expect(await settler(0).settleOnce()).toBe(1);
    const settled = await store.get(crash.request.id);
    expect(settled?.state).toBe('failed');
    expect(settled?.result).toMatchObject({ reached: 'not_started' });
    expect(await store.startExecution(crash.request.id)).toBe(false);
    await conversationIsFree(crash);
  });

  it('replays: sent → unknown (check Zeus), never sent → failed; Zeus is never called', async () => {
    const sent = await crashedReplay(true);
    const unsent = await crashedReplay(false);
    expect(await settler().settleOnce()).toBe(2);
    expect((await store.get(sent.id))?.state).toBe('unknown');
    expect((await store.get(sent.id))?.result).toMatchObject({ reached: 'sent' });
    expect((await store.get(unsent.id))?.state).toBe('failed');
    expect((await store.get(unsent.id))?.result).toMatchObject({ reached: 'before_write' });
    expect(zeusCalls).toEqual([]);
  });

  it('Redis unreachable: left for a later sweep rather than settled "unknown" for good', async () => {
    const crash = await crashedRestore('written');
    await leaseRunsOut(crash.id);
    const down = createRedisClient({ url: `redis://127.0.0.1:${await freePort()}`, timeoutMs: 100 });
    try {
      const blind = settler(0, {
        core: {
          ...core,
          redis: createRedisTier({ client: down, keyPrefix: stack.redis.prefix, timeoutMs: 100 }),
        },
      });
      expect(await blind.settleOnce()).toBe(0);
    } finally {
      down.disconnect();
    }
    expect((await store.get(crash.request.id))?.state).toBe('executing');
    expect(await entries(crash.request.id, 'request.settled')).toEqual([]);
    expect(await settler().settleOnce()).toBe(1);
    expect((await store.get(crash.request.id))?.state).toBe('succeeded');
  });

  it('two settlers at once: exactly one settles it and the thread hears it once', async () => {
    const crash = await crashedRestore('written');
    await leaseRunsOut(crash.id);
    const results = await Promise.all([
      settler().settleOnce(),
      settler().settleOnce(),
      settler().settleOnce(),
    ]);
    expect(results.reduce((a, b) => a + b, 0)).toBe(1);
    expect(await entries(crash.request.id, 'request.settled')).toHaveLength(1);
    expect((await store.get(crash.request.id))?.state).toBe('succeeded');
  });

  it('a settler that dies between its audit entry and the state change: the next reuses the entry', async () => {
    const crash = await crashedRestore('audited');
    await leaseRunsOut(crash.id);
    const dying = settler(0, {
      requests: {
        ...store,
        settle: async () => {
          throw new Error('connection terminated');
        },
      },
    });
    expect(await dying.settleOnce()).toBe(0);
    expect((await store.get(crash.request.id))?.state).toBe('executing');
    // Meanwhile Redis changed: the verdict already told stays the one applied.
    await stack.seed('redis', crash.id, crash.newDoc);
    expect(await settler().settleOnce()).toBe(1);
    const all = await entries(crash.request.id, 'request.settled');
    expect(all).toHaveLength(1);
    expect(all[0]?.data.outcome).toBe('failed');
    expect((await store.get(crash.request.id))?.state).toBe('failed');
  });

  it('a "never started" told by a settler that died, then its slow owner ran it: the run is judged', async () => {
    const crash = await crashedRestore('approved');
    const dying = settler(0, {
      requests: {
        ...store,
        settle: async () => {
          throw new Error('connection terminated');
        },
      },
    });
    await dying.settleOnce();
    await runUpTo(crash, 'written');
    await leaseRunsOut(crash.id);
    expect(await settler().settleOnce()).toBe(1);
    expect((await store.get(crash.request.id))?.state).toBe('succeeded');
    const told = await entries(crash.request.id, 'request.settled');
    expect(told.map((e) => e.data.reached)).toEqual(['not_started', 'write']);
  });

  it('the stuck count rises the moment the lease runs out, and falls once settled', async () => {
    const crash = await crashedRestore('locked');
    const before = await store.countAbandoned(60_000);
    await leaseRunsOut(crash.id);
    expect(await store.countAbandoned(60_000)).toBe(before + 1);
    await settler(60_000).settleOnce();
    expect(await store.countAbandoned(60_000)).toBe(before);
  });

  it('the sweeper settles on start, without waiting an interval, and keeps expiring when settling fails', async () => {
    const crash = await crashedRestore('written');
    await leaseRunsOut(crash.id);
    const s = settler();
    const errors: unknown[] = [];
    const expired: string[] = [];
    let calls = 0;
    const sweeper = createSweeper({
      store,
      notice: expiryNotice,
      onExpired: async (r) => {
        expired.push(r.id);
      },
      onError: (err) => errors.push(err),
      settle: async () => {
        calls++;
        if (calls === 2) throw new Error('redis down');
        return s.settleOnce();
      },
    });
    // An hour between ticks: the one that settles is the tick a starting replica asks for.
    const engine = await startJobEngine({ connectionString: stack.db.url, botSchema: SCHEMA, sweeps: true });
    await engine.runSweeps({
      intervalMs: 3_600_000,
      sweep: async () => void (await sweeper.sweepOnce()),
      onError: (err) => errors.push(err),
    });
    try {
      const deadline = Date.now() + 10_000;
      while ((await store.get(crash.request.id))?.state === 'executing' && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 20));
      }
      expect((await store.get(crash.request.id))?.state).toBe('succeeded');
      const due = await store.create({
        kind: 'restore',
        conversationId: `c-due-${++n}`,
        channelId: CHANNEL,
        requester: 'U_ALICE',
        reason: 'left to expire',
        plan: { ...crash.request.plan, conversationId: `c-due-${n}` },
        requiredApprovals: 1,
        ttlMinutes: 30,
      });
      await stack.db.pool.query(
        `UPDATE ${SCHEMA}.requests SET expires_at = now() - interval '1 second' WHERE id = $1`,
        [due.id],
      );
      // The first sweep may still be finishing; the one after it is where settling fails.
      while (calls < 2) await sweeper.sweepOnce();
      expect(errors).toHaveLength(1);
      expect(expired).toContain(due.id);
    } finally {
      await engine.stop();
      await sweeper.stop();
    }
  });
});

/** A replay left executing; `sent`: its replay.started entry is there (the POST may have gone). */
async function crashedReplay(sent: boolean): Promise<RecoveryRequest> {
  const id = `c-replay-${++n}`;
  const doc = makeConversation(id, 6);
  await stack.seed('redis', id, doc);
  const plan: ReplayPlan = {
    conversationId: id,
    fromStep: 4,
    stepCount: 6,
    checkpoint: null,
    steps: [],
    redisChecksum: sum(doc),
    warnings: [],
    createdAt: new Date().toISOString(),
  };
  const created = await store.create({
    kind: 'replay',
    conversationId: id,
    channelId: CHANNEL,
    requester: 'U_ALICE',
    reason: 'replay crash',
    plan,
    requiredApprovals: 1,
    ttlMinutes: 30,
  });
  const approved = await store.approve(created.id, 'U_BOB');
  if (approved.kind !== 'approved') throw new Error('not approved');
  await store.startExecution(created.id);
  if (sent) {
    await core.audit.append({
      action: 'replay.started',
      actor: 'slack:U_ALICE',
      conversationId: id,
      requestId: created.id,
      data: {
        fromStep: 4,
        steps: 3,
        stepCount: 6,
        idempotencyKey: created.id,
        redisChecksum: sum(doc),
        reason: 'replay crash',
        statusBefore: null,
      },
    });
  }
  return approved.request;
}
