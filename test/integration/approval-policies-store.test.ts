import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { RestorePlan } from '../../src/recovery/plan.js';
import {
  type BreakerReset,
  blastRadiusStatus,
  breakerFailuresInARow,
  createBreakerResetStore,
  HourlyLimitReached,
} from '../../src/store/blast-radius.js';
import { createRequestStore, type NewRequest, type RequestStore } from '../../src/store/requests.js';
import { withAuditInsertCut } from '../helpers/audit-cut.js';
import { storedPlan, useMigratedStore } from '../helpers/store.js';

/**
 * The approval policies' state in real Postgres, with several pools standing in for replicas:
 * the hourly limit counted and taken under one lock, one approval per group, the breaker's count.
 */

const SCHEMA = 'zeus_recover';
const fixture = useMigratedStore('zr_policies', SCHEMA, createRequestStore);
let seq = 0;

function input(overrides: Partial<NewRequest> = {}): NewRequest {
  const conversationId = overrides.conversationId ?? `c-pol-${++seq}-${Date.now().toString(36)}`;
  const plan: RestorePlan = storedPlan(conversationId);
  return {
    kind: 'restore',
    conversationId,
    channelId: 'C0INC',
    requester: 'UREQ',
    reason: 'policies',
    plan,
    requiredApprovals: 2,
    ttlMinutes: 30,
    ...overrides,
  };
}

async function withPools<T>(n: number, fn: (stores: RequestStore[]) => Promise<T>): Promise<T> {
  const pools = Array.from({ length: n }, () => new pg.Pool({ connectionString: fixture.db.url, max: 2 }));
  // Connected before the race starts, so the replicas really do count at the same moment.
  await Promise.all(pools.map(async (p) => Promise.all([p.query('SELECT 1'), p.query('SELECT 1')])));
  try {
    return await fn(pools.map((p) => createRequestStore(p, SCHEMA)));
  } finally {
    await Promise.all(pools.map((p) => p.end()));
  }
}

async function clearRequests(): Promise<void> {
  await fixture.db.pool.query(`TRUNCATE ${SCHEMA}.requests CASCADE`);
  await fixture.db.pool.query(`TRUNCATE ${SCHEMA}.breaker_resets`);
}

describe('hourly limit', () => {
  it('eight replicas opening at once with 2 slots left: exactly 2 open, 6 are refused with the count', async () => {
    await clearRequests();
    const outcomes = await withPools(8, (stores) =>
      Promise.allSettled(stores.map((store) => store.create(input({ maxPerHour: 2 })))),
    );
    const opened = outcomes.filter((o) => o.status === 'fulfilled');
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
    expect(opened).toHaveLength(2);
    expect(refused).toHaveLength(6);
    for (const err of refused) {
      expect(err).toBeInstanceOf(HourlyLimitReached);
      expect(err).toMatchObject({ used: 2, max: 2 });
    }
    const { rows } = await fixture.db.pool.query<{ created_at: Date }>(
      `SELECT created_at FROM ${SCHEMA}.requests ORDER BY created_at`,
    );
    expect(rows).toHaveLength(2);
    const status = await blastRadiusStatus(fixture.db.pool, SCHEMA, { maxPerHour: 2, breakerFailures: null });
    // The oldest of the two counted ages out first.
    expect(status.hourly).toEqual({
      max: 2,
      used: 2,
      freesAt: new Date((rows[0]?.created_at.getTime() ?? 0) + 3_600_000).toISOString(),
    });
  });

  it('a cancelled or denied request frees its slot at once; one opened over an hour ago does not count', async () => {
    await clearRequests();
    const store = fixture.store;
    const a = await store.create(input({ maxPerHour: 2 }));
    const b = await store.create(input({ maxPerHour: 2 }));
    await expect(store.create(input({ maxPerHour: 2 }))).rejects.toBeInstanceOf(HourlyLimitReached);
    await store.cancel(a.id, 'UREQ');
    await store.create(input({ maxPerHour: 2 }));
    await store.deny(b.id, 'UAPPROVER', 'not now');
    const d = await store.create(input({ maxPerHour: 2 }));
    await fixture.db.pool.query(
      `UPDATE ${SCHEMA}.requests SET created_at = now() - interval '61 minutes' WHERE id = $1`,
      [d.id],
    );
    await store.create(input({ maxPerHour: 2 }));
    const status = await blastRadiusStatus(fixture.db.pool, SCHEMA, { maxPerHour: 2, breakerFailures: null });
    expect(status.hourly.used).toBe(2);
    // Without a limit nothing is counted against it.
    await store.create(input({ maxPerHour: null }));
  });
});

describe('one approval per group', () => {
  it('two replicas approving for the same group at once: one counts, the other is told the group is taken', async () => {
    const request = await fixture.store.create(input({ approverGroups: ['S1', 'S2'] }));
    const outcomes = await withPools(2, ([one, two]) =>
      Promise.all([
        one?.approve(request.id, 'U_CAROL', { groupId: 'S1' }),
        two?.approve(request.id, 'U_ERIN', { groupId: 'S1' }),
      ]),
    );
    expect(outcomes.map((o) => o?.kind).sort()).toEqual(['group_taken', 'partial']);
    const done = await fixture.store.approve(request.id, 'U_FRANK', { groupId: 'S2' });
    expect(done.kind).toBe('approved');
    if (done.kind !== 'approved') return;
    expect(done.request.approverGroups).toEqual(['S1', 'S2']);
    expect(done.request.approvals.map((a) => a.groupId).sort()).toEqual(['S1', 'S2']);
  });

  it('the same person twice is a duplicate, not a taken group', async () => {
    const request = await fixture.store.create(input({ approverGroups: ['S1', 'S2'] }));
    await fixture.store.approve(request.id, 'U_CAROL', { groupId: 'S1' });
    expect((await fixture.store.approve(request.id, 'U_CAROL', { groupId: 'S1' })).kind).toBe('duplicate');
  });
});

describe('the breaker', () => {
  async function finished(state: 'succeeded' | 'failed' | 'unknown'): Promise<void> {
    const r = await fixture.store.create(input({ requiredApprovals: 1 }));
    await fixture.store.approve(r.id, 'UAPPROVER');
    await fixture.store.startExecution(r.id);
    await fixture.store.finish(r.id, state, {});
  }

  it('counts failures since the last success or approved reset, and refuses approvals while open', async () => {
    await clearRequests();
    await finished('failed');
    await finished('succeeded');
    expect(await breakerFailuresInARow(fixture.db.pool, SCHEMA)).toBe(0);
    await finished('failed');
    await finished('unknown');
    expect(await breakerFailuresInARow(fixture.db.pool, SCHEMA)).toBe(2);

    const waiting = await fixture.store.create(input({ requiredApprovals: 1 }));
    const blocked = await fixture.store.approve(waiting.id, 'UAPPROVER', { breakerFailures: 2 });
    expect(blocked).toMatchObject({ kind: 'breaker_open', failuresInARow: 2, threshold: 2 });
    expect((await fixture.store.get(waiting.id))?.approvals).toEqual([]);

    const resets = createBreakerResetStore(fixture.db.pool, SCHEMA);
    const asked = await resets.request({ channelId: 'C0INC', requester: 'UREQ', reason: 'fixed' });
    expect(asked.created).toBe(true);
    // One waits at a time: a second ask gets the waiting one.
    const again = await resets.request({ channelId: 'C0INC', requester: 'UOTHER', reason: 'me too' });
    expect(again).toMatchObject({ created: false, reset: { id: asked.reset.id } });
    expect((await resets.approve(asked.reset.id, 'UREQ')).kind).toBe('own_request');
    const status = await blastRadiusStatus(fixture.db.pool, SCHEMA, { maxPerHour: null, breakerFailures: 2 });
    expect(status.breaker).toMatchObject({
      open: true,
      failuresInARow: 2,
      resetPending: { id: asked.reset.id },
    });
    expect((await resets.approve(asked.reset.id, 'UAPPROVER')).kind).toBe('approved');
    expect(await breakerFailuresInARow(fixture.db.pool, SCHEMA)).toBe(0);
    expect((await fixture.store.approve(waiting.id, 'UAPPROVER', { breakerFailures: 2 })).kind).toBe(
      'approved',
    );
  });
  it("a reset's approval and its breaker.reset_approved entry are one transaction: cut there, the breaker stays open and the next click closes and tells it once", async () => {
    await clearRequests();
    await finished('failed');
    await finished('failed');
    const resets = createBreakerResetStore(fixture.db.pool, SCHEMA);
    const { reset } = await resets.request({ channelId: 'C0INC', requester: 'UREQ', reason: 'fixed' });
    const notice = (done: BreakerReset) => ({
      event: {
        action: 'breaker.reset_approved' as const,
        actor: 'slack:UAPPROVER',
        conversationId: null,
        requestId: null,
        data: { resetId: done.id, requester: done.requester, reason: done.reason, approvedBy: 'UAPPROVER' },
      },
      options: { deliverTo: { channelId: done.channelId } },
    });
    const told = async () =>
      (
        await fixture.db.pool.query(
          `SELECT d.channel_id FROM ${SCHEMA}.audit_log a JOIN ${SCHEMA}.audit_deliveries d ON d.seq = a.seq
            WHERE a.action = 'breaker.reset_approved' AND a.data::jsonb->>'resetId' = $1`,
          [reset.id],
        )
      ).rows;
    await withAuditInsertCut(fixture.db.url, async (pool) => {
      await expect(
        createBreakerResetStore(pool, SCHEMA).approve(reset.id, 'UAPPROVER', notice),
      ).rejects.toThrow();
    });
    expect((await resets.get(reset.id))?.state).toBe('requested');
    expect(await breakerFailuresInARow(fixture.db.pool, SCHEMA)).toBe(2);
    expect(await told()).toEqual([]);

    expect(await resets.approve(reset.id, 'UAPPROVER', notice)).toMatchObject({
      kind: 'approved',
      entry: { action: 'breaker.reset_approved' },
    });
    expect((await resets.approve(reset.id, 'UOTHER', notice)).kind).toBe('none');
    expect(await breakerFailuresInARow(fixture.db.pool, SCHEMA)).toBe(0);
    expect(await told()).toEqual([{ channel_id: 'C0INC' }]);
  });
});
