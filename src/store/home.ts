import type pg from 'pg';
import { quoteIdent } from './sql.js';

/** A request or bulk job the Home tab lists, with the root of its incident thread when posted. */
export interface HomeItemRef {
  id: string;
  channelId: string;
  /** The incident thread's root message, null until the deliverer has posted it. */
  threadTs: string | null;
}

/**
 * What the App Home tab reads, and who looks at it. Who opened it (and what they were last
 * shown, by hash) is kept here rather than in a replica's memory: any replica publishes a
 * refresh, and none publishes the same view twice.
 */
export interface HomeStore {
  /** `userId` opened the Home tab now. */
  opened(userId: string): Promise<void>;
  /** Who opened it within `withinHours`, most recent first: they are shown changes. */
  viewers(withinHours: number, limit: number): Promise<string[]>;
  /**
   * Records `hash` as what `userId` is shown; false when it already was (nothing to publish).
   * Not a lock: two replicas may both publish the same view once, never a stale one after it.
   */
  markPublished(userId: string, hash: string): Promise<boolean>;
  /** Forget the hash, after a publish that failed, so the next refresh tries again. */
  forgetPublished(userId: string): Promise<void>;
  /** Requests still open (requested, approved, executing), oldest first. */
  openRequests(limit: number): Promise<HomeItemRef[]>;
  /** Restores, undos and replays that finished, most recent first. */
  recentRecoveries(limit: number): Promise<HomeItemRef[]>;
  /** Bulk jobs from Slack: pending, running or cancelling, then the most recent others. */
  bulkJobs(limit: number): Promise<HomeItemRef[]>;
  /** Break-glass requests and bulk jobs nobody other than their requester reviewed yet, oldest first. */
  awaitingReview(limit: number): Promise<{ requests: HomeItemRef[]; bulk: HomeItemRef[] }>;
}

export function createHomeStore(pool: Pick<pg.Pool, 'query'>, schema: string): HomeStore {
  const s = quoteIdent(schema);
  const lim = (n: number) => Math.max(1, Math.min(100, Math.floor(n)));
  const refs = (rows: { id: string; channel_id: string; root_ts: string | null }[]): HomeItemRef[] =>
    rows.map((r) => ({ id: r.id, channelId: r.channel_id, threadTs: r.root_ts }));

  /** Requests in `states`, each with its thread's root (the SQL fragments are constants here). */
  async function requestsIn(states: string, order: string, limit: number): Promise<HomeItemRef[]> {
    const res = await pool.query<{ id: string; channel_id: string; root_ts: string | null }>(
      `SELECT r.id, r.channel_id, t.root_ts FROM ${s}.requests r
         LEFT JOIN ${s}.incident_threads t ON t.channel_id = r.channel_id AND t.conversation_id = r.conversation_id
        WHERE r.state IN ${states} ORDER BY ${order} LIMIT $1`,
      [lim(limit)],
    );
    return refs(res.rows);
  }

  return {
    async opened(userId) {
      await pool.query(
        `INSERT INTO ${s}.home_views (user_id, opened_at) VALUES ($1, now())
         ON CONFLICT (user_id) DO UPDATE SET opened_at = now()`,
        [userId],
      );
    },
    async viewers(withinHours, limit) {
      const res = await pool.query<{ user_id: string }>(
        `SELECT user_id FROM ${s}.home_views
          WHERE opened_at > now() - $1::double precision * interval '1 hour'
          ORDER BY opened_at DESC LIMIT $2`,
        [withinHours, lim(limit)],
      );
      return res.rows.map((r) => r.user_id);
    },
    async markPublished(userId, hash) {
      const res = await pool.query(
        `UPDATE ${s}.home_views SET published_hash = $2, published_at = now()
          WHERE user_id = $1 AND published_hash IS DISTINCT FROM $2`,
        [userId, hash],
      );
      return (res.rowCount ?? 0) > 0;
    },
    async forgetPublished(userId) {
      await pool.query(`UPDATE ${s}.home_views SET published_hash = NULL WHERE user_id = $1`, [userId]);
    },
    openRequests: (limit) => requestsIn("('requested', 'approved', 'executing')", 'r.created_at', limit),
    recentRecoveries: (limit) =>
      requestsIn("('succeeded', 'failed', 'unknown')", 'r.updated_at DESC, r.id', limit),
    async bulkJobs(limit) {
      const res = await pool.query<{ id: string; channel_id: string; root_ts: string | null }>(
        `SELECT j.id, j.channel_id, t.root_ts FROM ${s}.bulk_jobs j
           LEFT JOIN ${s}.incident_threads t ON t.channel_id = j.channel_id AND t.conversation_id = j.id
          WHERE j.channel_id IS NOT NULL
          ORDER BY (j.state IN ('pending', 'running', 'cancelling')) DESC, j.created_at DESC LIMIT $1`,
        [lim(limit)],
      );
      return refs(res.rows);
    },
    async awaitingReview(limit) {
      type Row = { id: string; channel_id: string; root_ts: string | null };
      const [reqs, jobs] = await Promise.all([
        pool.query<Row>(
          `SELECT r.id, r.channel_id, t.root_ts FROM ${s}.requests r
             LEFT JOIN ${s}.incident_threads t ON t.channel_id = r.channel_id AND t.conversation_id = r.conversation_id
            WHERE r.needs_review ORDER BY r.decided_at NULLS LAST, r.id LIMIT $1`,
          [lim(limit)],
        ),
        pool.query<Row>(
          `SELECT j.id, j.channel_id, t.root_ts FROM ${s}.bulk_jobs j
             LEFT JOIN ${s}.incident_threads t ON t.channel_id = j.channel_id AND t.conversation_id = j.id
            WHERE j.needs_review AND j.channel_id IS NOT NULL ORDER BY j.decided_at NULLS LAST, j.id LIMIT $1`,
          [lim(limit)],
        ),
      ]);
      return { requests: refs(reqs.rows), bulk: refs(jobs.rows) };
    },
  };
}
