import pg from 'pg';
import { describe, expect, it } from 'vitest';
import type { RecoveryRequest } from '../../src/approval/types.js';
import { ErrorCode } from '../../src/errors.js';
import type { RestorePlan } from '../../src/recovery/plan.js';
import {
  type ApproveOptions,
  createRequestStore,
  type NewRequest,
  OpenRequestConflict,
  type RequestStore,
} from '../../src/store/requests.js';
import { notOpenText, openConflictText, refusalText } from '../../src/views/approval-refusals.js';
import { withAuditInsertCut } from '../helpers/audit-cut.js';
import { storedPlan, useMigratedStore } from '../helpers/store.js';

const SCHEMA = 'zeus_recover';
const fixture = useMigratedStore('zr_req', SCHEMA, createRequestStore);
let seq = 0;

function planFor(conversationId: string): RestorePlan {
  return storedPlan(conversationId, {
    current: {
      exists: true,
      checksum: `sha256:${'b'.repeat(64)}`,
      bytes: 300,
      ttlMs: 86_400_000,
      analysis: null,
    },
    diff: {
      added: [
        { step: 3, role: 'assistant', ts: '2025-12-13T10:00:09.000Z', hash: `sha256:${'c'.repeat(64)}` },
      ],
      removed: [],
      changed: [],
      unchanged: 2,
      identical: false,
    },
    warnings: ['émoji 🚑 and "quotes" survive'],
  });
}

/** A fresh conversation per test, so the open-request guard never couples tests. */
function input(overrides: Partial<NewRequest> = {}): NewRequest {
  const conversationId = overrides.conversationId ?? `c-${++seq}-${Date.now().toString(36)}`;
  return {
    kind: 'restore',
    conversationId,
    channelId: 'C0INC',
    requester: 'UREQ',
    reason: 'Redis lost the last two steps',
    plan: planFor(conversationId),
    requiredApprovals: 1,
    ttlMinutes: 30,
    ...overrides,
  };
}

async function backdate(id: string): Promise<void> {
  await fixture.db.pool.query(
    `UPDATE ${SCHEMA}.requests SET expires_at = now() - interval '1 minute' WHERE id = $1`,
    [id],
  );
}

async function stateOf(id: string): Promise<string | undefined> {
  const res = await fixture.db.pool.query<{ state: string }>(
    `SELECT state FROM ${SCHEMA}.requests WHERE id = $1`,
    [id],
  );
  return res.rows[0]?.state;
}

async function withPools<T>(n: number, fn: (stores: RequestStore[]) => Promise<T>): Promise<T> {
  const pools = Array.from({ length: n }, () => new pg.Pool({ connectionString: fixture.db.url, max: 3 }));
  try {
    return await fn(pools.map((p) => createRequestStore(p, SCHEMA)));
  } finally {
    await Promise.all(pools.map((p) => p.end()));
  }
}

describe('create and get', () => {
  it('round-trips a request, plan included, with DB-clock expiry', async () => {
    const req = input({ kind: 'undo', requiredApprovals: 2, ttlMinutes: 30 });
    const created = await fixture.store.create(req);
    expect(created.id).toMatch(/^rq_[0-9a-f-]{36}$/);
    expect(created).toMatchObject({
      kind: 'undo',
      conversationId: req.conversationId,
      channelId: 'C0INC',
      requester: 'UREQ',
      reason: 'Redis lost the last two steps',
      state: 'requested',
      requiredApprovals: 2,
      approvals: [],
      decidedBy: null,
      decidedAt: null,
      denyReason: null,
      result: null,
    });
    const window = Date.parse(created.expiresAt) - Date.parse(created.createdAt);
    expect(window).toBe(30 * 60_000);
    const fetched = await fixture.store.get(created.id);
    expect(fetched).toEqual(created);
    expect(fetched?.plan).toEqual(req.plan);
    expect(await fixture.store.get('rq_00000000-0000-0000-0000-000000000000')).toBeNull();
  });

  it('refuses bad input before touching the database', async () => {
    await expect(fixture.store.create(input({ reason: '   ' }))).rejects.toMatchObject({
      code: ErrorCode.InvalidInput,
    });
    await expect(fixture.store.create(input({ requiredApprovals: 0 }))).rejects.toMatchObject({
      code: ErrorCode.Config,
    });
    await expect(fixture.store.create(input({ ttlMinutes: 0 }))).rejects.toMatchObject({
      code: ErrorCode.Config,
    });
    await expect(fixture.store.create(input({ plan: planFor('c-other') }))).rejects.toMatchObject({
      code: ErrorCode.InvalidInput,
    });
  });
});

describe('one open request per conversation', () => {
  it('refuses a second request while one is open, naming it and what to do', async () => {
    const first = await fixture.store.create(input());
    const err = await fixture.store
      .create(input({ conversationId: first.conversationId, kind: 'replay' }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenRequestConflict);
    const e = err as OpenRequestConflict;
    expect(e.code).toBe(ErrorCode.RequestState);
    expect(e.open.id).toBe(first.id);
    const told = openConflictText(e.open);
    expect(told.message).toBe(
      `A restore of ${first.conversationId} is already awaiting approval (${first.id}).`,
    );
    expect(told.hint).toMatch(
      /^Approve, deny or cancel it first, or wait until it expires at \d{4}-\d\d-\d\d \d\d:\d\d UTC\.$/,
    );
    expect(e.details).toEqual({ openRequestId: first.id, openState: 'requested' });
    expect((await fixture.store.openForConversation(first.conversationId))?.id).toBe(first.id);

    // Approved and executing count as open too; a closed one frees the conversation.
    expect((await fixture.store.approve(first.id, 'UAPP')).kind).toBe('approved');
    const approved = await fixture.store
      .create(input({ conversationId: first.conversationId }))
      .catch((x) => x);
    expect(openConflictText((approved as OpenRequestConflict).open).message).toMatch(
      /approved and about to run/,
    );
    expect(await fixture.store.startExecution(first.id)).toBe(true);
    const running = await fixture.store
      .create(input({ conversationId: first.conversationId }))
      .catch((x) => x);
    expect(openConflictText((running as OpenRequestConflict).open).message).toMatch(/already running/);
    await fixture.store.finish(first.id, 'succeeded', { backupId: 'bk_x' });
    expect(await fixture.store.openForConversation(first.conversationId)).toBeNull();
    const next = await fixture.store.create(input({ conversationId: first.conversationId }));
    expect(next.state).toBe('requested');
  });

  it('lets exactly one of two replicas create a request for the same conversation at once', async () => {
    await withPools(2, async ([a, b]) => {
      if (!a || !b) throw new Error('pools');
      for (let round = 0; round < 5; round++) {
        const base = input();
        const results = await Promise.allSettled([
          a.create(base),
          b.create({ ...base, requester: 'UOTHER' }),
        ]);
        expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
        const rejected = results.find((r) => r.status === 'rejected');
        expect(rejected?.reason).toMatchObject({ code: ErrorCode.RequestState });
      }
    });
  });

  it('closes an expired predecessor no sweep has reached yet, and leaves its notice to the sweeper', async () => {
    const old = await fixture.store.create(input());
    await backdate(old.id);
    const next = await fixture.store.create(input({ conversationId: old.conversationId }));
    expect(next.state).toBe('requested');
    expect(await stateOf(old.id)).toBe('expired');
    const swept = await fixture.store.expireDue(1000);
    expect(swept.map((r) => r.id)).toContain(old.id);
    expect((await fixture.store.expireDue(1000)).map((r) => r.id)).not.toContain(old.id);
  });
});

describe('approve', () => {
  it('approves with one approval when one is required', async () => {
    const r = await fixture.store.create(input());
    const out = await fixture.store.approve(r.id, 'UAPP');
    expect(out.kind).toBe('approved');
    if (out.kind !== 'approved') return;
    expect(out.request.state).toBe('approved');
    expect(out.request.decidedBy).toBe('UAPP');
    expect(out.request.approvals.map((a) => a.userId)).toEqual(['UAPP']);
    expect(Number.isNaN(Date.parse(out.request.approvals[0]?.at ?? ''))).toBe(false);
  });

  it('turns a double click by one user on two replicas into one approval', async () => {
    await withPools(2, async ([a, b]) => {
      if (!a || !b) throw new Error('pools');
      for (let round = 0; round < 10; round++) {
        const r = await fixture.store.create(input());
        const outs = await Promise.all([a.approve(r.id, 'UAPP'), b.approve(r.id, 'UAPP')]);
        const kinds = outs.map((o) => o.kind).sort();
        expect(kinds[0]).toBe('approved');
        expect(['duplicate', 'not_open']).toContain(kinds[1]);
        const after = await fixture.store.get(r.id);
        expect(after?.approvals).toHaveLength(1);
        expect(after?.state).toBe('approved');
      }
    });
  });

  it('lets exactly one of two different approvers complete a single-approval request', async () => {
    await withPools(2, async ([a, b]) => {
      if (!a || !b) throw new Error('pools');
      for (let round = 0; round < 10; round++) {
        const r = await fixture.store.create(input());
        const outs = await Promise.all([a.approve(r.id, 'UAPP1'), b.approve(r.id, 'UAPP2')]);
        expect(outs.filter((o) => o.kind === 'approved')).toHaveLength(1);
        const loser = outs.find((o) => o.kind !== 'approved');
        expect(loser?.kind).toBe('not_open');
        if (loser?.kind === 'not_open')
          expect(notOpenText(loser.request)).toMatch(/no longer waiting for approval: approved by <@UAPP/);
        expect((await fixture.store.get(r.id))?.approvals).toHaveLength(1);
      }
    });
  });

  it('needs two distinct people when two are required; the same person never counts twice', async () => {
    const r = await fixture.store.create(input({ requiredApprovals: 2 }));
    const first = await fixture.store.approve(r.id, 'UAPP1');
    expect(first).toMatchObject({ kind: 'partial', have: 1, need: 2 });
    expect(first.request.state).toBe('requested');
    expect(await fixture.store.approve(r.id, 'UAPP1')).toMatchObject({ kind: 'duplicate', have: 1, need: 2 });
    const second = await fixture.store.approve(r.id, 'UAPP2');
    expect(second.kind).toBe('approved');
    expect(second.request.approvals.map((a) => a.userId)).toEqual(['UAPP1', 'UAPP2']);
    expect(await fixture.store.approve(r.id, 'UAPP2')).toMatchObject({ kind: 'duplicate' });
    expect((await fixture.store.approve(r.id, 'UAPP3')).kind).toBe('not_open');
  });

  it('with two required, a burst of clicks from three replicas yields exactly one approved', async () => {
    await withPools(3, async (stores) => {
      const r = await fixture.store.create(input({ requiredApprovals: 2 }));
      const clicks = ['UA', 'UB', 'UC', 'UA', 'UB', 'UC'].map((u, i) => stores[i % 3]?.approve(r.id, u));
      const outs = await Promise.all(clicks);
      expect(outs.filter((o) => o?.kind === 'approved')).toHaveLength(1);
      const after = await fixture.store.get(r.id);
      expect(after?.state).toBe('approved');
      expect(after?.approvals).toHaveLength(2);
    });
  });

  it('refuses self-approval even if a handler forgot the rule', async () => {
    const r = await fixture.store.create(input());
    await expect(fixture.store.approve(r.id, 'UREQ')).rejects.toMatchObject({ code: ErrorCode.Forbidden });
    expect(await stateOf(r.id)).toBe('requested');
  });

  it('expires a request approved too late, in the same step, and says so once', async () => {
    const r = await fixture.store.create(input());
    await backdate(r.id);
    const out = await fixture.store.approve(r.id, 'UAPP');
    expect(out.kind).toBe('expired');
    expect(out.request.state).toBe('expired');
    expect(out.request.approvals).toEqual([]);
    expect(await stateOf(r.id)).toBe('expired');
    const again = await fixture.store.approve(r.id, 'UAPP');
    expect(again.kind).toBe('not_open');
    if (again.kind === 'not_open')
      expect(notOpenText(again.request)).toMatch(/expired at .* without enough approvals/);
    // The approver's caller announced it; the sweeper must not do so again.
    expect((await fixture.store.expireDue(1000)).map((x) => x.id)).not.toContain(r.id);
  });

  it('throws not_found for an unknown request', async () => {
    await expect(
      fixture.store.approve('rq_00000000-0000-0000-0000-000000000000', 'UAPP'),
    ).rejects.toMatchObject({
      code: ErrorCode.NotFound,
    });
  });
});

describe('deny, cancel, stale', () => {
  it('denies with a reason; later clicks see who denied and why', async () => {
    const r = await fixture.store.create(input());
    await expect(fixture.store.deny(r.id, 'UAPP', '  ')).rejects.toMatchObject({
      code: ErrorCode.InvalidInput,
    });
    const out = await fixture.store.deny(r.id, 'UAPP', 'S3 copy is older than Redis');
    expect(out.kind).toBe('done');
    expect(out.request).toMatchObject({
      state: 'denied',
      decidedBy: 'UAPP',
      denyReason: 'S3 copy is older than Redis',
    });
    expect(out.request.decidedAt).not.toBeNull();
    const late = await fixture.store.approve(r.id, 'UAPP2');
    expect(late.kind).toBe('not_open');
    if (late.kind === 'not_open') {
      expect(notOpenText(late.request)).toContain('denied by <@UAPP> (S3 copy is older than Redis)');
    }
    expect((await fixture.store.deny(r.id, 'UAPP2', 'me too')).kind).toBe('not_open');
  });

  it('lets only the requester cancel', async () => {
    const r = await fixture.store.create(input());
    const refused = await fixture.store.cancel(r.id, 'USOMEONE');
    expect(refused.kind).toBe('refused');
    if (refused.kind === 'refused') {
      const { kind, requester } = refused.request;
      expect(refusalText({ reason: 'not_requester', kind, requester })).toMatch(
        /^Only <@UREQ>, who asked for this restore, can cancel it/,
      );
    }
    expect(await stateOf(r.id)).toBe('requested');
    const done = await fixture.store.cancel(r.id, 'UREQ');
    expect(done.kind).toBe('done');
    expect(done.request).toMatchObject({ state: 'cancelled', decidedBy: 'UREQ' });
    expect((await fixture.store.cancel(r.id, 'UREQ')).kind).toBe('not_open');
  });

  it('marks a stale preview cancelled by the system, from requested or approved, not later', async () => {
    const r = await fixture.store.create(input());
    const out = await fixture.store.markStale(r.id, 'Redis changed since the preview');
    expect(out.kind).toBe('done');
    expect(out.request).toMatchObject({
      state: 'cancelled',
      decidedBy: 'system',
      denyReason: 'preview went stale: Redis changed since the preview',
    });
    expect((await fixture.store.markStale(r.id, 'again')).kind).toBe('not_open');

    const approved = await fixture.store.create(input());
    await fixture.store.approve(approved.id, 'UAPP');
    expect((await fixture.store.markStale(approved.id, 'source changed')).kind).toBe('done');

    const running = await fixture.store.create(input());
    await fixture.store.approve(running.id, 'UAPP');
    await fixture.store.startExecution(running.id);
    const late = await fixture.store.markStale(running.id, 'too late');
    expect(late.kind).toBe('not_open');
    if (late.kind === 'not_open') expect(notOpenText(late.request)).toMatch(/running now/);
  });
});

describe('execution', () => {
  it('starts an approved request for exactly one of many concurrent callers', async () => {
    await withPools(2, async ([a, b]) => {
      if (!a || !b) throw new Error('pools');
      for (let round = 0; round < 10; round++) {
        const r = await fixture.store.create(input());
        expect(await fixture.store.startExecution(r.id)).toBe(false); // not approved yet
        await fixture.store.approve(r.id, 'UAPP');
        const starts = await Promise.all([
          a.startExecution(r.id),
          b.startExecution(r.id),
          a.startExecution(r.id),
        ]);
        expect(starts.filter(Boolean)).toHaveLength(1);
      }
    });
  });

  it('finishes an executing request once, keeping its result', async () => {
    const r = await fixture.store.create(input());
    await fixture.store.approve(r.id, 'UAPP');
    expect((await fixture.store.finish(r.id, 'failed', { error: 'x' })).kind).toBe('not_open'); // not executing
    await fixture.store.startExecution(r.id);
    const done = await fixture.store.finish(r.id, 'succeeded', {
      backupId: 'bk_1',
      checksum: 'sha256:ab',
      n: 2,
    });
    expect(done.kind).toBe('done');
    expect(done.request).toMatchObject({
      state: 'succeeded',
      result: { backupId: 'bk_1', checksum: 'sha256:ab', n: 2 },
    });
    expect((await fixture.store.finish(r.id, 'failed', { error: 'late' })).kind).toBe('not_open');
    expect((await fixture.store.get(r.id))?.result).toEqual({
      backupId: 'bk_1',
      checksum: 'sha256:ab',
      n: 2,
    });
  });

  it('lists requests a crashed replica left approved or executing with no live lease, and changes nothing', async () => {
    const approved = await fixture.store.create(input());
    await fixture.store.approve(approved.id, 'UAPP');
    const running = await fixture.store.create(input());
    await fixture.store.approve(running.id, 'UAPP');
    await fixture.store.startExecution(running.id);
    const leased = await fixture.store.create(input());
    await fixture.store.approve(leased.id, 'UAPP');
    await fixture.store.startExecution(leased.id);
    await fixture.db.pool.query(
      `INSERT INTO ${SCHEMA}.locks (conversation_id, holder, token, acquired_at, expires_at)
       VALUES ($1, 'a live replica', 't', now(), now() + interval '1 minute')`,
      [leased.conversationId],
    );
    const fresh = await fixture.store.create(input());
    await fixture.store.approve(fresh.id, 'UAPP');
    await fixture.db.pool.query(
      `UPDATE ${SCHEMA}.requests SET updated_at = now() - interval '1 hour', started_at = now() - interval '1 hour'
       WHERE id = ANY($1::text[])`,
      [[approved.id, running.id, leased.id]],
    );
    const found = await fixture.store.abandoned(10 * 60_000, 10_000);
    const ids = found.map((s) => s.request.id);
    expect(ids).toContain(approved.id);
    expect(ids).toContain(running.id);
    expect(ids).not.toContain(fresh.id);
    expect(ids).not.toContain(leased.id);
    expect(found.find((s) => s.request.id === running.id)).toMatchObject({
      request: { state: 'executing' },
      leaseExpiredAt: null,
    });
    expect(await fixture.store.countAbandoned(10 * 60_000)).toBe(found.length);
    expect(await stateOf(running.id)).toBe('executing');
    expect(await stateOf(approved.id)).toBe('approved');
  });
});

describe('expireDue', () => {
  it('returns every due request exactly once across two replicas sweeping at once', async () => {
    await fixture.store.expireDue(10_000); // leftovers from other tests
    const created = [];
    for (let i = 0; i < 30; i++) created.push(await fixture.store.create(input({ ttlMinutes: 1 })));
    const notDue = await fixture.store.create(input());
    await fixture.db.pool.query(
      `UPDATE ${SCHEMA}.requests SET expires_at = now() - interval '1 second'
       WHERE id = ANY($1::text[])`,
      [created.map((r) => r.id)],
    );
    const got = await withPools(2, async ([a, b]) => {
      if (!a || !b) throw new Error('pools');
      const rounds = await Promise.all(
        [a, b, a, b].map(async (s) => {
          const mine: string[] = [];
          for (;;) {
            const batch = await s.expireDue(4);
            mine.push(...batch.map((r) => r.id));
            if (batch.length === 0) return mine;
          }
        }),
      );
      return rounds.flat();
    });
    expect(got).toHaveLength(30);
    expect(new Set(got)).toEqual(new Set(created.map((r) => r.id)));
    expect(await stateOf(notDue.id)).toBe('requested');
    const one = await fixture.store.get(created[0]?.id ?? '');
    expect(one).toMatchObject({ state: 'expired' });
    expect(one?.decidedAt).not.toBeNull();
    expect(await fixture.store.expireDue()).toEqual([]);
  });
});

describe('break-glass review', () => {
  /** `request.reviewed` to the request's thread, as workflow/policies.ts has the store append it. */
  const reviewed = (request: RecoveryRequest) => ({
    event: {
      action: 'request.reviewed' as const,
      actor: 'slack:UREV',
      conversationId: request.conversationId,
      requestId: request.id,
      data: { request },
    },
    options: { deliverTo: { channelId: request.channelId } },
  });

  it('clearing the flag and its request.reviewed entry are one transaction: cut there, it still needs review and the next click tells it once', async () => {
    const created = await fixture.store.create(input());
    const glass = 'Prod is down and nobody else is awake to approve this';
    expect((await fixture.store.approve(created.id, 'UREQ', { breakGlassReason: glass })).kind).toBe(
      'approved',
    );
    const told = async () =>
      (
        await fixture.db.pool.query(
          `SELECT d.channel_id FROM ${SCHEMA}.audit_log a JOIN ${SCHEMA}.audit_deliveries d ON d.seq = a.seq
            WHERE a.action = 'request.reviewed' AND a.request_id = $1`,
          [created.id],
        )
      ).rows;
    await withAuditInsertCut(fixture.db.url, async (pool) => {
      await expect(
        createRequestStore(pool, SCHEMA).markReviewed(created.id, 'UREV', reviewed),
      ).rejects.toThrow();
    });
    expect((await fixture.store.get(created.id))?.needsReview).toBe(true);
    expect(await told()).toEqual([]);

    expect(await fixture.store.markReviewed(created.id, 'UREV', reviewed)).toMatchObject({
      kind: 'done',
      entry: { action: 'request.reviewed', requestId: created.id },
    });
    expect((await fixture.store.markReviewed(created.id, 'UOTHER', reviewed)).kind).toBe('refused');
    expect(await told()).toEqual([{ channel_id: 'C0INC' }]);
    expect((await fixture.store.get(created.id))?.reviewedBy).toBe('UREV');
  });

  it('is never cleared by the requester, and then appends nothing', async () => {
    const created = await fixture.store.create(input());
    await fixture.store.approve(created.id, 'UREQ', {
      breakGlassReason: 'Prod is down and nobody else is awake',
    });
    expect((await fixture.store.markReviewed(created.id, 'UREQ', reviewed)).kind).toBe('refused');
    const n = await fixture.db.pool.query(
      `SELECT 1 FROM ${SCHEMA}.audit_log WHERE action = 'request.reviewed' AND request_id = $1`,
      [created.id],
    );
    expect(n.rowCount).toBe(0);
    expect((await fixture.store.get(created.id))?.needsReview).toBe(true);
  });
});

describe('a decision and its thread entry are one transaction', () => {
  /** The entry as workflow/decisions.ts has the store append it (transitionEntry). */
  const told =
    (action: 'request.approved' | 'request.denied' | 'request.cancelled' | 'request.stale') =>
    (request: RecoveryRequest) => ({
      event: {
        action,
        actor: 'slack:UAPPROVER',
        conversationId: request.conversationId,
        requestId: request.id,
        data: { request },
      },
      options: { deliverTo: { channelId: request.channelId } },
    });
  const approval: ApproveOptions = { partialNotice: told('request.approved') };
  // The completing approval is told after its commit; the crash sweeper settles one left untold.
  const moves = {
    partial: (store: RequestStore, id: string) => store.approve(id, 'UAPPROVER', approval),
    denied: (store: RequestStore, id: string) =>
      store.deny(id, 'UAPPROVER', 'not now', undefined, told('request.denied')),
    stale: (store: RequestStore, id: string) =>
      store.markStale(id, 'Redis changed since the preview', told('request.stale')),
    cancelled: (store: RequestStore, id: string) =>
      store.cancel(id, 'UREQ', undefined, told('request.cancelled')),
  } as const;

  for (const [move, run] of Object.entries(moves)) {
    it(`${move}: cut before its entry, the request is as it was; the next click makes the move and tells it once`, async () => {
      const created = await fixture.store.create(input({ requiredApprovals: 2 }));
      const entries = async () =>
        (
          await fixture.db.pool.query(
            `SELECT a.action, d.channel_id FROM ${SCHEMA}.audit_log a JOIN ${SCHEMA}.audit_deliveries d ON d.seq = a.seq
              WHERE a.request_id = $1 ORDER BY a.seq`,
            [created.id],
          )
        ).rows;
      await withAuditInsertCut(fixture.db.url, async (pool) => {
        await expect(run(createRequestStore(pool, SCHEMA), created.id)).rejects.toThrow();
      });
      expect(await fixture.store.get(created.id)).toMatchObject({ state: 'requested', approvals: [] });
      expect(await entries()).toEqual([]);

      const outcome = await run(fixture.store, created.id);
      expect(outcome.kind).toBe(move === 'partial' ? 'partial' : 'done');
      const state = { partial: 'requested', denied: 'denied', stale: 'cancelled', cancelled: 'cancelled' }[
        move
      ];
      expect((await fixture.store.get(created.id))?.state).toBe(state);
      const action = move === 'partial' ? 'request.approved' : `request.${move}`;
      expect(await entries()).toEqual([{ action, channel_id: 'C0INC' }]);
    });
  }
  it('opened: cut before its request.created, no request is left holding the conversation; the next ask opens it and tells it once', async () => {
    const ask = input();
    const created = (request: RecoveryRequest) => ({
      event: {
        action: 'request.created' as const,
        actor: 'slack:UREQ',
        conversationId: request.conversationId,
        requestId: request.id,
        data: { request, approverHint: 'an approver' },
      },
      options: { deliverTo: { channelId: request.channelId } },
    });
    await withAuditInsertCut(fixture.db.url, async (pool) => {
      await expect(
        createRequestStore(pool, SCHEMA).create({ ...ask, createdNotice: created }),
      ).rejects.toThrow();
    });
    expect(await fixture.store.openForConversation(ask.conversationId)).toBeNull();

    const opened = await fixture.store.create({ ...ask, createdNotice: created });
    const told = await fixture.db.pool.query(
      `SELECT a.request_id, d.channel_id FROM ${SCHEMA}.audit_log a JOIN ${SCHEMA}.audit_deliveries d ON d.seq = a.seq
        WHERE a.action = 'request.created' AND a.conversation_id = $1`,
      [ask.conversationId],
    );
    expect(told.rows).toEqual([{ request_id: opened.id, channel_id: 'C0INC' }]);
  });
});
