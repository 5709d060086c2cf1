import type pg from 'pg';
import { quoteIdent } from './sql.js';

/**
 * Claims the "expires soon" reply of requests and pending bulk jobs. A claim is one conditional
 * UPDATE (`warned_at IS NULL` → now()) over rows taken with SKIP LOCKED, so of any number of
 * replicas and restarts exactly one caller gets a given row; it then posts the warning. If that
 * post fails, `release` hands the row back for the next sweep. A process killed between the
 * claim and the post loses that one warning (the request still expires and says so): a missing
 * reminder is the lesser failure than two.
 *
 * Judged on the database clock, like expiry itself.
 */
export interface ExpiryWarningStore {
  /** Ids of open requests expiring within `minutes` and not yet warned about, now marked warned. */
  claimRequests(minutes: number, limit: number): Promise<string[]>;
  /** The same for bulk jobs still waiting for approval. */
  claimBulkJobs(minutes: number, limit: number): Promise<string[]>;
  /** The warning could not be posted: the next sweep claims it again. */
  release(kind: 'request' | 'bulk', id: string): Promise<void>;
}

export function createExpiryWarningStore(pool: Pick<pg.Pool, 'query'>, schema: string): ExpiryWarningStore {
  const s = quoteIdent(schema);
  const tables = {
    request: { table: `${s}.requests`, open: "state = 'requested'" },
    bulk: { table: `${s}.bulk_jobs`, open: "state = 'pending' AND channel_id IS NOT NULL" },
  } as const;

  async function claim(kind: 'request' | 'bulk', minutes: number, limit: number): Promise<string[]> {
    const { table, open } = tables[kind];
    // Only while still open: one that expires between two sweeps is closed, not warned about.
    const due = `${open} AND warned_at IS NULL AND expires_at > now()
      AND expires_at <= now() + $1::double precision * interval '1 minute'`;
    const res = await pool.query<{ id: string }>(
      `UPDATE ${table} SET warned_at = now()
        WHERE id IN (SELECT id FROM ${table} WHERE ${due} ORDER BY expires_at LIMIT $2 FOR UPDATE SKIP LOCKED)
          AND ${due}
        RETURNING id`,
      [minutes, Math.max(1, Math.min(1000, Math.floor(limit)))],
    );
    return res.rows.map((r) => r.id);
  }

  return {
    claimRequests: (minutes, limit) => claim('request', minutes, limit),
    claimBulkJobs: (minutes, limit) => claim('bulk', minutes, limit),
    async release(kind, id) {
      await pool.query(`UPDATE ${tables[kind].table} SET warned_at = NULL WHERE id = $1`, [id]);
    },
  };
}
