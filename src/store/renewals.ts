import type pg from 'pg';
import { quoteIdent } from './sql.js';

/**
 * Who renewed an expired request, kept in its `result` (an expired request has no other
 * result): `renewedBy` is claimed by one conditional UPDATE, so of two clicks on Renew (or two
 * replicas) one files the fresh request; `renewedAs` names it once filed.
 */
export interface RenewalStore {
  /** True for exactly one caller per expired request; false once it is renewed or being renewed. */
  claim(requestId: string, userId: string): Promise<boolean>;
  /** The fresh request was filed as `renewedAs`. */
  done(requestId: string, renewedAs: string): Promise<void>;
  /** Filing failed: the request may be renewed again. */
  release(requestId: string): Promise<void>;
}

export function createRenewalStore(pool: Pick<pg.Pool, 'query'>, schema: string): RenewalStore {
  const requests = `${quoteIdent(schema)}.requests`;
  return {
    async claim(requestId, userId) {
      const res = await pool.query(
        `UPDATE ${requests}
            SET result = coalesce(result, '{}'::jsonb) || jsonb_build_object('renewedBy', $2::text), updated_at = now()
          WHERE id = $1 AND state = 'expired' AND NOT coalesce(result ? 'renewedBy', false)`,
        [requestId, userId],
      );
      return (res.rowCount ?? 0) === 1;
    },
    async done(requestId, renewedAs) {
      await pool.query(
        `UPDATE ${requests} SET result = result || jsonb_build_object('renewedAs', $2::text), updated_at = now()
          WHERE id = $1 AND state = 'expired'`,
        [requestId, renewedAs],
      );
    },
    async release(requestId) {
      await pool.query(
        `UPDATE ${requests} SET result = nullif(result - 'renewedBy' - 'renewedAs', '{}'::jsonb), updated_at = now()
          WHERE id = $1 AND state = 'expired'`,
        [requestId],
      );
    },
  };
}
