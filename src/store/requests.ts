import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { Approval, RecoveryRequest, RequestKind, RequestPlan, RequestState } from '../approval/types.js';
import { ErrorCode, RecoveryError } from '../errors.js';
import { appendWithin, type ToldEntry } from './audit.js';
import { breakerFailuresInARow, reserveHourlySlot } from './blast-radius.js';
import { quoteIdent, withTransaction } from './sql.js';
import type { AuditEntry } from './types.js';

/**
 * Approval requests in Postgres. Every transition is a single conditional UPDATE
 * (… WHERE state = <expected>) or runs under a row lock (SELECT … FOR UPDATE), so a double
 * click, a Slack retry or two replicas racing can never move a request twice: exactly one
 * caller gets 'approved', 'done', 'expired' or `true` for any given move.
 *
 * Expiry is judged by the database clock (now()), never by a replica's clock.
 *
 * Who may approve or cancel is decided in approval/rules.ts before these are called; the store
 * only re-checks the one rule that must never slip through a handler bug: the requester cannot
 * approve their own request.
 *
 * Outcomes are data (which move, which request as it now stands); src/views words them.
 */

/** What filing a request takes: the request's own fields, and how long it stays open. */
export type NewRequest = Pick<
  RecoveryRequest,
  'kind' | 'conversationId' | 'channelId' | 'requester' | 'reason' | 'plan' | 'requiredApprovals'
> & {
  ttlMinutes: number;
  /** APPROVER_GROUPS: each approval must count for a different one. */
  approverGroups?: readonly string[];
  /** MAX_DESTRUCTIVE_PER_HOUR: counted and inserted under one lock (store/blast-radius.ts). */
  maxPerHour?: number | null;
  /**
   * `request.created` (the approval message), appended in the transaction that opens the request:
   * an open request nobody was shown would hold its conversation until it expired.
   */
  createdNotice?: (request: RecoveryRequest) => ToldEntry;
};

/**
 * The audit entry that tells a request expired (with its delivery row to the thread), appended in
 * the transaction that expires it: a request is never expired without it, nor told twice.
 */
export type ExpiryNotice = (request: RecoveryRequest) => ToldEntry;

/** What an approval carries besides who: the policies it was checked under. */
export interface ApproveOptions {
  /** The approver group it counts for; a second approval for the same group is refused. */
  groupId?: string | null;
  /** The requester approving their own request (BREAK_GLASS=on): approves it outright, flagged. */
  breakGlassReason?: string;
  /** BREAKER_FAILURES: no approval counts while this many restores failed in a row. */
  breakerFailures?: number | null;
  /** Appended with the expiry should this click find the request past its window. */
  expiryNotice?: ExpiryNotice;
  /**
   * Appended with an approval that counted but did not complete the request, in its transaction:
   * a cut between them would leave an approval the audit log and the thread never hear of. The
   * completing one is told after its commit: a death before that leaves an approved request the
   * crash sweeper settles and tells (docs/reliability.md, kill -9 "approved, before it started").
   */
  partialNotice?: (request: RecoveryRequest) => ToldEntry;
}

/** The entry telling a deny or a cancel, appended in the transaction that makes it. */
export type DecisionNotice = (request: RecoveryRequest) => ToldEntry;

/** The request exists but is past the state this move needs; `request` says which and by whom. */
export type NotOpen = { kind: 'not_open'; request: RecoveryRequest };
/**
 * This call found it past expires_at and moved it to expired. Given an ExpiryNotice, the notice
 * was appended in the same transaction; without one, the caller posts it.
 */
export type Expired = { kind: 'expired'; request: RecoveryRequest };
export type Done = { kind: 'done'; request: RecoveryRequest };

export type ApproveOutcome =
  /** This click completed the approvals; exactly one caller ever gets this for a request. */
  | { kind: 'approved'; request: RecoveryRequest }
  /** Counted; more approvals are needed. */
  | { kind: 'partial'; request: RecoveryRequest; have: number; need: number }
  /** This user had already approved; nothing changed. */
  | { kind: 'duplicate'; request: RecoveryRequest; have: number; need: number }
  /** Another approval already counted for this group (unique index); nothing changed. */
  | { kind: 'group_taken'; request: RecoveryRequest; groupId: string }
  /** The circuit breaker is open; nothing changed. */
  | { kind: 'breaker_open'; request: RecoveryRequest; failuresInARow: number; threshold: number }
  | NotOpen
  | Expired;

export type DenyOutcome = Done | NotOpen | Expired;
export type CancelOutcome =
  | Done
  | NotOpen
  | Expired
  /** Someone other than the requester tried; nothing changed. */
  | { kind: 'refused'; request: RecoveryRequest };
export type StaleOutcome = Done | NotOpen;
/**
 * Mark reviewed: `done` with the `request.reviewed` entry appended in the same transaction, or
 * `refused` (nothing changed) when it is not flagged or the requester tries it themselves.
 */
export type ReviewOutcome =
  | { kind: 'done'; request: RecoveryRequest; entry: AuditEntry }
  | { kind: 'refused'; request: RecoveryRequest };
/** The `request.reviewed` entry for a request whose flag was just cleared. */
export type ReviewNotice = (request: RecoveryRequest) => ToldEntry;
export type FinishOutcome = Done | NotOpen;
export type FinishState = 'succeeded' | 'failed' | 'unknown';
const FINISH_STATES: readonly string[] = ['succeeded', 'failed', 'unknown'] satisfies FinishState[];

/**
 * create() while another request of the conversation is requested, approved or executing: one
 * open request per conversation. `open` is that request, for the refusal to name (views).
 */
export class OpenRequestConflict extends RecoveryError {
  readonly open: RecoveryRequest;

  constructor(open: RecoveryRequest) {
    super(
      ErrorCode.RequestState,
      `${open.kind} ${open.id} of ${open.conversationId} is still ${open.state}.`,
      'Decide on it or wait for it first.',
      { details: { openRequestId: open.id, openState: open.state } },
    );
    this.name = 'OpenRequestConflict';
    this.open = open;
  }
}

/** A request whose owner is gone: nobody holds a live lease for it (see approval/settle-stuck.ts). */
export interface AbandonedRequest {
  request: RecoveryRequest;
  /** When its conversation's lease ran out; null when there is no lease row (never taken, or released). */
  leaseExpiredAt: string | null;
}

/** How a settled request ends; `unknown` means "check before doing anything else". */
export type SettledState = 'succeeded' | 'failed' | 'unknown';

export interface RequestStore {
  create(input: NewRequest): Promise<RecoveryRequest>;
  get(id: string): Promise<RecoveryRequest | null>;
  /**
   * The requested/approved/executing request of a conversation, if any (there is at most one);
   * `unlock` asks for its open unlock instead, which may stand beside it (migration 0015).
   */
  openForConversation(conversationId: string, kind?: 'unlock'): Promise<RecoveryRequest | null>;
  /** The undo that put back `backupId` (succeeded), or null: an Undo button is used once. */
  undoneBy(conversationId: string, backupId: string): Promise<RecoveryRequest | null>;
  approve(id: string, userId: string, options?: ApproveOptions): Promise<ApproveOutcome>;
  /**
   * Clears a break-glass request's "needs review" flag, never by its requester, and appends
   * `notice` with it: a cut between them would leave the review done and never told.
   */
  markReviewed(id: string, userId: string, notice: ReviewNotice): Promise<ReviewOutcome>;
  deny(
    id: string,
    userId: string,
    reason: string,
    expiryNotice?: ExpiryNotice,
    notice?: DecisionNotice,
  ): Promise<DenyOutcome>;
  cancel(
    id: string,
    userId: string,
    expiryNotice?: ExpiryNotice,
    notice?: DecisionNotice,
  ): Promise<CancelOutcome>;
  /** `notice` (`request.stale`) is appended in the same transaction as the close. */
  markStale(id: string, reason: string, notice?: DecisionNotice): Promise<StaleOutcome>;
  /** approved → executing; true for exactly one caller. */
  startExecution(id: string): Promise<boolean>;
  /** executing → succeeded | failed | unknown (see RequestState); exactly one caller gets 'done'. */
  finish(id: string, outcome: FinishState, result: Record<string, unknown>): Promise<FinishOutcome>;
  /**
   * Requests past their window (and those create() closed inline), expired; each returned to
   * exactly one caller. `notice` is appended for each in the same transaction.
   */
  expireDue(limit?: number, notice?: ExpiryNotice): Promise<RecoveryRequest[]>;
  /**
   * Approved requests not started within `graceMs`, and executing ones with no live lease: the
   * lease row of their conversation ran out, or there is none and they started over `graceMs` ago.
   */
  abandoned(graceMs: number, limit?: number): Promise<AbandonedRequest[]>;
  /** How many abandoned() would return without a limit (the stuck-requests gauge). */
  countAbandoned(graceMs: number): Promise<number>;
  /** `from` → a settled state, for a request its owner left behind; true for exactly one caller. */
  settle(
    id: string,
    from: 'approved' | 'executing',
    outcome: SettledState,
    result: Record<string, unknown>,
  ): Promise<FinishOutcome>;
}

interface RequestRow {
  id: string;
  kind: RequestKind;
  conversation_id: string;
  channel_id: string;
  requester: string;
  reason: string;
  plan: RequestPlan;
  state: RequestState;
  required_approvals: number;
  decided_by: string | null;
  decided_at: Date | null;
  deny_reason: string | null;
  created_at: Date;
  expires_at: Date;
  result: Record<string, unknown> | null;
  approver_groups: string[];
  break_glass_reason: string | null;
  needs_review: boolean;
  reviewed_by: string | null;
}

interface ApprovalRow {
  request_id: string;
  user_id: string;
  at: Date;
  group_id: string | null;
}

const COLUMNS =
  'id, kind, conversation_id, channel_id, requester, reason, plan, state, required_approvals, decided_by, decided_at, deny_reason, created_at, expires_at, result, approver_groups, break_glass_reason, needs_review, reviewed_by';
const OPEN_STATES = "('requested', 'approved', 'executing')";
const OPEN_INDEXES = ['requests_one_open_per_conversation', 'requests_one_open_unlock_per_conversation'];
const KINDS: readonly RequestKind[] = ['restore', 'undo', 'replay', 'unlock'];
const MAX_TTL_MINUTES = 7 * 24 * 60;
const MAX_TEXT = 3000;
/** Rounds of "conflict, but the open request vanished before we could name it". */
const CREATE_ATTEMPTS = 3;

type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

function toRequest(r: RequestRow, approvals: Approval[]): RecoveryRequest {
  return {
    id: r.id,
    kind: r.kind,
    conversationId: r.conversation_id,
    channelId: r.channel_id,
    requester: r.requester,
    reason: r.reason,
    plan: r.plan,
    state: r.state,
    requiredApprovals: r.required_approvals,
    approvals,
    decidedBy: r.decided_by,
    decidedAt: r.decided_at === null ? null : r.decided_at.toISOString(),
    denyReason: r.deny_reason,
    createdAt: r.created_at.toISOString(),
    expiresAt: r.expires_at.toISOString(),
    result: r.result,
    approverGroups: r.approver_groups,
    breakGlassReason: r.break_glass_reason,
    needsReview: r.needs_review,
    reviewedBy: r.reviewed_by,
  };
}

function isUniqueViolation(err: unknown, constraints: readonly string[]): boolean {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { code?: unknown; constraint?: unknown };
  return e.code === '23505' && typeof e.constraint === 'string' && constraints.includes(e.constraint);
}

function requireText(field: string, value: string, max = MAX_TEXT): string {
  const v = value.trim();
  if (v.length === 0) {
    throw new RecoveryError(
      ErrorCode.InvalidInput,
      `The ${field} is empty.`,
      `Give a ${field} and try again.`,
    );
  }
  if (v.length > max || v.includes('\u0000')) {
    throw new RecoveryError(
      ErrorCode.InvalidInput,
      `The ${field} is too long or holds a NUL character (at most ${max} characters).`,
      `Shorten the ${field} and try again.`,
    );
  }
  return v;
}

function validate(input: NewRequest): void {
  if (!KINDS.includes(input.kind)) {
    throw new RecoveryError(
      ErrorCode.InvalidInput,
      `Unknown request kind ${JSON.stringify(input.kind)}.`,
      'Use restore, undo, replay or unlock.',
    );
  }
  if (
    !Number.isInteger(input.requiredApprovals) ||
    input.requiredApprovals < 1 ||
    input.requiredApprovals > 10
  ) {
    throw new RecoveryError(
      ErrorCode.Config,
      `Required approvals must be a whole number from 1 to 10, got ${input.requiredApprovals}.`,
      'Fix REQUIRED_APPROVALS and restart the bot.',
    );
  }
  if (input.plan.conversationId !== input.conversationId) {
    // What the approver sees must be what runs: a plan for one conversation never rides on another.
    throw new RecoveryError(
      ErrorCode.InvalidInput,
      `The preview is for ${input.plan.conversationId}, but the request is for ${input.conversationId}.`,
      'Preview the conversation you mean to restore, then ask again.',
    );
  }
  if (!Number.isFinite(input.ttlMinutes) || input.ttlMinutes <= 0 || input.ttlMinutes > MAX_TTL_MINUTES) {
    throw new RecoveryError(
      ErrorCode.Config,
      `Request TTL must be more than 0 and at most ${MAX_TTL_MINUTES} minutes, got ${input.ttlMinutes}.`,
      'Fix REQUEST_TTL_MINUTES and restart the bot.',
    );
  }
}

function notFound(id: string): RecoveryError {
  return new RecoveryError(
    ErrorCode.NotFound,
    `There is no recovery request ${id}.`,
    'It may belong to another bot installation or database; ask for the restore again.',
  );
}

export function createRequestStore(pool: pg.Pool, schema: string): RequestStore {
  const s = quoteIdent(schema);
  const requests = `${s}.requests`;
  const approvalsTable = `${s}.request_approvals`;

  async function approvalsOf(db: Queryable, ids: readonly string[]): Promise<Map<string, Approval[]>> {
    const byId = new Map<string, Approval[]>(ids.map((id) => [id, []]));
    if (ids.length === 0) return byId;
    const res = await db.query<ApprovalRow>(
      `SELECT request_id, user_id, at, group_id FROM ${approvalsTable}
       WHERE request_id = ANY($1::text[]) ORDER BY at, user_id`,
      [ids],
    );
    for (const a of res.rows) {
      byId.get(a.request_id)?.push({ userId: a.user_id, at: a.at.toISOString(), groupId: a.group_id });
    }
    return byId;
  }

  async function hydrate(db: Queryable, rows: readonly RequestRow[]): Promise<RecoveryRequest[]> {
    const approvals = await approvalsOf(
      db,
      rows.map((r) => r.id),
    );
    return rows.map((r) => toRequest(r, approvals.get(r.id) ?? []));
  }

  async function one(db: Queryable, row: RequestRow): Promise<RecoveryRequest> {
    const [request] = await hydrate(db, [row]);
    if (!request) throw new Error('hydrate returned no request');
    return request;
  }

  async function get(id: string): Promise<RecoveryRequest | null> {
    const res = await pool.query<RequestRow>(`SELECT ${COLUMNS} FROM ${requests} WHERE id = $1`, [id]);
    const row = res.rows[0];
    return row ? one(pool, row) : null;
  }

  async function openForConversation(
    conversationId: string,
    kind?: 'unlock',
  ): Promise<RecoveryRequest | null> {
    const res = await pool.query<RequestRow>(
      `SELECT ${COLUMNS} FROM ${requests}
       WHERE conversation_id = $1 AND state IN ${OPEN_STATES} AND (kind = 'unlock') = $2`,
      [conversationId, kind === 'unlock'],
    );
    const row = res.rows[0];
    return row ? one(pool, row) : null;
  }

  async function undoneBy(conversationId: string, backupId: string): Promise<RecoveryRequest | null> {
    // By conversation first: the plan's backup id is inside jsonb, the conversation is a column.
    const res = await pool.query<RequestRow>(
      `SELECT ${COLUMNS} FROM ${requests}
       WHERE conversation_id = $1 AND kind = 'undo' AND state = 'succeeded'
         AND plan->'source'->>'backupId' = $2
       ORDER BY decided_at NULLS LAST, created_at LIMIT 1`,
      [conversationId, backupId],
    );
    const row = res.rows[0];
    return row ? one(pool, row) : null;
  }

  async function create(input: NewRequest): Promise<RecoveryRequest> {
    validate(input);
    const reason = requireText('reason', input.reason);
    for (let attempt = 0; attempt < CREATE_ATTEMPTS; attempt++) {
      try {
        return await withTransaction(pool, async (client) => {
          // A predecessor past its expiry that no sweep has closed yet would block this request
          // until the next sweep; close it here and leave its notice to the sweeper.
          await client.query(
            `UPDATE ${requests}
             SET state = 'expired', decided_at = now(), updated_at = now(), expiry_notice_pending = true
             WHERE conversation_id = $1 AND state = 'requested' AND expires_at <= now()`,
            [input.conversationId],
          );
          // An unlock writes no conversation and is the way out of what burns the limit (restores
          // refused on a stuck lock count): never counted, never refused by it.
          await reserveHourlySlot(
            client,
            schema,
            input.kind === 'unlock' ? null : (input.maxPerHour ?? null),
          );
          const res = await client.query<RequestRow>(
            `INSERT INTO ${requests}
               (id, kind, conversation_id, channel_id, requester, reason, plan, required_approvals, expires_at,
                approver_groups)
             VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, now() + $9::double precision * interval '1 minute',
                     $10::text[])
             RETURNING ${COLUMNS}`,
            [
              `rq_${randomUUID()}`,
              input.kind,
              input.conversationId,
              input.channelId,
              input.requester,
              reason,
              JSON.stringify(input.plan),
              input.requiredApprovals,
              input.ttlMinutes,
              [...(input.approverGroups ?? [])],
            ],
          );
          const row = res.rows[0];
          if (!row) throw new Error('INSERT … RETURNING returned no row');
          const request = toRequest(row, []);
          if (input.createdNotice) await tell(client, input.createdNotice(request));
          return request;
        });
      } catch (err) {
        if (!isUniqueViolation(err, OPEN_INDEXES)) throw err;
        const open = await openForConversation(
          input.conversationId,
          input.kind === 'unlock' ? 'unlock' : undefined,
        );
        if (open) throw new OpenRequestConflict(open);
        // It closed between our insert and this read: the way is free now, try again.
      }
    }
    throw new RecoveryError(
      ErrorCode.RequestState,
      `Requests for ${input.conversationId} kept opening and closing while this one was being created.`,
      'Someone else is working on this conversation right now; check the incident thread, then try again.',
    );
  }

  /**
   * Runs `fn` with the request row locked, so the checks it makes and the update it does are
   * one step for every other caller. `open` is whether it is still before expires_at.
   */
  function locked<T>(
    id: string,
    fn: (client: pg.PoolClient, row: RequestRow, open: boolean) => Promise<T>,
  ): Promise<T> {
    return withTransaction(pool, async (client) => {
      const res = await client.query<RequestRow & { open: boolean }>(
        `SELECT ${COLUMNS}, expires_at > now() AS open FROM ${requests} WHERE id = $1 FOR UPDATE`,
        [id],
      );
      const row = res.rows[0];
      if (!row) throw notFound(id);
      return fn(client, row, row.open);
    });
  }

  async function expireLocked(client: pg.PoolClient, id: string, notice?: ExpiryNotice): Promise<Expired> {
    const res = await client.query<RequestRow>(
      `UPDATE ${requests} SET state = 'expired', decided_at = now(), updated_at = now()
       WHERE id = $1 AND state = 'requested' RETURNING ${COLUMNS}`,
      [id],
    );
    const row = res.rows[0];
    if (!row) throw new Error(`request ${id} changed state while locked`);
    const request = await one(client, row);
    if (notice) await tell(client, notice(request));
    return { kind: 'expired', request };
  }

  function tell(client: pg.PoolClient, { event, options }: ToldEntry) {
    return appendWithin(client, schema, event, options);
  }

  async function notOpen(client: pg.PoolClient, row: RequestRow): Promise<NotOpen> {
    return { kind: 'not_open', request: await one(client, row) };
  }

  async function approve(id: string, userId: string, options: ApproveOptions = {}): Promise<ApproveOutcome> {
    const breakGlass =
      options.breakGlassReason === undefined
        ? null
        : requireText('break-glass reason', options.breakGlassReason);
    return locked(id, async (client, row, open) => {
      if (row.state !== 'requested') {
        const request = await one(client, row);
        // A double click that lost the race still learns that its own approval counted.
        const wentThrough = row.state !== 'denied' && row.state !== 'expired' && row.state !== 'cancelled';
        if (wentThrough && request.approvals.some((a) => a.userId === userId)) {
          return { kind: 'duplicate', request, have: request.approvals.length, need: row.required_approvals };
        }
        return { kind: 'not_open', request };
      }
      if (userId === row.requester && breakGlass === null) {
        throw new RecoveryError(
          ErrorCode.Forbidden,
          `You asked for this ${row.kind}, so someone else must approve it.`,
          'Ask a teammate who is an approver.',
        );
      }
      if (!open) return expireLocked(client, id, options.expiryNotice);
      const threshold = options.breakerFailures ?? null;
      if (threshold !== null) {
        const failures = await breakerFailuresInARow(client, schema);
        if (failures >= threshold) {
          return {
            kind: 'breaker_open',
            request: await one(client, row),
            failuresInARow: failures,
            threshold,
          };
        }
      }
      const groupId = options.groupId ?? null;
      // clock_timestamp(): taken after the lock, so approval times follow the order they counted in.
      // No conflict target: a second approval by this user, or for this group, both insert nothing.
      const inserted = await client.query(
        `INSERT INTO ${approvalsTable} (request_id, user_id, at, group_id) VALUES ($1, $2, clock_timestamp(), $3)
         ON CONFLICT DO NOTHING`,
        [id, userId, groupId],
      );
      if (inserted.rowCount === 0 && groupId !== null) {
        const mine = await client.query(
          `SELECT 1 FROM ${approvalsTable} WHERE request_id = $1 AND user_id = $2`,
          [id, userId],
        );
        if (mine.rowCount === 0) return { kind: 'group_taken', request: await one(client, row), groupId };
      }
      if (breakGlass !== null) {
        const res = await client.query<RequestRow>(
          `UPDATE ${requests}
           SET state = 'approved', decided_by = $2, decided_at = now(), updated_at = now(),
               break_glass_reason = $3, needs_review = true
           WHERE id = $1 AND state = 'requested' RETURNING ${COLUMNS}`,
          [id, userId, breakGlass],
        );
        const updated = res.rows[0];
        if (!updated) throw new Error(`request ${id} changed state while locked`);
        return { kind: 'approved', request: await one(client, updated) };
      }
      const count = await client.query<{ n: string }>(
        `SELECT count(DISTINCT user_id) AS n FROM ${approvalsTable} WHERE request_id = $1`,
        [id],
      );
      const have = Number(count.rows[0]?.n ?? 0);
      const need = row.required_approvals;
      if (inserted.rowCount === 0) {
        return { kind: 'duplicate', request: await one(client, row), have, need };
      }
      if (have < need) {
        const request = await one(client, row);
        if (options.partialNotice) await tell(client, options.partialNotice(request));
        return { kind: 'partial', request, have, need };
      }
      const res = await client.query<RequestRow>(
        `UPDATE ${requests} SET state = 'approved', decided_by = $2, decided_at = now(), updated_at = now()
         WHERE id = $1 AND state = 'requested' RETURNING ${COLUMNS}`,
        [id, userId],
      );
      const updated = res.rows[0];
      if (!updated) throw new Error(`request ${id} changed state while locked`);
      return { kind: 'approved', request: await one(client, updated) };
    });
  }

  function markReviewed(id: string, userId: string, notice: ReviewNotice): Promise<ReviewOutcome> {
    return locked(id, async (client, row): Promise<ReviewOutcome> => {
      if (!row.needs_review || row.requester === userId) {
        return { kind: 'refused', request: await one(client, row) };
      }
      const res = await client.query<RequestRow>(
        `UPDATE ${requests} SET needs_review = false, reviewed_by = $2, reviewed_at = now(), updated_at = now()
         WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, userId],
      );
      const updated = res.rows[0];
      if (!updated) throw new Error(`request ${id} vanished while locked`);
      const request = await one(client, updated);
      return { kind: 'done', request, entry: await tell(client, notice(request)) };
    });
  }

  async function deny(
    id: string,
    userId: string,
    reason: string,
    expiryNotice?: ExpiryNotice,
    notice?: DecisionNotice,
  ): Promise<DenyOutcome> {
    const why = requireText('deny reason', reason);
    return locked(id, async (client, row, open) => {
      if (row.state !== 'requested') return notOpen(client, row);
      if (!open) return expireLocked(client, id, expiryNotice);
      const res = await client.query<RequestRow>(
        `UPDATE ${requests}
         SET state = 'denied', decided_by = $2, decided_at = now(), deny_reason = $3, updated_at = now()
         WHERE id = $1 AND state = 'requested' RETURNING ${COLUMNS}`,
        [id, userId, why],
      );
      const updated = res.rows[0];
      if (!updated) throw new Error(`request ${id} changed state while locked`);
      return decidedLocked(client, updated, notice);
    });
  }

  async function cancel(
    id: string,
    userId: string,
    expiryNotice?: ExpiryNotice,
    notice?: DecisionNotice,
  ): Promise<CancelOutcome> {
    return locked(id, async (client, row, open) => {
      if (row.state !== 'requested') return notOpen(client, row);
      if (userId !== row.requester) return { kind: 'refused', request: await one(client, row) };
      if (!open) return expireLocked(client, id, expiryNotice);
      const res = await client.query<RequestRow>(
        `UPDATE ${requests} SET state = 'cancelled', decided_by = $2, decided_at = now(), updated_at = now()
         WHERE id = $1 AND state = 'requested' RETURNING ${COLUMNS}`,
        [id, userId],
      );
      const updated = res.rows[0];
      if (!updated) throw new Error(`request ${id} changed state while locked`);
      return decidedLocked(client, updated, notice);
    });
  }

  async function decidedLocked(client: pg.PoolClient, row: RequestRow, notice?: DecisionNotice) {
    const request = await one(client, row);
    if (notice) await tell(client, notice(request));
    return { kind: 'done', request } as const;
  }

  /** One conditional UPDATE; on no match, reads the row to say why (or throws if it is unknown). */
  async function transition(id: string, sql: string, params: readonly unknown[]): Promise<Done | NotOpen> {
    const res = await pool.query<RequestRow>(sql, [...params]);
    const row = res.rows[0];
    if (row) return { kind: 'done', request: await one(pool, row) };
    const current = await get(id);
    if (!current) throw notFound(id);
    return { kind: 'not_open', request: current };
  }

  async function markStale(id: string, reason: string, notice?: DecisionNotice): Promise<StaleOutcome> {
    const why = requireText('stale reason', reason);
    return locked(id, async (client, row) => {
      // From approved too: staleness found between the last approval and the start is the same
      // "what was approved is not what would be written", and nothing has run yet.
      if (row.state !== 'requested' && row.state !== 'approved') return notOpen(client, row);
      const res = await client.query<RequestRow>(
        `UPDATE ${requests}
         SET state = 'cancelled', decided_by = 'system', decided_at = now(), deny_reason = $2, updated_at = now()
         WHERE id = $1 RETURNING ${COLUMNS}`,
        [id, `preview went stale: ${why}`],
      );
      const updated = res.rows[0];
      if (!updated) throw new Error(`request ${id} vanished while locked`);
      return decidedLocked(client, updated, notice);
    });
  }

  async function startExecution(id: string): Promise<boolean> {
    const res = await pool.query(
      `UPDATE ${requests} SET state = 'executing', started_at = now(), updated_at = now()
       WHERE id = $1 AND state = 'approved'`,
      [id],
    );
    return res.rowCount === 1;
  }

  async function finish(
    id: string,
    outcome: FinishState,
    result: Record<string, unknown>,
  ): Promise<FinishOutcome> {
    if (!FINISH_STATES.includes(outcome)) {
      throw new RecoveryError(
        ErrorCode.Internal,
        `finish() got outcome ${JSON.stringify(outcome)}.`,
        'This is a bug; report it.',
      );
    }
    return transition(
      id,
      `UPDATE ${requests}
       SET state = $2, finished_at = now(), result = $3::jsonb, updated_at = now()
       WHERE id = $1 AND state = 'executing' RETURNING ${COLUMNS}`,
      [id, outcome, JSON.stringify(result)],
    );
  }

  async function expireDue(limit = 100, notice?: ExpiryNotice): Promise<RecoveryRequest[]> {
    const n = Math.max(1, Math.min(10_000, Math.floor(limit)));
    return withTransaction(pool, async (client) => {
      // SKIP LOCKED: replicas sweeping at once take disjoint rows; the outer WHERE repeats the
      // condition so a row another sweep closed in between is not returned twice.
      const res = await client.query<RequestRow>(
        `UPDATE ${requests}
       SET state = 'expired', decided_at = coalesce(decided_at, now()), updated_at = now(),
           expiry_notice_pending = false
       WHERE id IN (
         SELECT id FROM ${requests}
         WHERE (state = 'requested' AND expires_at <= now()) OR expiry_notice_pending
         ORDER BY expires_at
         LIMIT $1
         FOR UPDATE SKIP LOCKED
       )
       AND ((state = 'requested' AND expires_at <= now()) OR expiry_notice_pending)
       RETURNING ${COLUMNS}`,
        [n],
      );
      const rows = [...res.rows].sort((a, b) => a.expires_at.getTime() - b.expires_at.getTime());
      const expired = await hydrate(client, rows);
      // In this transaction: a process killed or cut off before COMMIT leaves these requests
      // open (or flagged) for the next sweep, never expired without their notice.
      if (notice) for (const request of expired) await tell(client, notice(request));
      return expired;
    });
  }

  /**
   * Whose lease counts: the conversation's lock row, whoever holds it. A live row held by someone
   * else (a CLI restore) still keeps the request waiting, because settling needs that lock.
   * A missing row gets `grace`: between startExecution and taking the lock there is none yet.
   * An unlock takes no lock (the one it breaks is another run's), so it only gets `grace`.
   */
  const ABANDONED_FROM = `
    FROM ${requests} r LEFT JOIN ${s}.locks l ON l.conversation_id = r.conversation_id
    WHERE (r.state = 'approved' AND r.updated_at <= now() - $1::double precision * interval '1 millisecond')
       OR (r.state = 'executing' AND r.kind = 'unlock'
           AND coalesce(r.started_at, r.updated_at) <= now() - $1::double precision * interval '1 millisecond')
       OR (r.state = 'executing' AND r.kind <> 'unlock' AND (
             l.expires_at <= now()
          OR (l.conversation_id IS NULL
              AND coalesce(r.started_at, r.updated_at) <= now() - $1::double precision * interval '1 millisecond')))`;
  const graceOf = (ms: number) => Math.max(0, Math.floor(ms));

  async function abandoned(graceMs: number, limit = 100): Promise<AbandonedRequest[]> {
    const n = Math.max(1, Math.min(10_000, Math.floor(limit)));
    const columns = COLUMNS.split(', ')
      .map((c) => `r.${c}`)
      .join(', ');
    const res = await pool.query<RequestRow & { lease_expires_at: Date | null }>(
      `SELECT ${columns}, l.expires_at AS lease_expires_at ${ABANDONED_FROM}
       ORDER BY r.updated_at LIMIT $2`,
      [graceOf(graceMs), n],
    );
    const hydrated = await hydrate(pool, res.rows);
    return res.rows.flatMap((row, i) => {
      const request = hydrated[i];
      const expired = row.lease_expires_at;
      return request ? [{ request, leaseExpiredAt: expired === null ? null : expired.toISOString() }] : [];
    });
  }

  async function countAbandoned(graceMs: number): Promise<number> {
    const res = await pool.query<{ n: string }>(`SELECT count(*) AS n ${ABANDONED_FROM}`, [graceOf(graceMs)]);
    return Number(res.rows[0]?.n ?? 0);
  }

  async function settle(
    id: string,
    from: 'approved' | 'executing',
    outcome: SettledState,
    result: Record<string, unknown>,
  ): Promise<FinishOutcome> {
    if (!['succeeded', 'failed', 'unknown'].includes(outcome) || !['approved', 'executing'].includes(from)) {
      throw new RecoveryError(
        ErrorCode.Internal,
        `settle() got ${JSON.stringify(from)} → ${JSON.stringify(outcome)}.`,
        'This is a bug; report it.',
      );
    }
    return transition(
      id,
      `UPDATE ${requests}
       SET state = $3, finished_at = now(), result = $4::jsonb, updated_at = now()
       WHERE id = $1 AND state = $2 RETURNING ${COLUMNS}`,
      [id, from, outcome, JSON.stringify(result)],
    );
  }

  return {
    create,
    get,
    openForConversation,
    undoneBy,
    approve,
    markReviewed,
    deny,
    cancel,
    markStale,
    startExecution,
    finish,
    expireDue,
    abandoned,
    countAbandoned,
    settle,
  };
}
