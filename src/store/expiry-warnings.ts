import type pg from 'pg';
import { appendWithin, type ToldEntry } from './audit.js';
import { quoteIdent, withTransaction } from './sql.js';
import type { AuditEntry } from './types.js';

/**
 * The "expires soon" reply of requests and pending bulk jobs. The caller reads what is due, builds
 * each reply from the request as it stands, then claims it: one conditional UPDATE (`warned_at IS
 * NULL` → now(), still open and due) and the reply's audit entry with its delivery row, in one
 * transaction. Of any number of replicas and restarts exactly one caller's claim matches a row,
 * and a claim is never committed without its entry: a process killed or cut off between the two
 * leaves the row unclaimed for the next sweep. The deliverer then posts the entry (at least once,
 * with its documented duplicate window).
 *
 * Judged on the database clock, like expiry itself.
 */
export interface ExpiryWarningStore {
  /** Ids of open requests expiring within `minutes` and not yet warned about (nothing is claimed). */
  dueRequests(minutes: number, limit: number): Promise<string[]>;
  /** The same for bulk jobs still waiting for approval. */
  dueBulkJobs(minutes: number, limit: number): Promise<string[]>;
  /**
   * Marks one row warned while it is still open, unwarned and due within `minutes`, and appends
   * `tell` in the same transaction. The entry, or null when another caller claimed it first or it
   * is no longer due (decided, or expired in between).
   */
  claim(kind: 'request' | 'bulk', id: string, minutes: number, tell: ToldEntry): Promise<AuditEntry | null>;
}

export function createExpiryWarningStore(pool: pg.Pool, schema: string): ExpiryWarningStore {
  const s = quoteIdent(schema);
  const tables = {
    request: { table: `${s}.requests`, open: "state = 'requested'" },
    bulk: { table: `${s}.bulk_jobs`, open: "state = 'pending' AND channel_id IS NOT NULL" },
  } as const;
  // Only while still open: one that expires between two sweeps is closed, not warned about.
  const due = (kind: 'request' | 'bulk') => `${tables[kind].open} AND warned_at IS NULL
    AND expires_at > now() AND expires_at <= now() + $1::double precision * interval '1 minute'`;

  async function dueIds(kind: 'request' | 'bulk', minutes: number, limit: number): Promise<string[]> {
    const res = await pool.query<{ id: string }>(
      `SELECT id FROM ${tables[kind].table} WHERE ${due(kind)} ORDER BY expires_at LIMIT $2`,
      [minutes, Math.max(1, Math.min(1000, Math.floor(limit)))],
    );
    return res.rows.map((r) => r.id);
  }

  return {
    dueRequests: (minutes, limit) => dueIds('request', minutes, limit),
    dueBulkJobs: (minutes, limit) => dueIds('bulk', minutes, limit),
    claim(kind, id, minutes, tell) {
      return withTransaction(pool, async (client) => {
        // A concurrent claimer waits on the row lock, then finds warned_at set: no match.
        const res = await client.query(
          `UPDATE ${tables[kind].table} SET warned_at = now() WHERE id = $2 AND ${due(kind)}`,
          [minutes, id],
        );
        if (res.rowCount !== 1) return null;
        return appendWithin(client, schema, tell.event, tell.options);
      });
    },
  };
}
