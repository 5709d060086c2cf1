import type pg from 'pg';
import { ErrorCode, RecoveryError } from '../errors.js';
import { appendWithin, type ToldEntry } from './audit.js';
import { newBackupId } from './backups.js';
import { quoteIdent, withTransaction } from './sql.js';
import type { AuditEntry } from './types.js';

/**
 * SQL of the bulk restore: reading Zeus's table as a stream (a server-side cursor in one
 * REPEATABLE READ snapshot, so the list frozen at approval is exactly the rows previewed) and the
 * job, chunk and item rows in the bot's schema (bulk-schema.ts).
 */

export type BulkJobState = 'pending' | 'running' | 'cancelling' | 'cancelled' | 'failed' | 'succeeded';
export type ChunkState = 'pending' | 'working' | 'done' | 'cancelled' | 'failed';
export type ItemOutcome = 'restored' | 'identical' | 'newer' | 'changed' | 'invalid' | 'failed';

/** Which of Zeus's rows are selected; every field is a bound parameter, never SQL text. */
export interface SelectionFilter {
  since: Date;
  until: Date | null;
  status: string | null;
  /** A LIKE pattern with `\` as its escape, built by the core from a validated glob. */
  like: string | null;
}

export interface SourceRow {
  id: string;
  /** `state::text`: the canonical text Postgres gives back for jsonb. */
  state: string;
  updatedAt: Date;
}

export interface BulkJobRow {
  id: string;
  selection: Record<string, unknown>;
  selectionKey: string;
  state: BulkJobState;
  overwrite: boolean;
  maxRate: number | null;
  total: number;
  chunks: number;
  actor: string;
  reason: string;
  createdAt: Date;
  updatedAt: Date;
  finishedAt: Date | null;
  error: string | null;
}

export interface NewBulkJob {
  id: string;
  selection: Record<string, unknown>;
  selectionKey: string;
  state: 'pending' | 'running';
  /** A pending job's expiry, from the freeze (null: none, as a running job has). */
  expiresInMinutes: number | null;
  overwrite: boolean;
  maxRate: number | null;
  chunkSize: number;
  actor: string;
  reason: string;
}

export interface ItemResult {
  conversationId: string;
  outcome: ItemOutcome;
  backupId: string | null;
  detail: string | null;
}

export interface NewBulkBackup {
  conversationId: string;
  key: string;
  value: Buffer;
  checksum: string;
  ttlMs: number | null;
  actor: string;
  reason: string;
  jobId: string;
}

const WHERE = `updated_at >= $1
  AND ($2::timestamptz IS NULL OR updated_at <= $2)
  AND ($3::text IS NULL OR state->>'status' = $3)
  AND ($4::text IS NULL OR id LIKE $4 ESCAPE '\\')`;

function whereValues(f: SelectionFilter): unknown[] {
  return [f.since, f.until, f.status, f.like];
}

/** First key of the two-int advisory lock a chunk is worked under: "ZR" + 2. */
const CHUNK_LOCK_CLASS = 0x5a5202;

/**
 * True while a live session holds the lock of chunk row `c` (a killed worker's lock went with its
 * connection). Only this database's locks: the server's other databases may hold the same keys.
 */
const CHUNK_LOCK_HELD = `EXISTS (
  SELECT 1 FROM pg_locks l
   WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 2
     AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
     AND l.classid = ${CHUNK_LOCK_CLASS}::int::oid AND l.objid = hashtext(c.job_id || ':' || c.chunk)::oid)`;

/** What a job left without a worker is marked with; `job` shows it, and `resume` goes on from it. */
export const ORPHANED_ERROR = 'no live worker';

/** A running (or cancelling) job whose unfinished chunks no worker holds (OrphanStore). */
export interface OrphanCandidate {
  jobId: string;
  state: 'running' | 'cancelling';
  /** The incident channel whose thread tells the job's story; null for a job started from the CLI. */
  channelId: string | null;
  unfinished: number;
}

export function quoteTable(table: string): string {
  return table.split('.').map(quoteIdent).join('.');
}

interface JobRowRaw {
  id: string;
  selection: string;
  selection_key: string;
  state: BulkJobState;
  overwrite: boolean;
  max_rate: number | null;
  total: number;
  chunks: number;
  actor: string;
  reason: string;
  created_at: Date;
  updated_at: Date;
  finished_at: Date | null;
  error: string | null;
}

function toJob(r: JobRowRaw): BulkJobRow {
  return {
    id: r.id,
    selection: JSON.parse(r.selection) as Record<string, unknown>,
    selectionKey: r.selection_key,
    state: r.state,
    overwrite: r.overwrite,
    maxRate: r.max_rate,
    total: r.total,
    chunks: r.chunks,
    actor: r.actor,
    reason: r.reason,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    finishedAt: r.finished_at,
    error: r.error,
  };
}

/**
 * The preview's decision on one row (recovery/bulk/decide.ts), kept with the frozen list so the
 * chunk that writes it need not analyse the same bytes again, in whichever replica works it.
 */
export interface KeptDecision {
  id: string;
  /** SHA-1 of the source's bytes, and of Redis's (null: no copy) when the preview decided. */
  sourceDigest: Buffer;
  redisDigest: Buffer | null;
  group: string;
  problem: string | null;
}

/** An item of a chunk still to be settled. */
export interface OpenItem {
  conversationId: string;
  /** An earlier attempt sent its write: it may have landed. */
  writing: boolean;
  /** null for items frozen before decisions were kept (migration 0020). */
  preview: Omit<KeptDecision, 'id'> | null;
}

export interface BulkStore {
  /**
   * Streams the selected rows in id order, `batch` at a time, inside one snapshot; `freeze`, when
   * given, runs in that same snapshot afterwards (so it sees exactly the rows streamed), and the
   * decisions `onRows` gives back are frozen with their items.
   */
  streamSelection<T>(
    filter: SelectionFilter,
    batch: number,
    onRows: (rows: SourceRow[]) => Promise<readonly KeptDecision[]>,
    freeze?: (tx: Freezer) => Promise<T>,
  ): Promise<T | undefined>;
  /** The current source rows of `ids` (a chunk's worth). */
  readSource(ids: readonly string[]): Promise<SourceRow[]>;
  getJob(id: string): Promise<BulkJobRow | null>;
  listJobs(limit: number): Promise<BulkJobRow[]>;
  counts(jobId: string): Promise<Record<string, number>>;
  /**
   * Runs `fn` holding the chunk's session lock; false when another worker holds it (it is not
   * run). The lock goes with the connection: a worker killed mid-chunk frees it at once.
   */
  withChunkLock(jobId: string, chunk: number, fn: () => Promise<void>): Promise<boolean>;
  /** Marks the chunk working; null when it is no longer to be worked (done, or cancelled). */
  startChunk(jobId: string, chunk: number, worker: string): Promise<{ jobState: BulkJobState } | null>;
  finishChunk(
    jobId: string,
    chunk: number,
    state: 'done' | 'cancelled' | 'failed',
    error?: string,
  ): Promise<void>;
  /** Settles the job once no chunk is pending or working; its final state, or null if not yet. */
  settleJob(jobId: string): Promise<BulkJobState | null>;
  /** Items of the chunk still without a final outcome, in id order. */
  openItems(jobId: string, chunk: number): Promise<OpenItem[]>;
  /**
   * One step of a chunk, in one statement (atomic, one round trip): the backups of the writes about
   * to be sent are stored (their ids returned, in order), the outcomes of the batch before are
   * recorded (and its backups for writes that did not happen dropped), and the chunk's set of
   * conversations whose write may be in flight gains `sending` and loses those recorded.
   */
  advanceChunk(jobId: string, chunk: number, step: ChunkStep): Promise<string[]>;
  /** Stops handing out chunks; a chunk being worked finishes. The state after, or null if none. */
  requestCancel(jobId: string): Promise<BulkJobState | null>;
  /**
   * Puts a cancelled or failed job back to running (a running one stays so), its report to post
   * again; never a Slack job that was not approved. The chunks to enqueue again.
   */
  resume(jobId: string): Promise<number[]>;
  /** Conversations not restored for a reason to look at (changed, invalid, failed), by id, after `after`. */
  failures(
    jobId: string,
    limit: number,
    after?: string,
  ): Promise<Array<{ conversationId: string; outcome: string; detail: string | null }>>;
  /** Chunks by state; `live`: being worked by a worker that holds its lock (is alive) right now. */
  chunkStates(jobId: string): Promise<ChunkCounts>;
  /**
   * Running or cancelling jobs with unfinished chunks, none of them locked by a live worker, and
   * nothing started, finished or resumed for `graceMs` (a job is queued on pg-boss just after it
   * is frozen; the grace covers that moment). pg-boss's own copies are for the caller to check.
   */
  orphanCandidates(graceMs: number, limit: number): Promise<OrphanCandidate[]>;
  /**
   * Marks the job left without a worker, exactly once (one conditional UPDATE, still only while no
   * chunk is locked): running → failed, cancelling → cancelled, its unfinished chunks with it, so
   * `resume` queues them again. `tell(state)` is the audit entry that says so, appended (with its
   * delivery row) in the same transaction: a job is never marked without it, nor told twice.
   * The state it was given and the entry, or null when it was no longer orphaned.
   */
  markOrphaned(
    jobId: string,
    tell: (state: 'failed' | 'cancelled') => ToldEntry,
  ): Promise<{ state: 'failed' | 'cancelled'; entry: AuditEntry } | null>;
}

export interface ChunkStep {
  /** Backups of the overwrites about to be sent: durable before any of them is. */
  backups: readonly NewBulkBackup[];
  /** The conversations whose writes are about to be sent. */
  sending: readonly string[];
  /** Outcomes of the batch before, now known. */
  recorded: readonly ItemResult[];
  /** Backups of that batch taken for writes that did not happen (Redis changed first). */
  unusedBackups: readonly string[];
}

export interface ChunkCounts {
  pending: number;
  working: number;
  done: number;
  cancelled: number;
  failed: number;
  live: number;
}

/** What a preview's snapshot can do once streamed: freeze the list into a job. */
export interface Freezer {
  createJob(job: NewBulkJob, filter: SelectionFilter): Promise<{ total: number; chunks: number }>;
}

export function createBulkStore(pool: pg.Pool, schema: string, zeusTable: string): BulkStore {
  const s = quoteIdent(schema);
  const zeus = quoteTable(zeusTable);

  async function settleJob(jobId: string): Promise<BulkJobState | null> {
    const res = await pool.query<{ state: BulkJobState }>(
      `UPDATE ${s}.bulk_jobs j SET
         state = CASE
           WHEN EXISTS (SELECT 1 FROM ${s}.bulk_job_chunks c WHERE c.job_id = j.id AND c.state = 'failed') THEN 'failed'
           WHEN EXISTS (SELECT 1 FROM ${s}.bulk_job_chunks c WHERE c.job_id = j.id AND c.state = 'cancelled') THEN 'cancelled'
           ELSE 'succeeded' END,
         finished_at = now(), updated_at = now()
       WHERE j.id = $1 AND j.state IN ('running', 'cancelling')
         AND NOT EXISTS (SELECT 1 FROM ${s}.bulk_job_chunks c WHERE c.job_id = j.id AND c.state IN ('pending', 'working'))
       RETURNING state`,
      [jobId],
    );
    return res.rows[0]?.state ?? null;
  }

  return {
    async streamSelection(filter, batch, onRows, freeze) {
      return withTransaction(
        pool,
        async (tx) => {
          // The decisions go to a table of this transaction's own until the freeze joins them
          // to the items: kept in Postgres as they come, never all of them in memory.
          if (freeze) {
            await tx.query(
              `CREATE TEMP TABLE bulk_preview_decisions (
                 conversation_id text, source_sha1 bytea, redis_sha1 bytea, grp text, problem text
               ) ON COMMIT DROP`,
            );
          }
          const keep = async (decisions: readonly KeptDecision[]) => {
            if (!freeze || decisions.length === 0) return;
            await tx.query(
              `INSERT INTO bulk_preview_decisions
               SELECT * FROM unnest($1::text[], $2::bytea[], $3::bytea[], $4::text[], $5::text[])`,
              [
                decisions.map((d) => d.id),
                decisions.map((d) => d.sourceDigest),
                decisions.map((d) => d.redisDigest),
                decisions.map((d) => d.group),
                decisions.map((d) => d.problem),
              ],
            );
          };
          await tx.query(
            `DECLARE bulk_selection NO SCROLL CURSOR FOR
               SELECT id, state::text AS state, updated_at FROM ${zeus} WHERE ${WHERE} ORDER BY id`,
            whereValues(filter),
          );
          const size = Math.max(1, Math.floor(batch));
          const fetchNext = () => {
            const pending = tx.query<{ id: string; state: string; updated_at: Date }>(
              `FETCH ${size} FROM bulk_selection`,
            );
            // Awaited below, unless onRows throws first: the transaction is rolled back then.
            pending.catch(() => undefined);
            return pending;
          };
          // The next batch is asked for before this one is handled, so Postgres turns jsonb into
          // text while the caller analyses: one batch ahead, never more (memory stays bounded).
          // One query at a time on the connection (pg queues no more from 9.0): a batch's
          // decisions are kept once the FETCH ahead of it is back, before the next is asked for.
          let next = fetchNext();
          let decided: readonly KeptDecision[] = [];
          for (;;) {
            const res = await next;
            await keep(decided);
            decided = [];
            const more = res.rows.length >= size;
            if (more) next = fetchNext();
            if (res.rows.length > 0) {
              decided = await onRows(
                res.rows.map((r) => ({ id: r.id, state: r.state, updatedAt: r.updated_at })),
              );
            }
            if (!more) break;
          }
          await keep(decided);
          await tx.query('CLOSE bulk_selection');
          if (!freeze) return undefined;
          return freeze({
            async createJob(job, f) {
              await tx.query(
                `INSERT INTO ${s}.bulk_jobs (id, selection, selection_key, state, overwrite, max_rate, total, chunks, actor, reason, expires_at)
                 VALUES ($1, $2, $3, $4, $5, $6, 0, 0, $7, $8, now() + $9::double precision * interval '1 minute')`,
                [
                  job.id,
                  JSON.stringify(job.selection),
                  job.selectionKey,
                  job.state,
                  job.overwrite,
                  job.maxRate,
                  job.actor,
                  job.reason,
                  job.expiresInMinutes,
                ],
              );
              // Numbered by id order inside the snapshot: the same rows the preview streamed.
              const items = await tx.query(
                `INSERT INTO ${s}.bulk_job_items
                   (job_id, conversation_id, chunk, preview_source_sha1, preview_redis_sha1, preview_group, preview_problem)
                 SELECT $5, z.id, z.chunk, d.source_sha1, d.redis_sha1, d.grp, d.problem
                   FROM (SELECT id, ((row_number() OVER (ORDER BY id)) - 1) / $6 AS chunk
                           FROM ${zeus} WHERE ${WHERE}) z
                   LEFT JOIN bulk_preview_decisions d ON d.conversation_id = z.id`,
                [...whereValues(f), job.id, job.chunkSize],
              );
              const total = items.rowCount ?? 0;
              // The chunks update these rows by id, batch by batch, right after this. Planned on
              // statistics from before a large freeze, those updates scan the whole table each
              // time (a 100k job: 27x the 10k time, not 10x). ANALYZE samples a bounded number
              // of rows, whatever the table's size.
              await tx.query(`ANALYZE ${s}.bulk_job_items`);
              const chunks = Math.ceil(total / job.chunkSize);
              await tx.query(
                `INSERT INTO ${s}.bulk_job_chunks (job_id, chunk, state)
                 SELECT $1, g, 'pending' FROM generate_series(0, $2::int - 1) g`,
                [job.id, chunks],
              );
              await tx.query(`UPDATE ${s}.bulk_jobs SET total = $2, chunks = $3 WHERE id = $1`, [
                job.id,
                total,
                chunks,
              ]);
              return { total, chunks };
            },
          });
        },
        'BEGIN ISOLATION LEVEL REPEATABLE READ',
      ).catch((err: unknown) => {
        if ((err as { code?: string }).code === '23505') {
          throw new RecoveryError(
            ErrorCode.Conflict,
            'A bulk restore of this same selection is already pending or running.',
            'Follow it with `zeus-recover jobs` / `job <jobId>`, or cancel it before starting another.',
            { cause: err },
          );
        }
        throw err;
      });
    },

    async readSource(ids) {
      const res = await pool.query<{ id: string; state: string; updated_at: Date }>(
        `SELECT id, state::text AS state, updated_at FROM ${zeus} WHERE id = ANY($1::text[])`,
        [ids],
      );
      return res.rows.map((r) => ({ id: r.id, state: r.state, updatedAt: r.updated_at }));
    },

    async getJob(id) {
      const res = await pool.query<JobRowRaw>(`SELECT * FROM ${s}.bulk_jobs WHERE id = $1`, [id]);
      const row = res.rows[0];
      return row ? toJob(row) : null;
    },

    async listJobs(limit) {
      const res = await pool.query<JobRowRaw>(
        `SELECT * FROM ${s}.bulk_jobs ORDER BY created_at DESC, id DESC LIMIT $1`,
        [Math.max(1, Math.floor(limit))],
      );
      return res.rows.map(toJob);
    },

    async counts(jobId) {
      const res = await pool.query<{ outcome: string; n: string }>(
        `SELECT outcome, count(*) AS n FROM ${s}.bulk_job_items
          WHERE job_id = $1 AND outcome IS NOT NULL AND outcome <> 'writing' GROUP BY outcome`,
        [jobId],
      );
      return Object.fromEntries(res.rows.map((r) => [r.outcome, Number(r.n)]));
    },

    async withChunkLock(jobId, chunk, fn) {
      const client = await pool.connect();
      let broken: Error | undefined;
      try {
        const key = `${jobId}:${chunk}`;
        const got = await client.query<{ ok: boolean }>(
          'SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok',
          [CHUNK_LOCK_CLASS, key],
        );
        if (got.rows[0]?.ok !== true) return false;
        try {
          await fn();
        } finally {
          await client
            .query('SELECT pg_advisory_unlock($1, hashtext($2))', [CHUNK_LOCK_CLASS, key])
            .catch((err: Error) => {
              // A connection that cannot unlock must not go back to the pool holding the lock.
              broken = err;
            });
        }
        return true;
      } catch (err) {
        broken = err as Error;
        throw err;
      } finally {
        client.release(broken);
      }
    },

    async startChunk(jobId, chunk, worker) {
      const res = await pool.query<{ job_state: BulkJobState }>(
        `UPDATE ${s}.bulk_job_chunks c SET state = 'working', worker = $3, attempts = attempts + 1,
                started_at = now(), error = NULL
           FROM ${s}.bulk_jobs j
          WHERE c.job_id = $1 AND c.chunk = $2 AND j.id = c.job_id
            AND c.state IN ('pending', 'working') AND j.state IN ('running', 'cancelling')
          RETURNING j.state AS job_state`,
        [jobId, chunk, worker],
      );
      const row = res.rows[0];
      return row ? { jobState: row.job_state } : null;
    },

    async finishChunk(jobId, chunk, state, error) {
      await pool.query(
        `UPDATE ${s}.bulk_job_chunks SET state = $3, finished_at = now(), error = $4
          WHERE job_id = $1 AND chunk = $2`,
        [jobId, chunk, state, error ?? null],
      );
    },

    settleJob,

    async openItems(jobId, chunk) {
      const res = await pool.query<{
        conversation_id: string;
        writing: boolean | null;
        preview_source_sha1: Buffer | null;
        preview_redis_sha1: Buffer | null;
        preview_group: string | null;
        preview_problem: string | null;
      }>(
        `SELECT i.conversation_id, i.outcome = 'writing' OR i.conversation_id = ANY(c.writing) AS writing,
                i.preview_source_sha1, i.preview_redis_sha1, i.preview_group, i.preview_problem
           FROM ${s}.bulk_job_items i
           JOIN ${s}.bulk_job_chunks c ON c.job_id = i.job_id AND c.chunk = i.chunk
          WHERE i.job_id = $1 AND i.chunk = $2 AND (i.outcome IS NULL OR i.outcome = 'writing')
          ORDER BY i.conversation_id`,
        [jobId, chunk],
      );
      return res.rows.map((r) => ({
        conversationId: r.conversation_id,
        writing: r.writing === true,
        preview:
          r.preview_source_sha1 && r.preview_group
            ? {
                sourceDigest: r.preview_source_sha1,
                redisDigest: r.preview_redis_sha1,
                group: r.preview_group,
                problem: r.preview_problem,
              }
            : null,
      }));
    },

    async advanceChunk(jobId, chunk, step) {
      const { backups, sending, recorded, unusedBackups } = step;
      const ids = backups.map(() => newBackupId());
      const values: unknown[] = [
        jobId,
        chunk,
        sending,
        recorded.map((r) => r.conversationId),
        recorded.map((r) => r.outcome),
        recorded.map((r) => r.backupId),
        recorded.map((r) => r.detail),
        unusedBackups,
      ];
      // Each backup's value goes as its own binary bytea parameter, so every byte survives.
      const tuples = backups.map((b, i) => {
        const o = values.length;
        values.push(
          ids[i],
          b.conversationId,
          b.key,
          b.value,
          b.checksum,
          b.ttlMs,
          b.actor,
          b.reason,
          b.jobId,
        );
        return `($${o + 1}, $${o + 2}, $${o + 3}, true, $${o + 4}, $${o + 5}, $${o + 6}, $${o + 7}, $${o + 8}, $${o + 9}, 'bulk-restore')`;
      });
      const insert =
        tuples.length === 0
          ? ''
          : `stored AS (
               INSERT INTO ${s}.backups (id, conversation_id, redis_key, existed, value, checksum, ttl_ms, actor, reason, request_id, taken_for)
               VALUES ${tuples.join(', ')} RETURNING 1),`;
      // One statement: every part of it happens or none does, without BEGIN/COMMIT round trips.
      await pool.query(
        `WITH ${insert}
         recorded AS (
           UPDATE ${s}.bulk_job_items i SET outcome = r.outcome, backup_id = r.backup_id, detail = r.detail
             FROM unnest($4::text[], $5::text[], $6::text[], $7::text[]) AS r(conversation_id, outcome, backup_id, detail)
            WHERE i.job_id = $1 AND i.conversation_id = r.conversation_id
           RETURNING 1),
         dropped AS (DELETE FROM ${s}.backups WHERE id = ANY($8::text[]) RETURNING 1)
         UPDATE ${s}.bulk_job_chunks SET writing = ARRAY(
             SELECT unnest(coalesce(writing, '{}'::text[]) || $3::text[]) EXCEPT SELECT unnest($4::text[]))
          WHERE job_id = $1 AND chunk = $2`,
        values,
      );
      return ids;
    },

    async requestCancel(jobId) {
      return withTransaction(pool, async (tx) => {
        const job = await tx.query<{ state: BulkJobState }>(
          `UPDATE ${s}.bulk_jobs SET state = 'cancelling', updated_at = now()
            WHERE id = $1 AND state IN ('pending', 'running', 'cancelling') RETURNING state`,
          [jobId],
        );
        if (job.rowCount === 0) {
          const now = await tx.query<{ state: BulkJobState }>(
            `SELECT state FROM ${s}.bulk_jobs WHERE id = $1`,
            [jobId],
          );
          return now.rows[0]?.state ?? null;
        }
        await tx.query(
          `UPDATE ${s}.bulk_job_chunks SET state = 'cancelled', finished_at = now()
            WHERE job_id = $1 AND state = 'pending'`,
          [jobId],
        );
        return 'cancelling';
      }).then(async (state) => (state === 'cancelling' ? ((await settleJob(jobId)) ?? 'cancelling') : state));
    },

    async resume(jobId) {
      return withTransaction(pool, async (tx) => {
        // A job still running (its worker was killed, no replica works chunks) is picked up as it is.
        const running = await tx.query<{ chunk: number }>(
          `SELECT c.chunk FROM ${s}.bulk_job_chunks c JOIN ${s}.bulk_jobs j ON j.id = c.job_id
            WHERE j.id = $1 AND j.state = 'running' AND c.state IN ('pending', 'working') ORDER BY c.chunk`,
          [jobId],
        );
        if (running.rowCount) return running.rows.map((r) => r.chunk);
        // Asked for in Slack (it waited for approval: it has an expiry) and never approved: a
        // resume would run what nobody approved, whoever asks.
        const neverApproved = `(j.expires_at IS NOT NULL AND coalesce(j.required_approvals, 1) >
          (SELECT count(*) FROM ${s}.bulk_job_approvals a WHERE a.job_id = j.id))`;
        const job = await tx.query(
          // reported_at and report_seq in the same move: a Slack job reports again when it settles again, and a
          // sweep poking settled jobs never finds it settled and unreported in between.
          // resumed_at and resumed_done: the progress message's rate counts from here, not from the approval.
          `UPDATE ${s}.bulk_jobs j SET state = 'running', finished_at = NULL, error = NULL, reported_at = NULL, report_seq = NULL,
                  updated_at = now(), resumed_at = clock_timestamp(),
                  resumed_done = (SELECT count(*) FROM ${s}.bulk_job_items i
                                   WHERE i.job_id = j.id AND i.outcome IS NOT NULL AND i.outcome <> 'writing')
            WHERE id = $1 AND state IN ('cancelled', 'failed') AND NOT ${neverApproved}`,
          [jobId],
        );
        if (job.rowCount === 0) {
          const now = await tx.query<{ state: string; never_approved: boolean }>(
            `SELECT state, ${neverApproved} AS never_approved FROM ${s}.bulk_jobs j WHERE id = $1`,
            [jobId],
          );
          const state = now.rows[0]?.state;
          if (state === 'pending') {
            throw new RecoveryError(
              ErrorCode.RequestState,
              `Job ${jobId} is waiting for approval in Slack: a resume would run it unapproved.`,
              'Approve it in its Slack thread (someone other than the requester), or cancel it there.',
            );
          }
          if (now.rows[0]?.never_approved) {
            throw new RecoveryError(
              ErrorCode.Forbidden,
              `Job ${jobId} was asked for in Slack and never approved (it was ${state} before approval): a resume would run what nobody approved.`,
              'Start a new bulk restore of that selection (it is previewed again and asks for approval); this one stays as it is.',
            );
          }
          throw new RecoveryError(
            state ? ErrorCode.RequestState : ErrorCode.NotFound,
            state
              ? `Job ${jobId} is ${state}: only a cancelled or failed job can be resumed.`
              : `Job ${jobId} does not exist.`,
            state ? 'See it with `zeus-recover job <jobId>`.' : 'List recent jobs with `zeus-recover jobs`.',
          );
        }
        const chunks = await tx.query<{ chunk: number }>(
          `UPDATE ${s}.bulk_job_chunks SET state = 'pending', error = NULL, finished_at = NULL
            WHERE job_id = $1 AND state IN ('cancelled', 'failed') RETURNING chunk`,
          [jobId],
        );
        return chunks.rows.map((r) => r.chunk).sort((a, b) => a - b);
      }).catch((err: unknown) => {
        if ((err as { code?: string }).code === '23505') {
          throw new RecoveryError(
            ErrorCode.Conflict,
            `Job ${jobId} cannot resume: another job of the same selection is pending or running.`,
            'Let that one finish (or cancel it), then resume.',
            { cause: err },
          );
        }
        throw err;
      });
    },

    async chunkStates(jobId) {
      // A chunk's lock is held by its worker's session: a killed worker's lock is gone with it.
      const res = await pool.query<ChunkCounts>(
        `SELECT count(*) FILTER (WHERE state = 'pending')::int AS pending,
                count(*) FILTER (WHERE state = 'working')::int AS working,
                count(*) FILTER (WHERE state = 'done')::int AS done,
                count(*) FILTER (WHERE state = 'cancelled')::int AS cancelled,
                count(*) FILTER (WHERE state = 'failed')::int AS failed,
                count(*) FILTER (WHERE state = 'working' AND ${CHUNK_LOCK_HELD})::int AS live
           FROM ${s}.bulk_job_chunks c WHERE c.job_id = $1`,
        [jobId],
      );
      return res.rows[0] ?? { pending: 0, working: 0, done: 0, cancelled: 0, failed: 0, live: 0 };
    },

    async orphanCandidates(graceMs, limit) {
      const res = await pool.query<{
        id: string;
        state: 'running' | 'cancelling';
        channel_id: string | null;
        unfinished: number;
      }>(
        `SELECT j.id, j.state, j.channel_id,
                (SELECT count(*) FROM ${s}.bulk_job_chunks c
                  WHERE c.job_id = j.id AND c.state IN ('pending', 'working'))::int AS unfinished
           FROM ${s}.bulk_jobs j
          WHERE j.state IN ('running', 'cancelling')
            AND j.updated_at < now() - $1::float8 * interval '1 millisecond'
            AND EXISTS (SELECT 1 FROM ${s}.bulk_job_chunks c WHERE c.job_id = j.id AND c.state IN ('pending', 'working'))
            AND NOT EXISTS (
              SELECT 1 FROM ${s}.bulk_job_chunks c
               WHERE c.job_id = j.id
                 AND (c.started_at >= now() - $1::float8 * interval '1 millisecond'
                      OR c.finished_at >= now() - $1::float8 * interval '1 millisecond'
                      OR (c.state = 'working' AND ${CHUNK_LOCK_HELD})))
          ORDER BY j.created_at LIMIT $2`,
        [Math.max(0, graceMs), Math.max(1, Math.floor(limit))],
      );
      return res.rows.map((r) => ({
        jobId: r.id,
        state: r.state,
        channelId: r.channel_id,
        unfinished: r.unfinished,
      }));
    },

    async markOrphaned(jobId, tell) {
      return withTransaction(pool, async (tx) => {
        const job = await tx.query<{ state: 'failed' | 'cancelled' }>(
          `UPDATE ${s}.bulk_jobs j
              SET state = CASE WHEN j.state = 'cancelling' THEN 'cancelled' ELSE 'failed' END,
                  error = $2, finished_at = now(), updated_at = now()
            WHERE j.id = $1 AND j.state IN ('running', 'cancelling')
              AND EXISTS (SELECT 1 FROM ${s}.bulk_job_chunks c WHERE c.job_id = j.id AND c.state IN ('pending', 'working'))
              AND NOT EXISTS (SELECT 1 FROM ${s}.bulk_job_chunks c WHERE c.job_id = j.id AND c.state = 'working' AND ${CHUNK_LOCK_HELD})
            RETURNING j.state`,
          [jobId, ORPHANED_ERROR],
        );
        const state = job.rows[0]?.state ?? null;
        if (state === null) return null;
        await tx.query(
          `UPDATE ${s}.bulk_job_chunks SET state = $2, error = $3, finished_at = now()
            WHERE job_id = $1 AND state IN ('pending', 'working')`,
          [jobId, state, ORPHANED_ERROR],
        );
        const { event, options } = tell(state);
        return { state, entry: await appendWithin(tx, schema, event, options) };
      });
    },

    async failures(jobId, limit, after = '') {
      const res = await pool.query<{ conversation_id: string; outcome: string; detail: string | null }>(
        `SELECT conversation_id, outcome, detail FROM ${s}.bulk_job_items
          WHERE job_id = $1 AND outcome IN ('failed', 'changed', 'invalid') AND conversation_id > $3
          ORDER BY conversation_id LIMIT $2`,
        [jobId, Math.max(0, Math.floor(limit)), after],
      );
      return res.rows.map((r) => ({
        conversationId: r.conversation_id,
        outcome: r.outcome,
        detail: r.detail,
      }));
    },
  };
}
