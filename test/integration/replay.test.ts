import { createServer } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { DEFAULT_STATUS_SCRIPT, startZeusStandin, type ZeusStandin } from '../../sandbox/zeus/zeus.js';
import { ErrorCode } from '../../src/errors.js';
import type { CoreDeps } from '../../src/recovery/deps.js';
import {
  createZeusClient,
  executeReplay,
  newRequestId,
  planReplay,
  validateConversation,
  type ZeusClient,
  type ZeusStatus,
} from '../../src/recovery/index.js';
import { makeConversation, stepTs } from '../helpers/conversations.js';
import { recoveryError } from '../helpers/errors.js';
import { type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
let zeus: ZeusStandin;
let deps: CoreDeps;
let n = 0;
const freshId = () => `c-rp${++n}`;
const actor = (requestId = newRequestId()) => ({ id: 'cli:tester', reason: 'INC-9 stuck', requestId });

beforeAll(async () => {
  [stack, zeus] = await Promise.all([startStack(), startZeusStandin()]);
  const rt = await stack.runtime({ ZEUS_API_URL: zeus.url, ZEUS_API_TOKEN: zeus.token });
  deps = rt.deps;
});
afterAll(async () => {
  await Promise.all([stack.stop(), zeus.close()]);
});
beforeEach(() => zeus.setStatusScript(DEFAULT_STATUS_SCRIPT));

/** A client on the stand-in with short budgets, whose retry waits are skipped. */
function fastClient(timeoutMs = 1000): ZeusClient {
  return createZeusClient({ baseUrl: zeus.url, token: zeus.token, timeoutMs, sleep: async () => {} });
}

/** Seeds Redis with 6 steps and checkpoint 4. */
async function seeded(): Promise<string> {
  const id = freshId();
  await stack.seed('redis', id, makeConversation(id, 6, { checkpoint: 4 }));
  return id;
}

async function auditRows(id: string): Promise<Array<{ action: string; data: Record<string, unknown> }>> {
  const { rows } = await stack.db.pool.query<{ action: string; data: string }>(
    'SELECT action, data FROM zeus_recover.audit_log WHERE conversation_id = $1 ORDER BY seq',
    [id],
  );
  return rows.map((r) => ({ action: r.action, data: JSON.parse(r.data) as Record<string, unknown> }));
}

const postsFor = (id: string) =>
  zeus
    .replayCalls()
    .filter((c) => (c.json as { conversation_id?: string } | undefined)?.conversation_id === id);

/** A port nothing listens on (fetch refuses some well-known ports outright, so not 9 or 1). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('planReplay', () => {
  it('lists the steps that would be re-run, with roles and times', async () => {
    const id = await seeded();
    const plan = await planReplay(deps, id, 5);
    expect(plan).toMatchObject({
      conversationId: id,
      fromStep: 5,
      stepCount: 6,
      checkpoint: 4,
      warnings: [],
    });
    expect(plan.steps.map((s) => [s.step, s.role, s.ts])).toEqual([
      [5, 'user', stepTs(5)],
      [6, 'assistant', stepTs(6)],
    ]);
    expect(plan.redisChecksum).toMatch(/^sha256:[0-9a-f]{64}$/);
  });

  it('warns when the step is before the checkpoint', async () => {
    const id = await seeded();
    const plan = await planReplay(deps, id, 2);
    expect(plan.steps.map((s) => s.step)).toEqual([2, 3, 4, 5, 6]);
    expect(plan.warnings).toEqual([
      'Step 2 is before the checkpoint (4): steps 2–3 were already checkpointed and will be re-run.',
    ]);
    expect((await planReplay(deps, id, 3)).warnings[0]).toContain('step 3 was already checkpointed');
    expect((await planReplay(deps, id, 4)).warnings).toEqual([]);
  });

  it('refuses a step outside 1..n or not a whole number, before anything is sent or audited', async () => {
    const id = await seeded();
    const posts = zeus.replayCalls().length;
    const err = await recoveryError(planReplay(deps, id, 9));
    expect(err.code).toBe(ErrorCode.InvalidInput);
    expect(err.message).toBe(`Step 9 is outside 1..6 for ${id}.`);
    expect(err.hint).toBe('Pick a step between 1 and 6; the checkpoint is 4.');
    for (const bad of [0, 7, -1, 2.5, Number.NaN]) {
      expect((await recoveryError(planReplay(deps, id, bad))).code).toBe(ErrorCode.InvalidInput);
    }
    expect(zeus.replayCalls().length).toBe(posts);
    expect(await auditRows(id)).toEqual([]);
  });

  it('refuses when Redis has no valid copy, pointing at restore', async () => {
    const missing = freshId();
    await stack.seed('postgres', missing, makeConversation(missing, 3));
    const m = await recoveryError(planReplay(deps, missing, 1));
    expect(m.code).toBe(ErrorCode.NotFound);
    expect(m.hint).toContain(`restore ${missing}`);

    const broken = freshId();
    await stack.seed('redis', broken, '{"id": "someone-else", "steps": []}');
    const b = await recoveryError(planReplay(deps, broken, 1));
    expect(b.code).toBe(ErrorCode.SourceInvalid);
    expect(b.hint).toContain('restore');
  });

  it('refuses a hostile id before reading anything', async () => {
    expect((await recoveryError(planReplay(deps, '../x', 1))).code).toBe(ErrorCode.InvalidId);
  });
});

describe('executeReplay', () => {
  it('POSTs once, follows the status to done, calling onProgress on each change', async () => {
    const id = await seeded();
    zeus.setStatusScript([
      { state: 'running', step: 3, total: 6 },
      { state: 'running', step: 3, total: 6 },
      { state: 'running', step: 5, total: 6 },
      { state: 'done', step: 6, total: 6, message: 'replay complete' },
    ]);
    const plan = await planReplay(deps, id, 3);
    const who = actor();
    const seen: ZeusStatus[] = [];
    const waits: number[] = [];
    const result = await executeReplay(deps, plan, who, {
      zeus: fastClient(),
      pollMs: 25,
      onProgress: (s) => {
        seen.push(s);
      },
      sleep: async (ms) => {
        waits.push(ms);
      },
    });
    expect(result).toMatchObject({
      conversationId: id,
      fromStep: 3,
      requestId: who.requestId,
      outcome: 'done',
      ambiguous: false,
      polls: 4,
      replayId: expect.stringMatching(/^rp_/),
      lastStatus: { state: 'done', step: 6, total: 6 },
    });
    expect(seen.map((s) => `${s.state}:${s.step}`)).toEqual(['running:3', 'running:5', 'done:6']);
    expect(waits).toEqual([25, 25, 25]);

    const posts = postsFor(id);
    expect(posts).toHaveLength(1);
    expect(posts[0]?.json).toEqual({ conversation_id: id, from_step: 3 });
    expect(posts[0]?.headers.authorization).toBe(`Bearer ${zeus.token}`);
    expect(posts[0]?.headers['idempotency-key']).toBe(who.requestId);

    const audit = await auditRows(id);
    expect(audit.map((a) => a.action)).toEqual(['replay.started', 'replay.succeeded']);
    expect(audit[0]?.data).toMatchObject({
      fromStep: 3,
      steps: 4,
      idempotencyKey: who.requestId,
      statusBefore: { state: 'idle' },
    });
    expect(audit[1]?.data).toMatchObject({ outcome: 'done', polls: 4, status: { state: 'done', step: 6 } });
    // Summaries only: no conversation content in the audit log.
    expect(JSON.stringify(audit)).not.toMatch(/question|answer \d/);
  });

  it('refuses with Stale and sends nothing when Redis changed since the plan', async () => {
    const id = await seeded();
    const plan = await planReplay(deps, id, 5);
    await stack.seed('redis', id, makeConversation(id, 7, { checkpoint: 4 }));
    const err = await recoveryError(executeReplay(deps, plan, actor(), { zeus: fastClient() }));
    expect(err.code).toBe(ErrorCode.Stale);
    expect(err.hint).toContain('Nothing was sent');
    expect(postsFor(id)).toHaveLength(0);
    const audit = await auditRows(id);
    expect(audit.map((a) => a.action)).toEqual(['replay.failed']);
    expect(audit[0]?.data).toMatchObject({ sent: false, code: ErrorCode.Stale });
  });

  it('refuses while a restore holds the conversation lock', async () => {
    const id = await seeded();
    const plan = await planReplay(deps, id, 5);
    const lease = await deps.locks.acquire(id, 'cli:someone (request rq_other)', 60_000);
    try {
      const err = await recoveryError(executeReplay(deps, plan, actor(), { zeus: fastClient() }));
      expect(err.code).toBe(ErrorCode.Locked);
      expect(err.message).toMatch(
        /locked by cli:someone for request rq_other since .* \(lease renewed until/,
      );
      expect(postsFor(id)).toHaveLength(0);
      // Told, not silent: an approved replay's thread says why it did not run.
      const audit = await auditRows(id);
      expect(audit.map((a) => a.action)).toEqual(['replay.failed']);
      expect(audit[0]?.data).toMatchObject({ sent: false, code: ErrorCode.Locked });
    } finally {
      if (lease.acquired) await lease.release();
    }
  });

  it('no answer to the POST: never re-sent; the status says Zeus took it and is followed to done', async () => {
    const id = await seeded();
    zeus.stallNext(1500);
    const plan = await planReplay(deps, id, 4);
    const seen: string[] = [];
    const result = await executeReplay(deps, plan, actor(), {
      zeus: fastClient(200),
      pollMs: 10,
      onProgress: (s) => {
        seen.push(`${s.state}:${s.step}`);
      },
    });
    expect(postsFor(id)).toHaveLength(1);
    expect(result).toMatchObject({ outcome: 'done', ambiguous: true, replayId: null });
    expect(result.detail).toContain('so it was not sent again');
    expect(seen).toEqual(['running:3', 'running:5', 'done:6']);
    const audit = await auditRows(id);
    expect(audit.map((a) => a.action)).toEqual(['replay.started', 'replay.ambiguous', 'replay.succeeded']);
    expect(audit[1]?.data).toMatchObject({
      statusBefore: { state: 'idle' },
      status: { state: 'running', step: 3 },
    });
    expect(String(audit[1]?.data.error)).toMatch(/no answer within 200 ms/);
  });

  it('an unclear POST that Zeus shows no sign of: outcome unknown, reported, not re-sent', async () => {
    const id = await seeded();
    zeus.failNext(500); // answered, but nothing started
    const plan = await planReplay(deps, id, 4);
    const result = await executeReplay(deps, plan, actor(), { zeus: fastClient(), pollMs: 10 });
    expect(postsFor(id)).toHaveLength(1);
    expect(result).toMatchObject({ outcome: 'unknown', ambiguous: true, lastStatus: { state: 'idle' } });
    expect(result.detail).toContain('may not have reached Zeus');
    expect(result.detail).toContain('Nothing was re-sent');
    expect((await auditRows(id)).map((a) => a.action)).toEqual([
      'replay.started',
      'replay.ambiguous',
      'replay.unknown',
    ]);
  });

  it('a reset after sending is ambiguous too, and followed through the status', async () => {
    const id = await seeded();
    zeus.resetNext();
    const plan = await planReplay(deps, id, 6);
    const result = await executeReplay(deps, plan, actor(), { zeus: fastClient(), pollMs: 10 });
    expect(postsFor(id)).toHaveLength(1);
    expect(result).toMatchObject({ outcome: 'done', ambiguous: true });
  });

  it('Zeus reports failed: outcome failed, with its message', async () => {
    const id = await seeded();
    zeus.failReplay('tool call failed at step 5');
    const plan = await planReplay(deps, id, 4);
    const result = await executeReplay(deps, plan, actor(), { zeus: fastClient(), pollMs: 10 });
    expect(result.outcome).toBe('failed');
    expect(result.lastStatus?.message).toBe('tool call failed at step 5');
    expect(result.detail).toContain('tool call failed at step 5');
    const audit = await auditRows(id);
    expect(audit.map((a) => a.action)).toEqual(['replay.started', 'replay.failed']);
    expect(audit[1]?.data).toMatchObject({ outcome: 'failed', sent: true, status: { state: 'failed' } });
  });

  it('a replay that never finishes: timed_out after the follow budget', async () => {
    const id = await seeded();
    zeus.neverFinish();
    const plan = await planReplay(deps, id, 4);
    const progress: string[] = [];
    const result = await executeReplay(deps, plan, actor(), {
      zeus: fastClient(),
      pollMs: 20,
      timeoutMs: 200,
      onProgress: (s) => {
        progress.push(s.state);
      },
    });
    expect(result.outcome).toBe('timed_out');
    expect(result.polls).toBeGreaterThan(2);
    expect(progress).toEqual(['running']);
    expect(result.detail).toContain('had not finished after 200 ms (last status: running, step 2/6');
    expect((await auditRows(id)).map((a) => a.action)).toEqual(['replay.started', 'replay.timed_out']);
    expect(postsFor(id)).toHaveLength(1);
  });

  it('a progress callback that throws does not abandon the replay', async () => {
    const id = await seeded();
    const plan = await planReplay(deps, id, 4);
    const result = await executeReplay(deps, plan, actor(), {
      zeus: fastClient(),
      pollMs: 5,
      onProgress: () => {
        throw new Error('Slack is down');
      },
    });
    expect(result.outcome).toBe('done');
  });

  it('a bad token: a clear error about ZEUS_API_TOKEN, audited as failed', async () => {
    const id = await seeded();
    const plan = await planReplay(deps, id, 4);
    const wrong = createZeusClient({
      baseUrl: zeus.url,
      token: 'not-the-token-abc123',
      sleep: async () => {},
    });
    const err = await recoveryError(executeReplay(deps, plan, actor(), { zeus: wrong }));
    expect(err.code).toBe(ErrorCode.ZeusApi);
    expect(err.hint).toContain('ZEUS_API_TOKEN');
    expect(err.toUserText()).not.toContain('not-the-token-abc123');
    const audit = await auditRows(id);
    expect(audit.map((a) => a.action)).toEqual(['replay.started', 'replay.failed']);
    expect(audit[1]?.data).toMatchObject({ sent: true, code: ErrorCode.ZeusApi });
    expect(JSON.stringify(audit)).not.toContain('not-the-token-abc123');
  });

  it('Zeus unreachable: retried, then a clear error; audited as failed and not sent', async () => {
    const id = await seeded();
    const plan = await planReplay(deps, id, 4);
    const offline = createZeusClient({
      baseUrl: `http://127.0.0.1:${await closedPort()}`,
      token: 't',
      sleep: async () => {},
    });
    const err = await recoveryError(executeReplay(deps, plan, actor(), { zeus: offline }));
    expect(err.code).toBe(ErrorCode.ZeusApi);
    expect(err.message).toContain('nothing was sent');
    const audit = await auditRows(id);
    expect(audit.map((a) => a.action)).toEqual(['replay.started', 'replay.failed']);
    expect(audit[0]?.data).toMatchObject({ statusBefore: null });
    expect(audit[1]?.data).toMatchObject({ sent: false, code: ErrorCode.ZeusApi });
  });

  it('holds an ordinary lease renewed while it follows, not one as long as the follow: a crashed replay frees its conversation within a lease', async () => {
    const id = await seeded();
    zeus.setStatusScript([
      { state: 'running', step: 4, total: 6 },
      { state: 'running', step: 5, total: 6 },
      { state: 'done', step: 6, total: 6 },
    ]);
    const short = { ...deps, lockLeaseMs: 600 };
    const plan = await planReplay(short, id, 4);
    /** What is left of the lease on the database clock, or null when nobody holds it. */
    const leaseLeftMs = async (): Promise<number | null> => {
      const res = await stack.db.pool.query<{ ms: string }>(
        `SELECT (extract(epoch FROM expires_at - now()) * 1000)::bigint AS ms FROM zeus_recover.locks WHERE conversation_id = $1`,
        [id],
      );
      return res.rows[0] ? Number(res.rows[0].ms) : null;
    };
    const expiresAt = async (): Promise<string | null> => {
      const res = await stack.db.pool.query<{ at: string }>(
        'SELECT expires_at::text AS at FROM zeus_recover.locks WHERE conversation_id = $1',
        [id],
      );
      return res.rows[0]?.at ?? null;
    };
    let left: number | null = null;
    let renewedTwice = false;
    let other: unknown = null;
    const result = await executeReplay(short, plan, actor(), {
      zeus: fastClient(),
      // A long follow: the old lease, as long as the follow plus a minute, kept a crashed
      // replay's conversation locked for all of it.
      timeoutMs: 10 * 60_000,
      pollMs: 10,
      sleep: async () => {
        if (renewedTwice) return;
        // The first wait of the follow outlasts the lease several times over.
        left = await leaseLeftMs();
        const seen = new Set([await expiresAt()]);
        for (let i = 0; i < 200 && seen.size < 3; i++) {
          await new Promise((r) => setTimeout(r, 25));
          seen.add(await expiresAt());
        }
        renewedTwice = seen.size >= 3;
        other = await deps.locks.acquire(id, 'another replica', 600);
      },
    });
    expect(result.outcome).toBe('done');
    expect(left).not.toBeNull();
    expect(left).toBeLessThanOrEqual(600);
    expect(renewedTwice).toBe(true);
    expect(other).toMatchObject({ acquired: false });
    expect(await leaseLeftMs()).toBeNull();
  });

  it('the lock is released afterwards: a second replay can run', async () => {
    const id = await seeded();
    const first = await executeReplay(deps, await planReplay(deps, id, 5), actor(), {
      zeus: fastClient(),
      pollMs: 5,
    });
    const second = await executeReplay(deps, await planReplay(deps, id, 6), actor(), {
      zeus: fastClient(),
      pollMs: 5,
    });
    expect([first.outcome, second.outcome]).toEqual(['done', 'done']);
    expect(postsFor(id)).toHaveLength(2);
  });
});

describe('validate with Zeus configured', () => {
  async function everywhere(): Promise<string> {
    const id = freshId();
    const doc = makeConversation(id, 6, { checkpoint: 4 });
    await Promise.all([
      stack.seed('redis', id, doc),
      stack.seed('postgres', id, doc),
      stack.seed('s3', id, doc),
    ]);
    return id;
  }

  it("includes Zeus's status and keeps a healthy verdict while Zeus is fine", async () => {
    const id = await everywhere();
    const report = await validateConversation(deps, id);
    expect(report.zeus).toEqual({ state: 'idle', step: null, total: null, message: null });
    expect(report.verdict).toBe('healthy');
  });

  it('a failed Zeus state makes the verdict degraded and says so', async () => {
    const id = await everywhere();
    zeus.setStatusScript([{ state: 'failed', step: 5, total: 6, message: 'tool call failed' }]);
    await fastClient().replay(id, 5, newRequestId());
    const report = await validateConversation(deps, id);
    expect(report.zeus).toMatchObject({ state: 'failed', step: 5, message: 'tool call failed' });
    expect(report.verdict).toBe('degraded');
    expect(report.summary).toContain('Zeus reports the conversation failed at step 5/6: tool call failed.');
    expect(report.next).toBe(`/zeus-recover replay ${id} --from-step 4`);
  });

  it('Zeus unreachable: an error in the report, the tiers still judged', async () => {
    const id = await everywhere();
    const offline = await stack.runtime({
      ZEUS_API_URL: `http://127.0.0.1:${await closedPort()}`,
      ZEUS_API_TOKEN: 't',
    });
    const report = await validateConversation(offline.deps, id);
    expect(report.zeus).toMatchObject({ error: expect.stringMatching(/unreachable|no answer/) });
    expect(report.verdict).toBe('healthy');
  });

  it('without Zeus configured there is no zeus field', async () => {
    const id = await everywhere();
    const plain = await stack.runtime();
    expect('zeus' in (await validateConversation(plain.deps, id))).toBe(false);
  });
});
