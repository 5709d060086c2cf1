import type pg from 'pg';
import { quoteIdent } from './sql.js';
import type { ChannelDeliveries, DeliveryHead, DeliveryStore, UnansweredRootPost } from './types.js';

/** What the delivery worker is handed to reach its state; the store alone runs queries on it. */
export type DeliveryPool = pg.Pool;

/**
 * The channel lock is `pg_try_advisory_lock(DELIVERY_LOCK_CLASS, hashtext(deliveryLockName(…)))`,
 * held by a session (not a transaction), so it needs a direct connection or session pooling: a
 * transaction-pooling proxy (PgBouncer `pool_mode = transaction`) would hand it to strangers.
 * First key: "ZR" + 5 (migrations use + 1).
 */
export const DELIVERY_LOCK_CLASS = 0x5a5205;
export const deliveryLockName = (schema: string, channelId: string): string => `${schema}/${channelId}`;

interface HeadRow {
  seq: string;
  conversation_id: string | null;
  attempts: number;
  message_ts: string | null;
  updated_ts: string | null;
  wait_ms: number;
  since_sent_ms: number | null;
  created_epoch: number;
}

/**
 * `audit_deliveries`, `incident_threads` and `incident_thread_posts` (see migrations/0005-delivery.ts), for
 * the worker in src/slack/delivery.ts. Every time is judged by the database clock, so replicas
 * on skewed hosts agree on what is due.
 */
export function createDeliveryStore(pool: DeliveryPool, schema: string): DeliveryStore {
  const s = quoteIdent(schema);

  async function threadRootOn(db: pg.Pool | pg.PoolClient, channel: string, conversationId: string) {
    const res = await db.query<{ root_ts: string }>(
      `SELECT root_ts FROM ${s}.incident_threads WHERE channel_id = $1 AND conversation_id = $2`,
      [channel, conversationId],
    );
    return res.rows[0]?.root_ts ?? null;
  }

  /** Every method runs on `db`, the connection holding the channel's lock; none after `closed()`. */
  function channelDeliveries(db: pg.PoolClient, channel: string, closed: () => boolean): ChannelDeliveries {
    const on = (): pg.PoolClient => {
      // The lock went with the connection: a write now would be made without it.
      if (closed()) throw new Error(`delivery lock for ${channel} is no longer held`);
      return db;
    };
    return {
      channelId: channel,
      async head(): Promise<DeliveryHead | null> {
        const res = await on().query<HeadRow>(
          `SELECT seq, conversation_id, attempts, message_ts, updated_ts,
                  GREATEST(0, EXTRACT(EPOCH FROM (next_attempt_at - now())) * 1000)::float8 AS wait_ms,
                  (EXTRACT(EPOCH FROM (now() - post_sent_at)) * 1000)::float8 AS since_sent_ms,
                  EXTRACT(EPOCH FROM created_at)::float8 AS created_epoch
             FROM ${s}.audit_deliveries
            WHERE channel_id = $1 AND state = 'pending'
            ORDER BY seq LIMIT 1`,
          [channel],
        );
        const row = res.rows[0];
        if (row === undefined) return null;
        return {
          seq: Number(row.seq),
          conversationId: row.conversation_id,
          attempts: row.attempts,
          messageTs: row.message_ts,
          updatedTs: row.updated_ts,
          waitMs: row.wait_ms,
          sinceSentMs: row.since_sent_ms,
          createdEpoch: row.created_epoch,
        };
      },
      threadRoot: (conversationId) => threadRootOn(on(), channel, conversationId),
      async unansweredRootPost(conversationId): Promise<UnansweredRootPost | null> {
        const res = await on().query<{ first_epoch: number; since_ms: number }>(
          `SELECT EXTRACT(EPOCH FROM first_sent_at)::float8 AS first_epoch,
                  (EXTRACT(EPOCH FROM (now() - last_sent_at)) * 1000)::float8 AS since_ms
             FROM ${s}.incident_thread_posts WHERE channel_id = $1 AND conversation_id = $2`,
          [channel, conversationId],
        );
        const row = res.rows[0];
        return row === undefined ? null : { firstSentEpoch: row.first_epoch, sinceLastSentMs: row.since_ms };
      },
      async markRootSent(conversationId) {
        await on().query(
          `INSERT INTO ${s}.incident_thread_posts (channel_id, conversation_id) VALUES ($1, $2)
           ON CONFLICT (channel_id, conversation_id) DO UPDATE SET last_sent_at = now()`,
          [channel, conversationId],
        );
      },
      async clearRootSent(conversationId) {
        await on().query(
          `DELETE FROM ${s}.incident_thread_posts WHERE channel_id = $1 AND conversation_id = $2`,
          [channel, conversationId],
        );
      },
      async recordRoot(conversationId, rootTs) {
        // One statement: the root is recorded and its "sent, unanswered" marker gone together.
        // ON CONFLICT keeps two roots from both being recorded, even if the lock ever fails.
        await on().query(
          `WITH sent AS (
             DELETE FROM ${s}.incident_thread_posts WHERE channel_id = $1 AND conversation_id = $2
           )
           INSERT INTO ${s}.incident_threads (channel_id, conversation_id, root_ts) VALUES ($1, $2, $3)
           ON CONFLICT (channel_id, conversation_id) DO NOTHING`,
          [channel, conversationId, rootTs],
        );
      },
      async forgetThread(conversationId, rootTs) {
        await on().query(
          `DELETE FROM ${s}.incident_threads WHERE channel_id = $1 AND conversation_id = $2 AND root_ts = $3`,
          [channel, conversationId, rootTs],
        );
      },
      async markReplySent(seq) {
        await on().query(`UPDATE ${s}.audit_deliveries SET post_sent_at = now() WHERE seq = $1`, [seq]);
      },
      async clearReplySent(seq) {
        await on().query(`UPDATE ${s}.audit_deliveries SET post_sent_at = NULL WHERE seq = $1`, [seq]);
      },
      async recordReply(seq, messageTs, note) {
        await on().query(
          `UPDATE ${s}.audit_deliveries SET message_ts = $2, last_error = $3 WHERE seq = $1 AND message_ts IS NULL`,
          [seq, messageTs, note],
        );
      },
      async requestMessageTs({ action, requestId, conversationId, beforeSeq }) {
        // Filtering by conversation lets the audit_log index do the work when there is one.
        const res = await on().query<{ message_ts: string }>(
          `SELECT d.message_ts FROM ${s}.audit_deliveries d JOIN ${s}.audit_log a ON a.seq = d.seq
            WHERE d.channel_id = $1 AND a.action = $2 AND a.request_id = $3 AND d.message_ts IS NOT NULL
              AND ($4::text IS NULL OR a.conversation_id = $4) AND d.seq < $5
            ORDER BY d.seq DESC LIMIT 1`,
          [channel, action, requestId, conversationId, beforeSeq],
        );
        return res.rows[0]?.message_ts ?? null;
      },
      async recordRetry(seq, error, delayMs) {
        await on().query(
          `UPDATE ${s}.audit_deliveries
              SET attempts = attempts + 1, last_error = $2, next_attempt_at = now() + $3::float8 * interval '1 millisecond'
            WHERE seq = $1`,
          [seq, error, delayMs],
        );
      },
      async markDelivered(seq, updatedTs, note) {
        await on().query(
          `UPDATE ${s}.audit_deliveries
              SET state = 'delivered', delivered_at = now(), attempts = attempts + 1, updated_ts = $2,
                  last_error = CASE WHEN $3::text IS NULL THEN last_error ELSE concat_ws('; ', last_error, $3::text) END
            WHERE seq = $1`,
          [seq, updatedTs, note],
        );
      },
    };
  }

  return {
    async pendingChannels() {
      const res = await pool.query<{ channel_id: string; wait_ms: number }>(
        `SELECT DISTINCT ON (channel_id) channel_id,
                GREATEST(0, EXTRACT(EPOCH FROM (next_attempt_at - now())) * 1000)::float8 AS wait_ms
           FROM ${s}.audit_deliveries
          WHERE state = 'pending'
          ORDER BY channel_id, seq`,
      );
      return res.rows.map((r) => ({ channelId: r.channel_id, waitMs: r.wait_ms }));
    },

    async withChannelLock(channelId, fn) {
      const lockName = deliveryLockName(schema, channelId);
      const db = await pool.connect();
      let closed = false;
      try {
        const got = await db.query<{ ok: boolean }>('SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok', [
          DELIVERY_LOCK_CLASS,
          lockName,
        ]);
        if (got.rows[0]?.ok !== true) {
          closed = true;
          db.release();
          return { locked: false };
        }
        const value = await fn(channelDeliveries(db, channelId, () => closed));
        await db.query('SELECT pg_advisory_unlock($1, hashtext($2))', [DELIVERY_LOCK_CLASS, lockName]);
        closed = true;
        db.release();
        return { locked: true, value };
      } catch (err) {
        closed = true;
        // Destroying the session is what frees a lock we may still hold; never pool it.
        db.release(err instanceof Error ? err : new Error(String(err)));
        throw err;
      }
    },

    async pendingCount(channelId) {
      const res = await pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${s}.audit_deliveries WHERE state = 'pending' AND ($1::text IS NULL OR channel_id = $1)`,
        [channelId ?? null],
      );
      return Number(res.rows[0]?.n ?? 0);
    },

    async oldestPendingAgeMs() {
      const res = await pool.query<{ age_ms: number | null }>(
        `SELECT (EXTRACT(EPOCH FROM (now() - min(created_at))) * 1000)::float8 AS age_ms
           FROM ${s}.audit_deliveries WHERE state = 'pending'`,
      );
      return res.rows[0]?.age_ms ?? null;
    },

    incidentThread: (channelId, conversationId) => threadRootOn(pool, channelId, conversationId),

    async replyTs(channelId, seq) {
      const res = await pool.query<{ message_ts: string | null }>(
        `SELECT message_ts FROM ${s}.audit_deliveries WHERE seq = $1 AND channel_id = $2`,
        [seq, channelId],
      );
      return res.rows[0]?.message_ts ?? null;
    },
  };
}
