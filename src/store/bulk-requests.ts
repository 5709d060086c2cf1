import type pg from 'pg';
import type { Approval } from '../approval/types.js';
import { ErrorCode, RecoveryError } from '../errors.js';
import { appendWithin, type ToldEntry } from './audit.js';
import { breakerFailuresInARow, reserveHourlySlot } from './blast-radius.js';
import type { BulkJobState } from './bulk-jobs.js';
import { quoteIdent, withTransaction } from './sql.js';
import type { AuditEntry } from './types.js';

/**
 * A bulk job asked for in Slack is its own approval request: the job row waits `pending` (its
 * list frozen, no chunk queued) until enough approvers say yes. Every move is one conditional
 * UPDATE under the row lock (SELECT … FOR UPDATE), so a double click, a Slack retry or two
 * replicas never move it twice; expiry is judged by the database clock.
 */

export interface BulkRequest {
  jobId: string;
  state: BulkJobState;
  channelId: string;
  requester: string;
  reason: string;
  total: number;
  chunks: number;
  overwrite: boolean;
  requiredApprovals: number;
  approvals: Approval[];
  expiresAt: string;
  decidedBy: string | null;
  decidedAt: string | null;
  denyReason: string | null;
  cardSeq: number | null;
  progressSeq: number | null;
  /** BREAK_GLASS=on: why the requester approved it alone; null otherwise. */
  breakGlassReason: string | null;
  /** Self-approved and not yet reviewed by someone else. */
  needsReview: boolean;
  reviewedBy: string | null;
}

export type BulkReviewOutcome =
  | { kind: 'done'; job: BulkRequest; entry: AuditEntry }
  | { kind: 'refused'; job: BulkRequest };
/**
 * What a job that has just been approved tells its thread: `bulk.approved` (the progress message
 * every edit goes to) and, when the glass was broken, the `bulk.break_glass` notice before it.
 */
export type BulkApprovedNotice = (job: BulkRequest) => { breakGlass?: ToldEntry; approved: ToldEntry };
/** The `bulk.reviewed` entry for a job whose flag was just cleared. */
export type BulkReviewNotice = (job: BulkRequest) => ToldEntry;

export type BulkDecision =
  /**
   * This click completed the approvals: the job is running now, its chunks still to queue. With
   * an `approvedNotice`, its entries were appended in the same transaction and `progress` is the
   * `bulk.approved` entry, whose seq is the job's progress_seq.
   */
  | { kind: 'approved'; job: BulkRequest; progress: AuditEntry | null }
  | { kind: 'partial'; job: BulkRequest; have: number; need: number }
  | { kind: 'duplicate'; job: BulkRequest; have: number; need: number }
  /** APPROVER_GROUPS: another approval already counted for this group; nothing changed. */
  | { kind: 'group_taken'; job: BulkRequest; groupId: string }
  /** The circuit breaker is open (counted under the job's row lock); nothing changed. */
  | { kind: 'breaker_open'; job: BulkRequest; failuresInARow: number; threshold: number }
  | { kind: 'not_open'; job: BulkRequest }
  /**
   * Found past its expiry by this call, and cancelled; with a BulkExpiryNotice, the notice was
   * appended in the same transaction, else the caller says so in the thread.
   */
  | { kind: 'expired'; job: BulkRequest };

export type BulkDenyOutcome =
  | { kind: 'done'; job: BulkRequest }
  | { kind: 'not_open'; job: BulkRequest }
  | { kind: 'expired'; job: BulkRequest };

/** `bulk.expired` to the job's thread, appended by a click in the transaction that cancels it. */
export type BulkExpiryNotice = (job: BulkRequest) => ToldEntry;

/** When a job (last) started running, and how many conversations were done by then. */
export interface RunningSince {
  at: Date;
  done: number;
}

/** The progress message of a job, claimed for one edit. */
export interface ProgressClaim {
  channelId: string;
  progressSeq: number;
}

export interface BulkRequestStore {
  /** Makes a pending job (just frozen) an approval request told in `channelId`'s thread. */
  open(
    jobId: string,
    input: {
      channelId: string;
      requester: string;
      requiredApprovals: number;
      ttlMinutes: number;
      /** MAX_DESTRUCTIVE_PER_HOUR: counted and opened under one lock; throws HourlyLimitReached. */
      maxPerHour?: number | null;
    },
  ): Promise<BulkRequest>;
  get(jobId: string): Promise<BulkRequest | null>;
  /**
   * `groupId`: the approver group it counts for (APPROVER_GROUPS), one approval per group.
   * `breakerFailures`: BREAKER_FAILURES; the breaker is counted in the transaction that counts
   * the approval, after the row lock, as a request's approval is.
   */
  approve(
    jobId: string,
    userId: string,
    options?: {
      groupId?: string | null;
      breakerFailures?: number | null;
      breakGlassReason?: string;
      expiryNotice?: BulkExpiryNotice;
      /** Appended with the move to running: a cut between them would leave the decision untold. */
      approvedNotice?: BulkApprovedNotice;
    },
  ): Promise<BulkDecision>;
  /**
   * Clears the needs-review flag of a self-approved job; `refused` (nothing changed) when it is
   * not flagged or `userId` is its requester. Under the row lock: one review counts. `notice` is
   * appended in the same transaction, so a cut cannot leave the review done and never told.
   */
  markReviewed(jobId: string, userId: string, notice: BulkReviewNotice): Promise<BulkReviewOutcome>;
  deny(
    jobId: string,
    userId: string,
    reason: string,
    expiryNotice?: BulkExpiryNotice,
    /** `bulk.denied`, appended in the transaction that cancels the job. */
    notice?: (job: BulkRequest) => ToldEntry,
  ): Promise<BulkDenyOutcome>;
  /**
   * Pending jobs past their expiry, cancelled; each returned to exactly one caller. `tell(job)`
   * is the audit entry that says so, appended (with its delivery row) in the same transaction:
   * a job is never expired without it, however the process or its connection ends.
   */
  expireDue(limit?: number, tell?: (job: BulkRequest) => ToldEntry): Promise<BulkRequest[]>;
  setCardSeq(jobId: string, seq: number): Promise<void>;
  /**
   * The right to edit the progress message now: granted to one caller per `intervalMs` across
   * every replica (a conditional UPDATE of progress_posted_at), null otherwise.
   */
  claimProgress(jobId: string, intervalMs: number): Promise<ProgressClaim | null>;
  /**
   * The right to prepare the final report of a settled job not reported yet (reported_at): one
   * caller at a time, and again once a claim is older than the interval plus REPORT_LEASE_MS (its
   * holder died before recording it). `waitMs` is how long to wait so this last edit too keeps
   * the interval after the previous one.
   */
  claimReport(jobId: string, intervalMs: number): Promise<(ProgressClaim & { waitMs: number }) | null>;
  /**
   * Appends the report's entry (with its delivery row) and marks the job reported, in one
   * transaction: exactly once per settling, however many claims prepared it. Null when it was
   * reported already.
   */
  recordReport(jobId: string, tell: ToldEntry): Promise<AuditEntry | null>;
  /**
   * Where the rate and ETA count from: the approval, or the last resume of a cancelled or failed
   * job with how many were done by then (migration 0018).
   */
  runningSince(jobId: string): Promise<RunningSince | null>;
  /**
   * Jobs told in Slack whose progress message is live (being worked now), or settled with their
   * report not yet claimed: a process that died between settling a job and reporting it (the
   * sweep's orphan mark, a chunk's last finish) leaves its report to the next poke.
   */
  liveWithThread(limit?: number): Promise<string[]>;
}

interface Row {
  id: string;
  state: BulkJobState;
  channel_id: string | null;
  requester: string | null;
  reason: string;
  total: number;
  chunks: number;
  overwrite: boolean;
  required_approvals: number | null;
  expires_at: Date | null;
  decided_by: string | null;
  decided_at: Date | null;
  deny_reason: string | null;
  card_seq: string | null;
  progress_seq: string | null;
  break_glass_reason: string | null;
  needs_review: boolean;
  reviewed_by: string | null;
}

const COLUMNS =
  'id, state, channel_id, requester, reason, total, chunks, overwrite, required_approvals, expires_at, decided_by, decided_at, deny_reason, card_seq, progress_seq, break_glass_reason, needs_review, reviewed_by';
const MAX_TTL_MINUTES = 7 * 24 * 60;
/**
 * How long past the interval a report's claim holds: its holder waits for the slot, edits the
 * progress message (waiting up to 10 s for its delivery) and shares the failures file (up to
 * 15 s for the thread) before recording it.
 */
const REPORT_LEASE_MS = 120_000;

function notFound(jobId: string): RecoveryError {
  return new RecoveryError(
    ErrorCode.NotFound,
    `There is no bulk job ${jobId} waiting for a decision in Slack.`,
    'List recent jobs with `/zeus-recover jobs`.',
  );
}

export function createBulkRequestStore(pool: pg.Pool, schema: string): BulkRequestStore {
  const s = quoteIdent(schema);
  const jobs = `${s}.bulk_jobs`;
  const approvals = `${s}.bulk_job_approvals`;
  // What "no chunk to be worked" means for a job leaving `pending` without running.
  const cancelChunks = `UPDATE ${s}.bulk_job_chunks SET state = 'cancelled', finished_at = now()
                         WHERE job_id = $1 AND state = 'pending'`;

  async function toRequest(db: Pick<pg.Pool, 'query'>, r: Row): Promise<BulkRequest> {
    const res = await db.query<{ user_id: string; at: Date; group_id: string | null }>(
      `SELECT user_id, at, group_id FROM ${approvals} WHERE job_id = $1 ORDER BY at, user_id`,
      [r.id],
    );
    return {
      jobId: r.id,
      state: r.state,
      channelId: r.channel_id ?? '',
      requester: r.requester ?? '',
      reason: r.reason,
      total: r.total,
      chunks: r.chunks,
      overwrite: r.overwrite,
      requiredApprovals: r.required_approvals ?? 1,
      approvals: res.rows.map((a) => ({ userId: a.user_id, at: a.at.toISOString(), groupId: a.group_id })),
      expiresAt: (r.expires_at ?? new Date(0)).toISOString(),
      decidedBy: r.decided_by,
      decidedAt: r.decided_at?.toISOString() ?? null,
      denyReason: r.deny_reason,
      cardSeq: r.card_seq === null ? null : Number(r.card_seq),
      progressSeq: r.progress_seq === null ? null : Number(r.progress_seq),
      breakGlassReason: r.break_glass_reason,
      needsReview: r.needs_review,
      reviewedBy: r.reviewed_by,
    };
  }

  function locked<T>(
    jobId: string,
    fn: (client: pg.PoolClient, row: Row, open: boolean) => Promise<T>,
  ): Promise<T> {
    return withTransaction(pool, async (client) => {
      const res = await client.query<Row & { open: boolean }>(
        `SELECT ${COLUMNS}, coalesce(expires_at > now(), false) AS open FROM ${jobs}
          WHERE id = $1 AND channel_id IS NOT NULL FOR UPDATE`,
        [jobId],
      );
      const row = res.rows[0];
      if (!row) throw notFound(jobId);
      return fn(client, row, row.open);
    });
  }

  async function expireLocked(
    client: pg.PoolClient,
    jobId: string,
    notice?: BulkExpiryNotice,
  ): Promise<{ kind: 'expired'; job: BulkRequest }> {
    const res = await client.query<Row>(
      `UPDATE ${jobs} SET state = 'cancelled', decided_at = now(), finished_at = now(), updated_at = now()
        WHERE id = $1 AND state = 'pending' RETURNING ${COLUMNS}`,
      [jobId],
    );
    await client.query(cancelChunks, [jobId]);
    const row = res.rows[0];
    if (!row) throw new Error(`bulk job ${jobId} changed state while locked`);
    const job = await toRequest(client, row);
    if (notice) {
      const { event, options } = notice(job);
      await appendWithin(client, schema, event, options);
    }
    return { kind: 'expired', job };
  }

  async function approvedLocked(
    client: pg.PoolClient,
    row: Row,
    notice?: BulkApprovedNotice,
  ): Promise<Extract<BulkDecision, { kind: 'approved' }>> {
    const job = await toRequest(client, row);
    if (!notice) return { kind: 'approved', job, progress: null };
    const { breakGlass, approved } = notice(job);
    if (breakGlass) await appendWithin(client, schema, breakGlass.event, breakGlass.options);
    const progress = await appendWithin(client, schema, approved.event, approved.options);
    await client.query(`UPDATE ${jobs} SET progress_seq = $2 WHERE id = $1`, [job.jobId, progress.seq]);
    return { kind: 'approved', job: { ...job, progressSeq: progress.seq }, progress };
  }

  return {
    async open(jobId, input) {
      if (!Number.isFinite(input.ttlMinutes) || input.ttlMinutes <= 0 || input.ttlMinutes > MAX_TTL_MINUTES) {
        throw new RecoveryError(
          ErrorCode.Config,
          `Request TTL must be more than 0 and at most ${MAX_TTL_MINUTES} minutes, got ${input.ttlMinutes}.`,
          'Fix REQUEST_TTL_MINUTES and restart the bot.',
        );
      }
      // The job's row has no requester yet, so the count never includes it.
      const row = await withTransaction(pool, async (client) => {
        await reserveHourlySlot(client, schema, input.maxPerHour ?? null);
        const res = await client.query<Row>(
          `UPDATE ${jobs} SET channel_id = $2, requester = $3, required_approvals = $4,
                  expires_at = now() + $5::double precision * interval '1 minute', updated_at = now()
            WHERE id = $1 AND state = 'pending' AND channel_id IS NULL RETURNING ${COLUMNS}`,
          [jobId, input.channelId, input.requester, input.requiredApprovals, input.ttlMinutes],
        );
        return res.rows[0];
      });
      if (!row) throw notFound(jobId);
      return toRequest(pool, row);
    },

    async get(jobId) {
      const res = await pool.query<Row>(
        `SELECT ${COLUMNS} FROM ${jobs} WHERE id = $1 AND channel_id IS NOT NULL`,
        [jobId],
      );
      const row = res.rows[0];
      return row ? toRequest(pool, row) : null;
    },

    approve(jobId, userId, options = {}) {
      const groupId = options.groupId ?? null;
      const threshold = options.breakerFailures ?? null;
      const breakGlass = options.breakGlassReason?.trim().slice(0, 3000) || null;
      return locked(jobId, async (client, row, open): Promise<BulkDecision> => {
        if (row.state !== 'pending') return { kind: 'not_open', job: await toRequest(client, row) };
        if (userId === row.requester && breakGlass === null) {
          // The rules refuse it first; this is the store's own guard against a handler bug.
          throw new RecoveryError(
            ErrorCode.Forbidden,
            'You asked for this bulk restore, so someone else must approve it.',
            'Ask a teammate who is an approver.',
          );
        }
        if (!open) return expireLocked(client, jobId, options.expiryNotice);
        if (threshold !== null) {
          // Waiting for the row lock can take long; a failure that landed meanwhile is counted.
          const failures = await breakerFailuresInARow(client, schema);
          if (failures >= threshold) {
            return {
              kind: 'breaker_open',
              job: await toRequest(client, row),
              failuresInARow: failures,
              threshold,
            };
          }
        }
        // No conflict target: a second approval by this user, or for this group, both insert nothing.
        const inserted = await client.query(
          `INSERT INTO ${approvals} (job_id, user_id, at, group_id) VALUES ($1, $2, clock_timestamp(), $3)
           ON CONFLICT DO NOTHING`,
          [jobId, userId, groupId],
        );
        if (breakGlass !== null) {
          // Breaking the glass approves outright, whatever REQUIRED_APPROVALS says, flagged for review.
          const res = await client.query<Row>(
            `UPDATE ${jobs} SET state = 'running', decided_by = $2, decided_at = now(), updated_at = now(),
                    break_glass_reason = $3, needs_review = true
              WHERE id = $1 AND state = 'pending' RETURNING ${COLUMNS}`,
            [jobId, userId, breakGlass],
          );
          const updated = res.rows[0];
          if (!updated) throw new Error(`bulk job ${jobId} changed state while locked`);
          return approvedLocked(client, updated, options.approvedNotice);
        }
        if (inserted.rowCount === 0 && groupId !== null) {
          const mine = await client.query(`SELECT 1 FROM ${approvals} WHERE job_id = $1 AND user_id = $2`, [
            jobId,
            userId,
          ]);
          if (mine.rowCount === 0) return { kind: 'group_taken', job: await toRequest(client, row), groupId };
        }
        const count = await client.query<{ n: string }>(
          `SELECT count(*) AS n FROM ${approvals} WHERE job_id = $1`,
          [jobId],
        );
        const have = Number(count.rows[0]?.n ?? 0);
        const need = row.required_approvals ?? 1;
        if (inserted.rowCount === 0)
          return { kind: 'duplicate', job: await toRequest(client, row), have, need };
        if (have < need) return { kind: 'partial', job: await toRequest(client, row), have, need };
        const res = await client.query<Row>(
          `UPDATE ${jobs} SET state = 'running', decided_by = $2, decided_at = now(), updated_at = now()
            WHERE id = $1 AND state = 'pending' RETURNING ${COLUMNS}`,
          [jobId, userId],
        );
        const updated = res.rows[0];
        if (!updated) throw new Error(`bulk job ${jobId} changed state while locked`);
        return approvedLocked(client, updated, options.approvedNotice);
      });
    },

    markReviewed(jobId, userId, notice) {
      return locked(jobId, async (client, row): Promise<BulkReviewOutcome> => {
        if (!row.needs_review || userId === row.requester) {
          return { kind: 'refused', job: await toRequest(client, row) };
        }
        const res = await client.query<Row>(
          `UPDATE ${jobs} SET needs_review = false, reviewed_by = $2, reviewed_at = now(), updated_at = now()
            WHERE id = $1 RETURNING ${COLUMNS}`,
          [jobId, userId],
        );
        const updated = res.rows[0];
        if (!updated) throw new Error(`bulk job ${jobId} vanished while locked`);
        const job = await toRequest(client, updated);
        const { event, options } = notice(job);
        return { kind: 'done', job, entry: await appendWithin(client, schema, event, options) };
      });
    },

    deny(jobId, userId, reason, expiryNotice, notice) {
      return locked(jobId, async (client, row, open): Promise<BulkDenyOutcome> => {
        if (row.state !== 'pending') return { kind: 'not_open', job: await toRequest(client, row) };
        if (!open) return expireLocked(client, jobId, expiryNotice);
        const res = await client.query<Row>(
          `UPDATE ${jobs} SET state = 'cancelled', decided_by = $2, decided_at = now(), deny_reason = $3,
                  finished_at = now(), updated_at = now()
            WHERE id = $1 AND state = 'pending' RETURNING ${COLUMNS}`,
          [jobId, userId, reason.trim().slice(0, 3000)],
        );
        await client.query(cancelChunks, [jobId]);
        const updated = res.rows[0];
        if (!updated) throw new Error(`bulk job ${jobId} changed state while locked`);
        const job = await toRequest(client, updated);
        if (notice) {
          const { event, options } = notice(job);
          await appendWithin(client, schema, event, options);
        }
        return { kind: 'done', job };
      });
    },

    async expireDue(limit = 100, tell) {
      return withTransaction(pool, async (client) => {
        // SKIP LOCKED: replicas sweeping at once take disjoint rows.
        const res = await client.query<Row>(
          `UPDATE ${jobs} SET state = 'cancelled', decided_at = now(), finished_at = now(), updated_at = now()
            WHERE id IN (
              SELECT id FROM ${jobs} WHERE state = 'pending' AND expires_at <= now()
               ORDER BY expires_at LIMIT $1 FOR UPDATE SKIP LOCKED)
              AND state = 'pending'
            RETURNING ${COLUMNS}`,
          [Math.max(1, Math.min(1000, Math.floor(limit)))],
        );
        const out: BulkRequest[] = [];
        for (const row of res.rows) {
          await client.query(cancelChunks, [row.id]);
          const job = await toRequest(client, row);
          if (tell) {
            const { event, options } = tell(job);
            await appendWithin(client, schema, event, options);
          }
          out.push(job);
        }
        return out;
      });
    },

    async setCardSeq(jobId, seq) {
      await pool.query(`UPDATE ${jobs} SET card_seq = $2 WHERE id = $1`, [jobId, seq]);
    },

    async claimProgress(jobId, intervalMs) {
      const res = await pool.query<{ channel_id: string; progress_seq: string }>(
        `UPDATE ${jobs} SET progress_posted_at = clock_timestamp()
          WHERE id = $1 AND channel_id IS NOT NULL AND progress_seq IS NOT NULL AND reported_at IS NULL
            AND (progress_posted_at IS NULL
                 OR progress_posted_at <= clock_timestamp() - $2::double precision * interval '1 millisecond')
          RETURNING channel_id, progress_seq`,
        [jobId, intervalMs],
      );
      const row = res.rows[0];
      return row ? { channelId: row.channel_id, progressSeq: Number(row.progress_seq) } : null;
    },

    async claimReport(jobId, intervalMs) {
      // The report's edit is booked at the first moment the interval allows, and the slot taken,
      // so a progress edit racing it finds the window closed.
      const res = await pool.query<{ channel_id: string; progress_seq: string; wait_ms: number }>(
        `WITH slot AS (
           SELECT id, greatest(clock_timestamp(),
                    coalesce(progress_posted_at + $2::double precision * interval '1 millisecond', clock_timestamp())) AS at
             FROM ${jobs}
            WHERE id = $1 AND channel_id IS NOT NULL AND progress_seq IS NOT NULL
              AND state IN ('succeeded', 'failed', 'cancelled')
              AND report_seq IS NULL
              AND (reported_at IS NULL
                   OR reported_at < clock_timestamp() - ($2::double precision + ${REPORT_LEASE_MS}) * interval '1 millisecond')
            FOR UPDATE)
         UPDATE ${jobs} j SET reported_at = clock_timestamp(), progress_posted_at = slot.at
           FROM slot WHERE j.id = slot.id
         RETURNING j.channel_id, j.progress_seq,
                   (extract(epoch FROM slot.at - clock_timestamp()) * 1000)::float8 AS wait_ms`,
        [jobId, intervalMs],
      );
      const row = res.rows[0];
      return row
        ? {
            channelId: row.channel_id,
            progressSeq: Number(row.progress_seq),
            waitMs: Math.max(0, row.wait_ms),
          }
        : null;
    },

    async recordReport(jobId, tell) {
      return withTransaction(pool, async (client) => {
        const res = await client.query(
          `SELECT 1 FROM ${jobs} WHERE id = $1 AND report_seq IS NULL FOR UPDATE`,
          [jobId],
        );
        if (res.rowCount === 0) return null;
        const entry = await appendWithin(client, schema, tell.event, tell.options);
        await client.query(`UPDATE ${jobs} SET report_seq = $2 WHERE id = $1`, [jobId, entry.seq]);
        return entry;
      });
    },

    async liveWithThread(limit = 50) {
      const res = await pool.query<{ id: string }>(
        `SELECT id FROM ${jobs}
          WHERE progress_seq IS NOT NULL
            AND (state IN ('running', 'cancelling')
                 OR (state IN ('succeeded', 'failed', 'cancelled') AND report_seq IS NULL))
          ORDER BY created_at LIMIT $1`,
        [Math.max(1, Math.floor(limit))],
      );
      return res.rows.map((r) => r.id);
    },

    async runningSince(jobId) {
      const res = await pool.query<{ at: Date | null; done: number }>(
        `SELECT coalesce(resumed_at, decided_at) AS at,
                (CASE WHEN resumed_at IS NULL THEN 0 ELSE resumed_done END)::int AS done
           FROM ${jobs} WHERE id = $1`,
        [jobId],
      );
      const row = res.rows[0];
      return row?.at ? { at: row.at, done: row.done } : null;
    },
  };
}
