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

/** Filing a renewal takes a fresh plan (tier reads with their own deadlines) and one insert. */
const STALE_CLAIM_SECONDS = 120;

export function createRenewalStore(pool: Pick<pg.Pool, 'query'>, schema: string): RenewalStore {
  const requests = `${quoteIdent(schema)}.requests`;
  return {
    async claim(requestId, userId) {
      // A claim left without renewedAs for longer than STALE_CLAIM (its renewer died between
      // the claim and filing, or lost Postgres) may be taken again.
      const res = await pool.query(
        `UPDATE ${requests}
            SET result = coalesce(result, '{}'::jsonb)
                  || jsonb_build_object('renewedBy', $2::text, 'renewingSince', now()::text),
                updated_at = now()
          WHERE id = $1 AND state = 'expired'
            AND (NOT coalesce(result ? 'renewedBy', false)
                 OR (NOT result ? 'renewedAs'
                     AND (result->>'renewingSince')::timestamptz < now() - $3::double precision * interval '1 second'))`,
        [requestId, userId, STALE_CLAIM_SECONDS],
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
        `UPDATE ${requests} SET result = nullif(result - 'renewedBy' - 'renewedAs' - 'renewingSince', '{}'::jsonb), updated_at = now()
          WHERE id = $1 AND state = 'expired'`,
        [requestId],
      );
    },
  };
}
