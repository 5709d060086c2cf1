import type pg from 'pg';
import { appendWithin, type ToldEntry } from './audit.js';
import { quoteIdent, withTransaction } from './sql.js';

/**
 * Who renewed an expired request, kept in its `result` (an expired request has no other
 * result): `renewedBy` is claimed by one conditional UPDATE, so of two clicks on Renew (or two
 * replicas) one files the fresh request; `renewedAs` names it once filed.
 */
export interface RenewalStore {
  /** True for exactly one caller per expired request; false once it is renewed or being renewed. */
  claim(requestId: string, userId: string): Promise<boolean>;
  /**
   * The fresh request was filed as `renewedAs`. `notice` (given the expired request's result as
   * now stored) is appended in the same transaction, so the expired card is never left
   * offering Renew with the renewal recorded but not told; a cut leaves neither.
   */
  done(
    requestId: string,
    renewedAs: string,
    notice?: (result: Record<string, unknown>) => ToldEntry,
  ): Promise<void>;
  /** Filing failed: the request may be renewed again. */
  release(requestId: string): Promise<void>;
}

/** Filing a renewal takes a fresh plan (tier reads with their own deadlines) and one insert. */
const STALE_CLAIM_SECONDS = 120;

export function createRenewalStore(pool: pg.Pool, schema: string): RenewalStore {
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
    done(requestId, renewedAs, notice) {
      return withTransaction(pool, async (client) => {
        const res = await client.query<{ result: Record<string, unknown> }>(
          `UPDATE ${requests} SET result = result || jsonb_build_object('renewedAs', $2::text), updated_at = now()
            WHERE id = $1 AND state = 'expired' RETURNING result`,
          [requestId, renewedAs],
        );
        const row = res.rows[0];
        if (row && notice) {
          const { event, options } = notice(row.result);
          await appendWithin(client, schema, event, options);
        }
      });
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
