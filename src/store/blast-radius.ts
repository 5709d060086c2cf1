import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { AuditEvent } from '../audit-vocabulary.js';
import { ErrorCode, RecoveryError } from '../errors.js';
import { appendWithin, type ToldEntry } from './audit.js';
import { quoteIdent, withTransaction } from './sql.js';
import type { AuditEntry } from './types.js';

/**
 * Blast-radius limits (docs/approval-policies.md), counted in Postgres so every replica sees the
 * same numbers:
 *
 * - the hourly limit counts destructive requests opened in the last rolling hour, Slack requests,
 *   Slack bulk jobs and the CLI's destructive operations (cli_operations) alike, except those that ended without running anything (denied,
 *   cancelled, expired) and unlocks (they write no conversation). A request is counted and inserted under one transaction-scoped advisory
 *   lock (reserveHourlySlot, called by the request store's create), so two replicas opening the
 *   last slot at once cannot both get it.
 * - the breaker counts restores and undos that failed (or whose outcome is unknown) since the
 *   last one that succeeded and the last approved reset.
 */

export interface BlastRadiusLimits {
  maxPerHour: number | null;
  breakerFailures: number | null;
}

export interface BreakerReset {
  id: string;
  channelId: string;
  requester: string;
  reason: string;
  state: 'requested' | 'approved';
  approvedBy: string | null;
  createdAt: string;
  approvedAt: string | null;
  /** The audit entry delivered as its approval message (edited once approved). */
  messageSeq: number | null;
}

export interface BlastRadiusStatus {
  hourly: {
    max: number | null;
    used: number;
    /** When the next slot frees (ISO 8601, database clock); null while under the limit. */
    freesAt: string | null;
  };
  breaker: {
    threshold: number | null;
    failuresInARow: number;
    open: boolean;
    resetPending: { id: string; requester: string; reason: string } | null;
  };
}

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

/**
 * When a full window frees a slot: the request that must age out is the (used − max + 1)-th
 * oldest of those counted, and it stops counting an hour after it was opened. `createdAt` is
 * oldest first. Null while under the limit.
 */
export function windowFreesAt(createdAt: readonly string[], max: number | null): string | null {
  if (max === null || createdAt.length < max) return null;
  const pivot = createdAt[createdAt.length - max];
  return pivot === undefined ? null : new Date(Date.parse(pivot) + 3_600_000).toISOString();
}

/** Opening a request would pass the hourly limit; the view says the count and when it frees. */
export class HourlyLimitReached extends RecoveryError {
  readonly used: number;
  readonly max: number;
  readonly freesAt: string | null;

  constructor(used: number, max: number, freesAt: string | null) {
    super(
      ErrorCode.Forbidden,
      `${used} destructive requests were opened in the last hour; the limit is ${max}.`,
      freesAt ? `A slot frees at ${freesAt}.` : 'Wait for a slot to free.',
      { details: { used, max, freesAt } },
    );
    this.name = 'HourlyLimitReached';
    this.used = used;
    this.max = max;
    this.freesAt = freesAt;
  }
}

/** The audit entry of a request refused by the hourly limit (appended without delivery). */
export function hourlyRefusedEvent(
  err: HourlyLimitReached,
  actor: string,
  kind: string,
  conversationId: string | null,
): AuditEvent<'policy.refused'> {
  return {
    action: 'policy.refused',
    actor,
    conversationId,
    requestId: null,
    data: {
      rule: 'hourly_limit',
      kind,
      used: err.used,
      max: err.max,
      freesAt: err.freesAt,
      failuresInARow: null,
      threshold: null,
    },
  };
}

function counted(s: string): string {
  return `
    SELECT created_at FROM ${s}.requests
     WHERE created_at > now() - interval '1 hour' AND state NOT IN ('denied', 'cancelled', 'expired')
       AND kind <> 'unlock'
    UNION ALL
    SELECT created_at FROM ${s}.bulk_jobs
     WHERE created_at > now() - interval '1 hour' AND requester IS NOT NULL AND state <> 'cancelled'
    UNION ALL
    SELECT created_at FROM ${s}.cli_operations WHERE created_at > now() - interval '1 hour'`;
}

async function hourly(db: Queryable, s: string, max: number | null): Promise<BlastRadiusStatus['hourly']> {
  const res = await db.query<{ used: string; newest: Date[] | null }>(
    `WITH c AS (${counted(s)})
     SELECT (SELECT count(*) FROM c) AS used,
            (SELECT array_agg(created_at ORDER BY created_at)
               FROM (SELECT created_at FROM c ORDER BY created_at DESC LIMIT $1) n) AS newest`,
    [max ?? 0],
  );
  const used = Number(res.rows[0]?.used ?? 0);
  const newest = (res.rows[0]?.newest ?? []).map((d) => new Date(d).toISOString());
  return {
    max,
    used,
    freesAt: used >= (max ?? Number.POSITIVE_INFINITY) ? windowFreesAt(newest, max) : null,
  };
}

async function failuresInARow(db: Queryable, s: string): Promise<number> {
  const res = await db.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${s}.requests
      WHERE kind IN ('restore', 'undo') AND state IN ('failed', 'unknown') AND finished_at IS NOT NULL
        AND finished_at > coalesce((SELECT max(finished_at) FROM ${s}.requests
                                     WHERE kind IN ('restore', 'undo') AND state = 'succeeded'), '-infinity')
        AND finished_at > coalesce((SELECT max(approved_at) FROM ${s}.breaker_resets
                                     WHERE state = 'approved'), '-infinity')`,
  );
  return Number(res.rows[0]?.n ?? 0);
}

interface ResetRow {
  id: string;
  channel_id: string;
  requester: string;
  reason: string;
  state: 'requested' | 'approved';
  approved_by: string | null;
  created_at: Date;
  approved_at: Date | null;
  message_seq: string | null;
}

const RESET_COLUMNS =
  'id, channel_id, requester, reason, state, approved_by, created_at, approved_at, message_seq';

function toReset(r: ResetRow): BreakerReset {
  return {
    id: r.id,
    channelId: r.channel_id,
    requester: r.requester,
    reason: r.reason,
    state: r.state,
    approvedBy: r.approved_by,
    createdAt: r.created_at.toISOString(),
    approvedAt: r.approved_at === null ? null : r.approved_at.toISOString(),
    messageSeq: r.message_seq === null ? null : Number(r.message_seq),
  };
}

async function pendingReset(db: Queryable, s: string): Promise<BreakerReset | null> {
  const res = await db.query<ResetRow>(
    `SELECT ${RESET_COLUMNS} FROM ${s}.breaker_resets WHERE state = 'requested'`,
  );
  const row = res.rows[0];
  return row ? toReset(row) : null;
}

/** The hourly limit and the breaker as they stand now (App Home, the refusals). */
export async function blastRadiusStatus(
  db: Pick<pg.Pool, 'query'>,
  schema: string,
  limits: BlastRadiusLimits,
): Promise<BlastRadiusStatus> {
  const s = quoteIdent(schema);
  const [h, failures, pending] = await Promise.all([
    hourly(db, s, limits.maxPerHour),
    failuresInARow(db, s),
    pendingReset(db, s),
  ]);
  return {
    hourly: h,
    breaker: {
      threshold: limits.breakerFailures,
      failuresInARow: failures,
      open: limits.breakerFailures !== null && failures >= limits.breakerFailures,
      resetPending: pending ? { id: pending.id, requester: pending.requester, reason: pending.reason } : null,
    },
  };
}

/**
 * Inside the transaction that inserts a request: waits for the workspace's hourly lock, counts,
 * and throws HourlyLimitReached when full. The lock is released by the caller's COMMIT or
 * ROLLBACK, after the new row is visible, so the next opener counts it; a cut connection rolls
 * back and frees it.
 */
export async function reserveHourlySlot(
  client: pg.PoolClient,
  schema: string,
  max: number | null,
): Promise<void> {
  if (max === null) return;
  const s = quoteIdent(schema);
  await client.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', [
    `${schema}.destructive_per_hour`,
  ]);
  const h = await hourly(client, s, max);
  if (h.used >= max) throw new HourlyLimitReached(h.used, max, h.freesAt);
}

/**
 * A destructive CLI operation about to run: counted in the hourly window whether or not a limit
 * is set (App Home and the bot's limit see it), and refused past `max` (HourlyLimitReached),
 * under the same lock as a request's opening. Taken before anything is written.
 */
export async function reserveCliOperation(
  pool: pg.Pool,
  schema: string,
  op: { kind: string; actor: string; conversationId: string | null },
  max: number | null,
): Promise<void> {
  await withTransaction(pool, async (client) => {
    await reserveHourlySlot(client, schema, max);
    await client.query(
      `INSERT INTO ${quoteIdent(schema)}.cli_operations (id, kind, actor, conversation_id) VALUES ($1, $2, $3, $4)`,
      [`op_${randomUUID()}`, op.kind, op.actor, op.conversationId],
    );
  });
}

/** How many restores failed in a row (the breaker's count), for the approval check. */
export function breakerFailuresInARow(db: Pick<pg.Pool, 'query'>, schema: string): Promise<number> {
  return failuresInARow(db, quoteIdent(schema));
}

export type ResetOutcome =
  /** With a notice, `entry` is the `breaker.reset_approved` appended in the same transaction. */
  | { kind: 'approved'; reset: BreakerReset; entry: AuditEntry | null }
  /** Nothing waits for approval (already approved, or never asked). */
  | { kind: 'none' }
  | { kind: 'own_request'; reset: BreakerReset };

export interface BreakerResetStore {
  /** Files a reset; an existing waiting one is returned instead (`created: false`). */
  request(input: {
    channelId: string;
    requester: string;
    reason: string;
  }): Promise<{ reset: BreakerReset; created: boolean }>;
  get(id: string): Promise<BreakerReset | null>;
  /**
   * requested → approved under the row lock; never by the requester. `notice` is appended in the
   * same transaction: a cut between them would close the breaker with the decision never told.
   */
  approve(id: string, userId: string, notice?: (reset: BreakerReset) => ToldEntry): Promise<ResetOutcome>;
  setMessageSeq(id: string, seq: number): Promise<void>;
}

export function createBreakerResetStore(pool: pg.Pool, schema: string): BreakerResetStore {
  const s = quoteIdent(schema);

  async function request(input: { channelId: string; requester: string; reason: string }) {
    const res = await pool.query<ResetRow>(
      `INSERT INTO ${s}.breaker_resets (id, channel_id, requester, reason) VALUES ($1, $2, $3, $4)
       ON CONFLICT DO NOTHING RETURNING ${RESET_COLUMNS}`,
      [`br_${randomUUID()}`, input.channelId, input.requester, input.reason],
    );
    const row = res.rows[0];
    if (row) return { reset: toReset(row), created: true };
    const waiting = await pendingReset(pool, s);
    if (waiting) return { reset: waiting, created: false };
    // Approved between our insert and this read: file ours again.
    return request(input);
  }

  async function get(id: string): Promise<BreakerReset | null> {
    const res = await pool.query<ResetRow>(`SELECT ${RESET_COLUMNS} FROM ${s}.breaker_resets WHERE id = $1`, [
      id,
    ]);
    const row = res.rows[0];
    return row ? toReset(row) : null;
  }

  async function approve(
    id: string,
    userId: string,
    notice?: (reset: BreakerReset) => ToldEntry,
  ): Promise<ResetOutcome> {
    return withTransaction(pool, async (client) => {
      const res = await client.query<ResetRow>(
        `SELECT ${RESET_COLUMNS} FROM ${s}.breaker_resets WHERE id = $1 FOR UPDATE`,
        [id],
      );
      const row = res.rows[0];
      if (row?.state !== 'requested') return { kind: 'none' } as const;
      if (row.requester === userId) return { kind: 'own_request', reset: toReset(row) } as const;
      const done = await client.query<ResetRow>(
        `UPDATE ${s}.breaker_resets SET state = 'approved', approved_by = $2, approved_at = clock_timestamp()
         WHERE id = $1 RETURNING ${RESET_COLUMNS}`,
        [id, userId],
      );
      const updated = done.rows[0];
      if (!updated) throw new Error(`breaker reset ${id} vanished while locked`);
      const reset = toReset(updated);
      const told = notice?.(reset);
      const entry = told ? await appendWithin(client, schema, told.event, told.options) : null;
      return { kind: 'approved', reset, entry } as const;
    });
  }

  async function setMessageSeq(id: string, seq: number): Promise<void> {
    await pool.query(`UPDATE ${s}.breaker_resets SET message_seq = $2 WHERE id = $1`, [id, seq]);
  }

  return { request, get, approve, setMessageSeq };
}
