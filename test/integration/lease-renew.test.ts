import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, RecoveryError } from '../../src/errors.js';
import { sha256Checksum } from '../../src/recovery/conversation.js';
import type { CoreDeps } from '../../src/recovery/deps.js';
import { executeRestore } from '../../src/recovery/execute.js';
import { keepLease } from '../../src/recovery/lease.js';
import { planRestore } from '../../src/recovery/plan.js';
import type { LockHeld, LockLease } from '../../src/store/types.js';
import { makeConversation } from '../helpers/conversations.js';
import { holding, startFaultProxy } from '../helpers/fault-proxy.js';
import { type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
let deps: CoreDeps;
let n = 0;
const freshId = () => `c-lease${++n}`;
const actor = { id: 'cli:tester', reason: 'lease test' };
/** The compare-and-set script (EVAL or EVALSHA), not the clock read just before it. */
const CAS = (chunk: Buffer) =>
  holding('eval')(chunk) && /\r\n(equal|absent)\r\n/.test(chunk.toString('latin1'));

beforeAll(async () => {
  stack = await startStack();
  deps = (await stack.runtime()).deps;
});
afterAll(async () => stack.stop());

function mustLease(r: LockLease | LockHeld): LockLease {
  if (!r.acquired) throw new Error(`expected to acquire, held by ${r.holder}`);
  return r;
}

const expiresAt = async (id: string): Promise<number | null> => {
  const res = await stack.db.pool.query<{ ms: string }>(
    `SELECT (extract(epoch FROM expires_at) * 1000)::bigint AS ms FROM zeus_recover.locks WHERE conversation_id = $1`,
    [id],
  );
  return res.rows[0] ? Number(res.rows[0].ms) : null;
};

/** Waits for a condition the code under test must bring about; fails instead of hanging. */
async function until(what: string, check: () => Promise<boolean> | boolean, tries = 200): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`never happened: ${what}`);
}

describe('lease renewal', () => {
  it('renew() extends a held lease, and never one that ran out, was taken over or released', async () => {
    const id = freshId();
    const lease = mustLease(await deps.locks.acquire(id, 'a', 60_000));
    const first = await expiresAt(id);
    expect(await lease.renew(120_000)).toBe(true);
    expect(await expiresAt(id)).toBeGreaterThan(first ?? Number.POSITIVE_INFINITY);

    // Ran out (on the database clock) and taken over: the old holder's renew is refused.
    await stack.db.pool.query(
      `UPDATE zeus_recover.locks SET expires_at = now() - interval '1 second' WHERE conversation_id = $1`,
      [id],
    );
    expect(await lease.renew(60_000)).toBe(false);
    const next = mustLease(await deps.locks.acquire(id, 'b', 60_000));
    expect(await lease.renew(60_000)).toBe(false);
    expect(await next.renew(60_000)).toBe(true);
    await next.release();
    expect(await next.renew(60_000)).toBe(false);
  });

  it('keepLease renews every third of the lease, so a slow holder is never taken over', async () => {
    const id = freshId();
    const lease = mustLease(await deps.locks.acquire(id, 'slow', 1500));
    const keeper = keepLease(lease, 1500);
    try {
      await until('three renewals', () => keeper.renewals >= 3);
      expect(await deps.locks.acquire(id, 'other', 1500)).toMatchObject({ acquired: false, holder: 'slow' });
      expect(await keeper.confirm()).toBe(true);
    } finally {
      keeper.stop();
      await lease.release();
    }
  });

  it('a restore whose steps outlast its lease keeps the lock and finishes', async () => {
    const id = freshId();
    await stack.seed('postgres', id, makeConversation(id, 4));
    // A short lease needs a Redis write budget well inside it.
    const short = { ...(await stack.runtime({ REDIS_TIMEOUT_MS: '400' })).deps, lockLeaseMs: 1500 };
    const plan = await planRestore(short, id, { kind: 'tier', tier: 'postgres' });
    let refused: LockLease | LockHeld | null = null;
    const result = await executeRestore(short, plan, actor, {
      onStep: async (step) => {
        if (step !== 'write') return;
        // The slow step: sit here until the lease has been pushed out twice beyond its first end.
        const firstEnd = (await expiresAt(id)) ?? 0;
        let seen = firstEnd;
        let pushes = 0;
        await until('two renewals during the slow step', async () => {
          const now = (await expiresAt(id)) ?? 0;
          if (now > seen) {
            pushes++;
            seen = now;
          }
          return pushes >= 2 && now > firstEnd + 500;
        });
        refused = await deps.locks.acquire(id, 'another replica', 1500);
      },
    });
    expect(refused).toMatchObject({ acquired: false });
    expect(result.restored).toBe(true);
    const held = await stack.redis.client.getBuffer(stack.redis.key(id));
    expect(held && sha256Checksum(held)).toBe(plan.target.checksum);
  });

  it('a restore that lost its lease before the write writes nothing and says why', async () => {
    const id = freshId();
    const before = makeConversation(id, 2);
    await stack.seed('redis', id, before);
    await stack.seed('postgres', id, makeConversation(id, 6));
    const plan = await planRestore(deps, id, { kind: 'tier', tier: 'postgres' });
    const err = await executeRestore(deps, plan, actor, {
      onStep: async (step) => {
        if (step !== 'write') return;
        // Another replica judged the lease expired and took the conversation.
        await stack.db.pool.query(
          `UPDATE zeus_recover.locks SET expires_at = now() - interval '1 second' WHERE conversation_id = $1`,
          [id],
        );
        mustLease(await deps.locks.acquire(id, 'another replica', 60_000));
      },
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecoveryError);
    expect((err as RecoveryError).code).toBe(ErrorCode.Locked);
    expect((err as RecoveryError).hint).toMatch(/^Nothing was written/);
    expect((await stack.redis.client.getBuffer(stack.redis.key(id)))?.toString()).toBe(before);
    // Its release must not free the lock the other replica now holds.
    expect(await deps.locks.acquire(id, 'third', 60_000)).toMatchObject({ holder: 'another replica' });
  });

  it('fences the write inside a lease shorter than the Redis budget: held past it, it never lands', async () => {
    const id = freshId();
    const before = makeConversation(id, 2);
    await stack.seed('redis', id, before);
    await stack.seed('postgres', id, makeConversation(id, 6));
    const proxy = await startFaultProxy({ port: Number(new URL(stack.env.REDIS_URL ?? '').port || 6379) });
    try {
      // The tier allows 2000 ms; a 1000 ms lease allows the write less, and that is the fence.
      const viaProxy = (await stack.runtime({ REDIS_URL: `redis://${proxy.address}` })).deps;
      const short = { ...viaProxy, lockLeaseMs: 1000 };
      const plan = await planRestore(short, id, { kind: 'tier', tier: 'postgres' });
      // Held on the way for longer than the lease allows, though within the tier's own budget.
      const armed = proxy.arm({ match: CAS, fault: { holdMs: 1500 } });
      const err = await executeRestore(short, plan, actor, { settleDelaysMs: [100, 300] }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(RecoveryError);
      expect((err as RecoveryError).hint).toMatch(/^Nothing was written/);
      await armed.delivered;
      // The held script is on its way to Redis; give it the moment it needs to run.
      await new Promise((r) => setTimeout(r, 300));
      expect((await stack.redis.client.getBuffer(stack.redis.key(id)))?.toString()).toBe(before);
    } finally {
      await proxy.stop();
    }
  });
});
