import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cancelBulkJob, startBulkRestore } from '../../src/recovery/bulk/job.js';
import type { BulkDeps } from '../../src/recovery/bulk/preview.js';
import { parseSelection } from '../../src/recovery/bulk/selection.js';
import { compileIdPattern, DEFAULT_ID_PATTERN } from '../../src/recovery/ids.js';
import { createPgPool } from '../../src/recovery/tiers/postgres.js';
import { createAuditLog } from '../../src/store/audit.js';
import { createBulkStore } from '../../src/store/bulk-jobs.js';
import {
  type BulkApprovedNotice,
  type BulkRequest,
  type BulkRequestStore,
  createBulkRequestStore,
} from '../../src/store/bulk-requests.js';
import { migrate } from '../../src/store/migrate.js';
import type { AuditEvent } from '../../src/store/types.js';
import { expiredEntry } from '../../src/workflow/bulk.js';
import { jobThreadEntry } from '../../src/workflow/context.js';
import { seedMixed } from '../helpers/bulk.js';
import { cli } from '../helpers/cli.js';
import { holding, startFaultProxyFor, throughProxy } from '../helpers/fault-proxy.js';
import { type Stack, startStack } from '../helpers/stack.js';

const SCHEMA = 'zeus_recover';
let stack: Stack;
const queued: Array<{ jobId: string; chunks: readonly number[] }> = [];
const queue = {
  enqueue: async (jobId: string, chunks: readonly number[]) => void queued.push({ jobId, chunks }),
};

beforeAll(async () => {
  stack = await startStack();
  await migrate(stack.db.pool, SCHEMA);
}, 60_000);
afterAll(async () => stack.stop());

function deps(): BulkDeps {
  return {
    store: createBulkStore(stack.db.pool, SCHEMA, 'conversations'),
    redis: stack.redis.client,
    keyPrefix: stack.redis.prefix,
    idPattern: compileIdPattern(DEFAULT_ID_PATTERN),
    ttlPolicy: { kind: 'keep' },
    audit: createAuditLog(stack.db.pool, SCHEMA),
  };
}

/** A job frozen pending, opened as a request in C_INC by U_ALICE. */
async function pendingJob(prefix: string, requiredApprovals = 1, ttlMinutes = 30) {
  await seedMixed(stack.db.pool, stack.redis.client, stack.redis.key, 10, prefix);
  const selection = parseSelection({ since: '1h', match: `${prefix}-*` }, new Date());
  const { jobId } = await startBulkRestore(
    deps(),
    selection,
    { overwrite: false, maxRate: null, awaitApproval: { ttlMinutes }, chunkSize: 4 },
    { id: 'slack:U_ALICE', reason: 'test' },
    queue,
  );
  const requests = createBulkRequestStore(stack.db.pool, SCHEMA);
  await requests.open(jobId, { channelId: 'C_INC', requester: 'U_ALICE', requiredApprovals, ttlMinutes });
  return { jobId, requests };
}

async function chunkStates(jobId: string): Promise<string[]> {
  const { rows } = await stack.db.pool.query<{ state: string }>(
    `SELECT state FROM ${SCHEMA}.bulk_job_chunks WHERE job_id = $1 ORDER BY chunk`,
    [jobId],
  );
  return rows.map((r) => r.state);
}

/** A pending job whose approval window has just run out (on the database clock). */
async function expiredPendingJob(prefix: string): Promise<string> {
  const { jobId } = await pendingJob(prefix);
  await stack.db.pool.query(
    `UPDATE ${SCHEMA}.bulk_jobs SET expires_at = now() - interval '1 second' WHERE id = $1`,
    [jobId],
  );
  return jobId;
}

/** Where each `bulk.expired` entry of the job is to be delivered. */
async function expiredTold(jobId: string): Promise<unknown[]> {
  const res = await stack.db.pool.query(
    `SELECT d.channel_id FROM ${SCHEMA}.audit_deliveries d JOIN ${SCHEMA}.audit_log a ON a.seq = d.seq
      WHERE a.action = 'bulk.expired' AND a.conversation_id = $1`,
    [jobId],
  );
  return res.rows;
}

/**
 * Runs `fn` with a store on the bot's own pool (which keeps a cut connection's error from ending
 * the process) through a fault proxy armed to cut the first audit entry's INSERT, after the
 * statements before it in that transaction went through; checks the cut happened.
 */
async function throughCutProxy(fn: (requests: BulkRequestStore) => Promise<void>): Promise<void> {
  const proxy = await startFaultProxyFor(stack.env.DATABASE_URL ?? '', 5432);
  const pool = createPgPool(throughProxy(stack.env.DATABASE_URL ?? '', proxy), 5000);
  try {
    const cut = proxy.arm({ match: holding('insert into', 'audit_log'), fault: 'cut-before' });
    await fn(createBulkRequestStore(pool, SCHEMA));
    expect(cut.hasFired).toBe(true);
  } finally {
    await pool.end();
    await proxy.stop();
  }
}

/** `bulk.reviewed` to the job's thread, as workflow/bulk.ts has the store append it. */
const reviewedNotice = (job: BulkRequest) =>
  jobThreadEntry(job, {
    action: 'bulk.reviewed',
    actor: 'slack:U_BOB',
    data: { jobId: job.jobId, total: job.total, requester: job.requester },
  });

/** What workflow/bulk.ts has the store append with an approval: `bulk.approved`, break-glass first. */
function approvedNotice(glass: boolean): BulkApprovedNotice {
  return (job) => {
    const told = (action: 'bulk.approved' | 'bulk.break_glass', data: Record<string, unknown>) => ({
      event: { action, actor: 'slack:U_BOB', conversationId: job.jobId, requestId: null, data } as AuditEvent,
      options: { deliverTo: { channelId: job.channelId } },
    });
    const approved = told('bulk.approved', {
      jobId: job.jobId,
      total: job.total,
      approvedBy: ['slack:U_BOB'],
    });
    if (!glass) return { approved };
    const breakGlass = told('bulk.break_glass', {
      jobId: job.jobId,
      total: job.total,
      requester: job.requester,
      reason: job.breakGlassReason ?? '',
      decidedAt: job.decidedAt ?? '',
      notify: 'the approvers',
    });
    return { breakGlass, approved };
  };
}

/** The job's entries told to a thread, in audit order. */
async function toldOf(jobId: string): Promise<Array<{ seq: number; action: string; channel_id: string }>> {
  const res = await stack.db.pool.query(
    `SELECT a.seq::int AS seq, a.action, d.channel_id FROM ${SCHEMA}.audit_deliveries d
       JOIN ${SCHEMA}.audit_log a ON a.seq = d.seq
      WHERE a.conversation_id = $1 ORDER BY a.seq`,
    [jobId],
  );
  return res.rows;
}

/** The progress message's seq, as the approval's transaction sets it (bulk.approved's entry). */
async function setProgressSeq(jobId: string, seq: number): Promise<void> {
  await stack.db.pool.query(`UPDATE ${SCHEMA}.bulk_jobs SET progress_seq = $2 WHERE id = $1`, [jobId, seq]);
}

describe('a bulk job as its own approval request', () => {
  it('is frozen pending with nothing queued, and ten clicks at once approve it exactly once', async () => {
    const { jobId, requests } = await pendingJob('c-once', 2);
    expect(queued.filter((q) => q.jobId === jobId)).toEqual([]);
    expect(await chunkStates(jobId)).toEqual(['pending', 'pending', 'pending']);
    await expect(requests.approve(jobId, 'U_ALICE')).rejects.toThrow(/someone else must approve/);
    expect((await requests.approve(jobId, 'U_BOB')).kind).toBe('partial');
    expect((await requests.approve(jobId, 'U_BOB')).kind).toBe('duplicate');
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, (_, i) => requests.approve(jobId, `U_APPROVER${i}`)),
    );
    expect(outcomes.filter((o) => o.kind === 'approved')).toHaveLength(1);
    expect(outcomes.filter((o) => o.kind === 'not_open')).toHaveLength(9);
    expect((await requests.get(jobId))?.state).toBe('running');
  });

  it('deny and expiry cancel the pending job and its chunks; neither moves it twice', async () => {
    const denied = await pendingJob('c-deny');
    const [a, b] = await Promise.all([
      denied.requests.deny(denied.jobId, 'U_BOB', 'wrong window'),
      denied.requests.deny(denied.jobId, 'U_DAVE', 'wrong window'),
    ]);
    expect([a.kind, b.kind].sort()).toEqual(['done', 'not_open']);
    expect(await chunkStates(denied.jobId)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect((await denied.requests.approve(denied.jobId, 'U_BOB')).kind).toBe('not_open');

    const late = await pendingJob('c-late');
    await stack.db.pool.query(
      `UPDATE ${SCHEMA}.bulk_jobs SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [late.jobId],
    );
    // A click on an expired request finds it expired (and says so once); the sweep then has nothing.
    expect((await late.requests.approve(late.jobId, 'U_BOB')).kind).toBe('expired');
    expect((await late.requests.expireDue()).map((j) => j.jobId)).not.toContain(late.jobId);

    const swept = await pendingJob('c-swept');
    await stack.db.pool.query(
      `UPDATE ${SCHEMA}.bulk_jobs SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [swept.jobId],
    );
    const [x, y] = await Promise.all([swept.requests.expireDue(), swept.requests.expireDue()]);
    expect([...x, ...y].filter((j) => j.jobId === swept.jobId)).toHaveLength(1);
    expect((await swept.requests.get(swept.jobId))?.state).toBe('cancelled');
    expect(await chunkStates(swept.jobId)).toEqual(['cancelled', 'cancelled', 'cancelled']);
  });

  it('grants one progress edit per interval, however many ask at once, and the report once', async () => {
    const { jobId, requests } = await pendingJob('c-claim');
    await requests.approve(jobId, 'U_BOB');
    await setProgressSeq(jobId, 42);
    const claims = await Promise.all(Array.from({ length: 10 }, () => requests.claimProgress(jobId, 60_000)));
    expect(claims.filter((c) => c !== null)).toEqual([{ channelId: 'C_INC', progressSeq: 42 }]);
    expect(await requests.claimProgress(jobId, 60_000)).toBeNull();
    // Not settled: no report yet.
    expect(await requests.claimReport(jobId, 60_000)).toBeNull();
    await stack.db.pool.query(`UPDATE ${SCHEMA}.bulk_jobs SET state = 'succeeded' WHERE id = $1`, [jobId]);
    const reports = await Promise.all(Array.from({ length: 5 }, () => requests.claimReport(jobId, 60_000)));
    const granted = reports.filter((r) => r !== null);
    expect(granted).toHaveLength(1);
    // Booked after the last edit's interval: it waits rather than edit again too soon.
    expect(granted[0]?.waitMs).toBeGreaterThan(50_000);
    expect(await requests.claimProgress(jobId, 0)).toBeNull();
  });

  it('a report claimed by a replica that died before recording it is claimed again after the lease, and recorded once', async () => {
    const { jobId, requests } = await pendingJob('c-reportlease');
    await requests.approve(jobId, 'U_BOB');
    await setProgressSeq(jobId, 42);
    await stack.db.pool.query(`UPDATE ${SCHEMA}.bulk_jobs SET state = 'succeeded' WHERE id = $1`, [jobId]);
    expect(await requests.claimReport(jobId, 1000)).not.toBeNull();
    // Its holder died here. Within the lease nobody else prepares it; the sweep keeps asking.
    expect(await requests.claimReport(jobId, 1000)).toBeNull();
    expect(await requests.liveWithThread(1000)).toContain(jobId);
    await stack.db.pool.query(
      `UPDATE ${SCHEMA}.bulk_jobs SET reported_at = reported_at - interval '10 minutes' WHERE id = $1`,
      [jobId],
    );
    expect(await requests.claimReport(jobId, 1000)).toMatchObject({ channelId: 'C_INC', progressSeq: 42 });

    const tell = {
      event: {
        action: 'bulk.reported' as const,
        actor: 'system',
        conversationId: jobId,
        requestId: null,
        data: {
          jobId,
          state: 'succeeded' as const,
          total: 10,
          counts: { restored: 0, identical: 0, newer: 0, changed: 0, invalid: 0, failed: 0 },
          failureCount: 0,
          failures: [],
          file: null,
        },
      },
      options: { deliverTo: { channelId: 'C_INC' } },
    };
    // The dead holder's twin and this one both record: the entry is appended once.
    const recorded = await Promise.all([
      requests.recordReport(jobId, tell),
      requests.recordReport(jobId, tell),
    ]);
    expect(recorded.filter((e) => e !== null)).toHaveLength(1);
    const { rows } = await stack.db.pool.query(
      `SELECT count(*)::int AS n FROM ${SCHEMA}.audit_log WHERE action = 'bulk.reported' AND conversation_id = $1`,
      [jobId],
    );
    expect(rows).toEqual([{ n: 1 }]);
    await stack.db.pool.query(
      `UPDATE ${SCHEMA}.bulk_jobs SET reported_at = reported_at - interval '10 minutes' WHERE id = $1`,
      [jobId],
    );
    expect(await requests.claimReport(jobId, 1000)).toBeNull();
    expect(await requests.liveWithThread(1000)).not.toContain(jobId);
  });
  it('frozen, then the process stopped before its request opened: the sweep expires it and its selection is free again', async () => {
    await seedMixed(stack.db.pool, stack.redis.client, stack.redis.key, 10, 'c-neveropened');
    const selection = parseSelection({ since: '1h', match: 'c-neveropened-*' }, new Date());
    const freeze = () =>
      startBulkRestore(
        deps(),
        selection,
        { overwrite: false, maxRate: null, awaitApproval: { ttlMinutes: 30 }, chunkSize: 4 },
        { id: 'slack:U_ALICE', reason: 'test' },
        queue,
      );
    const { jobId } = await freeze();
    // No open(): the process died here. The selection is taken while the job waits.
    await expect(freeze()).rejects.toThrow(/already pending or running/);
    const requests = createBulkRequestStore(stack.db.pool, SCHEMA);
    expect((await requests.expireDue()).map((j) => j.jobId)).not.toContain(jobId);
    // Its TTL ran out (judged by the database clock: moved rather than waited for).
    await stack.db.pool.query(
      `UPDATE ${SCHEMA}.bulk_jobs SET expires_at = expires_at - interval '30 minutes' WHERE id = $1`,
      [jobId],
    );
    const expired = await requests.expireDue();
    expect(expired.filter((j) => j.jobId === jobId)).toMatchObject([{ jobId, channelId: '' }]);
    expect(await chunkStates(jobId)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    const again = await freeze();
    expect(again.jobId).not.toBe(jobId);
  });
  it("the CLI's resume --yes refuses a Slack job that was never approved; an approved one resumes", async () => {
    const waiting = await pendingJob('c-cliwait');
    const denied = await pendingJob('c-clideny');
    await denied.requests.deny(denied.jobId, 'U_BOB', 'wrong window');
    const approved = await pendingJob('c-cliok');
    expect((await approved.requests.approve(approved.jobId, 'U_BOB')).kind).toBe('approved');
    await cancelBulkJob(deps(), approved.jobId, { id: 'slack:U_ALICE', reason: 'stop' });
    const resumeAudits = async () =>
      (
        await stack.db.pool.query(
          `SELECT data FROM ${SCHEMA}.audit_log WHERE action = 'bulk.resumed' AND data LIKE ANY ($1)`,
          [[`%${waiting.jobId}%`, `%${denied.jobId}%`]],
        )
      ).rowCount;

    const onWaiting = await cli(['resume', waiting.jobId, '--yes', '--reason', 'from the CLI'], stack.env);
    expect(onWaiting.code).not.toBe(0);
    expect(onWaiting.stderr).toMatch(/waiting for approval in Slack/);
    expect(onWaiting.stderr).toMatch(/Approve it in its Slack thread .*, or cancel it there/);
    const onDenied = await cli(['resume', denied.jobId, '--yes', '--reason', 'from the CLI'], stack.env);
    expect(onDenied.code).not.toBe(0);
    expect(onDenied.stderr).toMatch(/asked for in Slack and never approved/);
    expect(onDenied.stderr).toMatch(/Start a new bulk restore of that selection/);
    expect((await waiting.requests.get(waiting.jobId))?.state).toBe('pending');
    expect((await denied.requests.get(denied.jobId))?.state).toBe('cancelled');
    expect(await chunkStates(denied.jobId)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    expect(await resumeAudits()).toBe(0);

    // Approved, then cancelled and reported: what was approved may go on, and reports again.
    await setProgressSeq(approved.jobId, 7);
    expect(await approved.requests.claimReport(approved.jobId, 0)).not.toBeNull();
    expect((await deps().store.resume(approved.jobId)).length).toBeGreaterThan(0);
    expect((await approved.requests.get(approved.jobId))?.state).toBe('running');
    await cancelBulkJob(deps(), approved.jobId, { id: 'slack:U_ALICE', reason: 'stop again' });
    expect(await approved.requests.claimReport(approved.jobId, 0)).toMatchObject({ progressSeq: 7 });
  }, 60_000);
  it('expiry and its thread entry are one transaction: a connection cut between them leaves the job pending, and the next sweep expires and tells it once', async () => {
    const jobId = await expiredPendingJob('c-expirecut');
    await throughCutProxy(async (requests) => {
      await expect(requests.expireDue(100, expiredEntry)).rejects.toThrow();
      expect((await requests.get(jobId))?.state).toBe('pending');
      expect(await chunkStates(jobId)).toEqual(['pending', 'pending', 'pending']);

      expect((await requests.expireDue(100, expiredEntry)).map((j) => j.jobId)).toContain(jobId);
      expect((await requests.expireDue(100, expiredEntry)).map((j) => j.jobId)).not.toContain(jobId);
      expect(await expiredTold(jobId)).toEqual([{ channel_id: 'C_INC' }]);
      expect((await requests.get(jobId))?.state).toBe('cancelled');
    });
  });
  it('a click that finds the job expired cancels it and appends its thread entry in one transaction: cut there, the job stays pending and the next click tells it once', async () => {
    const jobId = await expiredPendingJob('c-clickcut');
    await throughCutProxy(async (requests) => {
      await expect(requests.deny(jobId, 'U_BOB', 'too late', expiredEntry)).rejects.toThrow();
      expect((await requests.get(jobId))?.state).toBe('pending');
      expect(await chunkStates(jobId)).toEqual(['pending', 'pending', 'pending']);
      expect(await expiredTold(jobId)).toEqual([]);

      const approve = (who: string) => requests.approve(jobId, who, { expiryNotice: expiredEntry });
      expect((await approve('U_BOB')).kind).toBe('expired');
      expect((await approve('U_CAROL')).kind).toBe('not_open');
      expect((await requests.expireDue(100, expiredEntry)).map((j) => j.jobId)).not.toContain(jobId);
      expect(await expiredTold(jobId)).toEqual([{ channel_id: 'C_INC' }]);
      expect((await requests.get(jobId))?.state).toBe('cancelled');
    });
  });
  it('clearing the break-glass review flag and its bulk.reviewed entry are one transaction: cut there, the job still needs review and the next click tells it once', async () => {
    const { jobId, requests } = await pendingJob('c-reviewcut');
    const glass = 'Prod is down and nobody else is awake to approve this';
    expect((await requests.approve(jobId, 'U_ALICE', { breakGlassReason: glass })).kind).toBe('approved');
    const told = async () =>
      (
        await stack.db.pool.query(
          `SELECT d.channel_id FROM ${SCHEMA}.audit_deliveries d JOIN ${SCHEMA}.audit_log a ON a.seq = d.seq
            WHERE a.action = 'bulk.reviewed' AND a.conversation_id = $1`,
          [jobId],
        )
      ).rows;
    await throughCutProxy(async (cut) => {
      await expect(cut.markReviewed(jobId, 'U_BOB', reviewedNotice)).rejects.toThrow();
    });
    expect((await requests.get(jobId))?.needsReview).toBe(true);
    expect(await told()).toEqual([]);

    const again = await requests.markReviewed(jobId, 'U_BOB', reviewedNotice);
    expect(again).toMatchObject({ kind: 'done', entry: { action: 'bulk.reviewed' } });
    expect((await requests.markReviewed(jobId, 'U_CAROL', reviewedNotice)).kind).toBe('refused');
    expect(await told()).toEqual([{ channel_id: 'C_INC' }]);
    expect((await requests.get(jobId))?.reviewedBy).toBe('U_BOB');
  }, 60_000);
  for (const glass of [false, true]) {
    it(`the move to running and its bulk.approved entry${glass ? ' (after the break-glass notice)' : ''} are one transaction: cut there, the job stays pending with nothing counted, and the next click approves and tells it once`, async () => {
      const { jobId, requests } = await pendingJob(glass ? 'c-glasscut' : 'c-approvecut');
      const who = glass ? 'U_ALICE' : 'U_BOB';
      const options = {
        approvedNotice: approvedNotice(glass),
        ...(glass ? { breakGlassReason: 'Prod is down and nobody else is awake to approve this' } : {}),
      };
      await throughCutProxy(async (cut) => {
        await expect(cut.approve(jobId, who, options)).rejects.toThrow();
      });
      const before = await requests.get(jobId);
      expect(before).toMatchObject({
        state: 'pending',
        approvals: [],
        progressSeq: null,
        needsReview: false,
      });
      expect(await toldOf(jobId)).toEqual([]);

      const outcome = await requests.approve(jobId, who, options);
      expect(outcome.kind).toBe('approved');
      const progress = outcome.kind === 'approved' ? outcome.progress : null;
      expect((await requests.get(jobId))?.progressSeq).toBe(progress?.seq);
      expect((await requests.approve(jobId, 'U_CAROL', options)).kind).toBe('not_open');
      const told = await toldOf(jobId);
      expect(told.map((t) => t.action)).toEqual(
        glass ? ['bulk.break_glass', 'bulk.approved'] : ['bulk.approved'],
      );
      expect(told.at(-1)).toEqual({ seq: progress?.seq, action: 'bulk.approved', channel_id: 'C_INC' });
    }, 60_000);
  }
  it('a deny and its bulk.denied entry are one transaction: cut there, the job stays pending and the next deny cancels and tells it once', async () => {
    const { jobId, requests } = await pendingJob('c-denycut');
    const denied = (job: BulkRequest) => ({
      event: {
        action: 'bulk.denied' as const,
        actor: 'slack:U_BOB',
        conversationId: job.jobId,
        requestId: null,
        data: { jobId: job.jobId, reason: 'not now' },
      },
      options: { deliverTo: { channelId: job.channelId } },
    });
    await throughCutProxy(async (cut) => {
      await expect(cut.deny(jobId, 'U_BOB', 'not now', expiredEntry, denied)).rejects.toThrow();
    });
    expect((await requests.get(jobId))?.state).toBe('pending');
    expect(await chunkStates(jobId)).toEqual(['pending', 'pending', 'pending']);
    expect(await toldOf(jobId)).toEqual([]);

    expect((await requests.deny(jobId, 'U_BOB', 'not now', expiredEntry, denied)).kind).toBe('done');
    expect((await requests.deny(jobId, 'U_CAROL', 'me too', expiredEntry, denied)).kind).toBe('not_open');
    expect((await toldOf(jobId)).map((t) => [t.action, t.channel_id])).toEqual([['bulk.denied', 'C_INC']]);
  });
});
