import type pg from 'pg';
import { ErrorCode, RecoveryError } from '../errors.js';
import { auditHash, GENESIS_HASH } from './audit-hash.js';
import { quoteIdent, withTransaction } from './sql.js';
import type { AppendOptions, AuditEntry, AuditEvent, AuditLog, AuditVerifyResult } from './types.js';

export interface AuditRow {
  seq: string;
  at: Date;
  actor: string;
  action: string;
  conversation_id: string | null;
  request_id: string | null;
  data: string;
  prev_hash: string;
  hash: string;
}

export const COLUMNS = 'seq, at, actor, action, conversation_id, request_id, data, prev_hash, hash';
const VERIFY_BATCH = 1000;

/**
 * What Postgres will store for a string: the driver encodes to UTF-8, which turns lone
 * surrogates into U+FFFD. Hashing the stored form keeps verify() from flagging our own rows.
 */
function asStored(field: string, value: string): string {
  if (value.includes('\u0000')) {
    throw new RecoveryError(
      ErrorCode.InvalidInput,
      `Audit ${field} contains a NUL character, which PostgreSQL text cannot store.`,
      'Remove control characters from the value and try again.',
    );
  }
  return Buffer.from(value, 'utf8').toString('utf8');
}

function hashOfRow(r: AuditRow): string {
  return auditHash({
    seq: Number(r.seq),
    at: r.at.toISOString(),
    actor: r.actor,
    action: r.action,
    conversationId: r.conversation_id,
    requestId: r.request_id,
    data: r.data,
    prevHash: r.prev_hash,
  });
}

export function toEntry(r: AuditRow): AuditEntry {
  let data: Record<string, unknown>;
  try {
    data = JSON.parse(r.data) as Record<string, unknown>;
  } catch (cause) {
    throw new RecoveryError(
      ErrorCode.AuditBroken,
      `Audit row ${r.seq} holds data that is not JSON.`,
      'Run the audit verify command; the log may have been tampered with.',
      { cause },
    );
  }
  return {
    seq: Number(r.seq),
    at: r.at,
    actor: r.actor,
    action: r.action,
    conversationId: r.conversation_id,
    requestId: r.request_id,
    data,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** The first problem in one row, given the seq and prev hash it should have; null if sound. */
function checkRow(
  r: AuditRow,
  expectedSeq: number,
  expectedPrev: string,
): { seq: number; problem: string } | null {
  const seq = Number(r.seq);
  if (seq > expectedSeq) {
    const missing =
      seq === expectedSeq + 1
        ? `seq ${expectedSeq} is missing`
        : `seqs ${expectedSeq}–${seq - 1} are missing`;
    return { seq: expectedSeq, problem: `row ${seq}: ${missing} (deleted?)` };
  }
  if (seq < expectedSeq) {
    return { seq, problem: `row ${seq}: out of sequence, expected ${expectedSeq} (inserted?)` };
  }
  if (r.prev_hash !== expectedPrev) {
    const prev = seq === 1 ? 'the genesis hash' : `the hash of row ${seq - 1}`;
    return {
      seq,
      problem: `row ${seq}: prev_hash does not match ${prev} (this row forged, or the one before rewritten?)`,
    };
  }
  if (hashOfRow(r) !== r.hash) {
    return { seq, problem: `row ${seq}: hash does not match its contents (edited?)` };
  }
  return null;
}

/** An entry a store appends within its own transaction, beside the change it tells. */
export interface ToldEntry {
  event: AuditEvent;
  options?: AppendOptions;
}

/**
 * Appends one event on `client`, which must be in a transaction: the entry (and its delivery row)
 * commits or rolls back with whatever else the caller wrote there, so a state change and the
 * entry that tells it are never split by a crash or a cut connection.
 */
export async function appendWithin(
  client: Pick<pg.PoolClient, 'query'>,
  schema: string,
  event: AuditEvent,
  options: AppendOptions = {},
  clock: () => Date = () => new Date(),
): Promise<AuditEntry> {
  const s = quoteIdent(schema);
  const deliverTo =
    options.deliverTo === undefined ? null : asStored('channel id', options.deliverTo.channelId);
  if (deliverTo === '') {
    throw new RecoveryError(
      ErrorCode.InvalidInput,
      'An audit entry was to be delivered to an empty Slack channel id.',
      'This is a bug in the caller; nothing was appended.',
    );
  }
  const actor = asStored('actor', event.actor);
  const action = asStored('action', event.action);
  const conversationId =
    event.conversationId === null ? null : asStored('conversation id', event.conversationId);
  const requestId = event.requestId === null ? null : asStored('request id', event.requestId);
  // JSON.stringify escapes lone surrogates and NULs, so this text round-trips exactly.
  const data = JSON.stringify(event.data);
  // The row lock on the head serialises appenders across pools and replicas.
  const head = await client.query<{ seq: string; hash: string }>(
    `SELECT seq, hash FROM ${s}.audit_head WHERE id FOR UPDATE`,
  );
  const h = head.rows[0];
  if (!h) {
    throw new RecoveryError(
      ErrorCode.AuditBroken,
      'The audit head row is missing, so nothing can be appended safely.',
      'Run the audit verify command and restore the audit tables from a database backup.',
    );
  }
  const seq = Number(h.seq) + 1;
  const at = new Date(clock().getTime());
  const fields = {
    seq,
    at: at.toISOString(),
    actor,
    action,
    conversationId,
    requestId,
    data,
    prevHash: h.hash,
  };
  const hash = auditHash(fields);
  await client.query(
    `INSERT INTO ${s}.audit_log (${COLUMNS}) VALUES ($1, $2::timestamptz, $3, $4, $5, $6, $7, $8, $9)`,
    [seq, fields.at, actor, action, conversationId, requestId, data, h.hash, hash],
  );
  if (deliverTo !== null) {
    await client.query(
      `INSERT INTO ${s}.audit_deliveries (seq, channel_id, conversation_id) VALUES ($1, $2, $3)`,
      [seq, deliverTo, conversationId],
    );
  }
  await client.query(`UPDATE ${s}.audit_head SET seq = $1, hash = $2 WHERE id`, [seq, hash]);
  return {
    seq,
    at,
    actor,
    action,
    conversationId,
    requestId,
    data: JSON.parse(data) as Record<string, unknown>,
    prevHash: h.hash,
    hash,
  };
}

export function createAuditLog(
  pool: pg.Pool,
  schema: string,
  clock: () => Date = () => new Date(),
): AuditLog {
  const s = quoteIdent(schema);

  function append(event: AuditEvent, options: AppendOptions = {}): Promise<AuditEntry> {
    return withTransaction(pool, (client) => appendWithin(client, schema, event, options, clock));
  }

  async function after(afterSeq: number, limit: number): Promise<AuditEntry[]> {
    const res = await pool.query<AuditRow>(
      `SELECT ${COLUMNS} FROM ${s}.audit_log WHERE seq > $1 ORDER BY seq LIMIT $2`,
      [afterSeq, Math.max(0, Math.floor(limit))],
    );
    return res.rows.map(toEntry);
  }

  async function verify(): Promise<AuditVerifyResult> {
    // One snapshot for the whole walk, so appends landing meanwhile neither show up half-way
    // nor make the head look ahead of the rows we read.
    return withTransaction(
      pool,
      async (client) => {
        const count = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${s}.audit_log`);
        const rows = Number(count.rows[0]?.n ?? 0);
        const broken = (seq: number, problem: string): AuditVerifyResult => ({
          ok: false,
          rows,
          firstBroken: { seq, problem },
        });

        let expectedSeq = 1;
        let prev = GENESIS_HASH;
        // Keyset batches keep memory flat; starting below 1 also surfaces rows with seq <= 0.
        let lastSeen = Number.MIN_SAFE_INTEGER;
        for (;;) {
          const batch = await client.query<AuditRow>(
            `SELECT ${COLUMNS} FROM ${s}.audit_log WHERE seq > $1 ORDER BY seq LIMIT $2`,
            [lastSeen, VERIFY_BATCH],
          );
          for (const r of batch.rows) {
            const problem = checkRow(r, expectedSeq, prev);
            if (problem) return broken(problem.seq, problem.problem);
            expectedSeq += 1;
            prev = r.hash;
            lastSeen = Number(r.seq);
          }
          if (batch.rows.length < VERIFY_BATCH) break;
        }

        const last = expectedSeq - 1;
        const head = await client.query<{ seq: string; hash: string }>(
          `SELECT seq, hash FROM ${s}.audit_head`,
        );
        const h = head.rows[0];
        if (head.rows.length !== 1 || !h) {
          return broken(last + 1, `the audit head has ${head.rows.length} rows instead of 1 (deleted?)`);
        }
        const headSeq = Number(h.seq);
        if (headSeq > last) {
          return broken(
            last + 1,
            `head says last row is ${headSeq} but the log ends at ${last} (last rows deleted?)`,
          );
        }
        if (headSeq < last) {
          return broken(
            headSeq + 1,
            `the log goes on to row ${last} but head says last row is ${headSeq} (rows added outside the bot?)`,
          );
        }
        if (h.hash !== prev) {
          return broken(last, `head hash does not match row ${last} (last row rewritten?)`);
        }
        return { ok: true, rows, firstBroken: null };
      },
      'BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY',
    );
  }

  return { append, after, verify };
}

/**
 * The same log, except every append is also delivered to `channelId` (unless the caller names
 * a channel itself). The Slack face hands this to the recovery core, which knows nothing of
 * Slack, so the core's own `restore.*` entries reach the incident thread too.
 */
export function auditTo(audit: AuditLog, channelId: string): AuditLog {
  return {
    append: (event, options = {}) =>
      audit.append(event, { ...options, deliverTo: options.deliverTo ?? { channelId } }),
    after: (afterSeq, limit) => audit.after(afterSeq, limit),
    verify: () => audit.verify(),
  };
}
