import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { ErrorCode, RecoveryError } from '../errors.js';
import { quoteIdent } from './sql.js';
import type { LockHeld, LockInfo, LockLease, LockManager } from './types.js';

/** A takeover can race a release between our two statements; a few tries settle it. */
const MAX_ATTEMPTS = 5;

/**
 * Lease rows in Postgres. Expiry is judged by the database clock (now()) in every statement,
 * never by this host's clock, so replicas on skewed hosts agree on when a lease ran out.
 */
export function createLockManager(pool: pg.Pool, schema: string): LockManager {
  const table = `${quoteIdent(schema)}.locks`;

  function lease(conversationId: string, token: string): LockLease {
    return {
      acquired: true,
      token,
      async renew(leaseMs: number): Promise<boolean> {
        assertLeaseMs(leaseMs);
        // Token-matched and only while unexpired: a lease that ran out may already be someone
        // else's, and reviving it would let two holders write.
        const res = await pool.query(
          `UPDATE ${table} SET expires_at = now() + $3 * interval '1 millisecond'
           WHERE conversation_id = $1 AND token = $2 AND expires_at > now()`,
          [conversationId, token, leaseMs],
        );
        return res.rowCount === 1;
      },
      async release(): Promise<void> {
        // Token-matched: a holder whose lease expired and was taken over must not free the new one.
        await pool.query(`DELETE FROM ${table} WHERE conversation_id = $1 AND token = $2`, [
          conversationId,
          token,
        ]);
      },
    };
  }

  async function acquire(
    conversationId: string,
    holder: string,
    leaseMs: number,
  ): Promise<LockLease | LockHeld> {
    assertLeaseMs(leaseMs);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const token = randomBytes(16).toString('base64url');
      const won = await pool.query(
        `INSERT INTO ${table} AS l (conversation_id, holder, token, acquired_at, expires_at)
         VALUES ($1, $2, $3, now(), now() + $4 * interval '1 millisecond')
         ON CONFLICT (conversation_id) DO UPDATE
           SET holder = excluded.holder, token = excluded.token,
               acquired_at = excluded.acquired_at, expires_at = excluded.expires_at
           WHERE l.expires_at <= now()
         RETURNING token`,
        [conversationId, holder, token, leaseMs],
      );
      if (won.rowCount === 1) return lease(conversationId, token);

      const row = await inspect(conversationId);
      if (row) return { acquired: false, holder: row.holder, since: row.since, expiresAt: row.expiresAt };
      // Released between the two statements: try again.
    }
    throw new RecoveryError(
      ErrorCode.Locked,
      `Could not take the lock for ${conversationId}: it kept changing hands.`,
      'Another recovery is starting and finishing on this conversation; wait a moment and retry.',
    );
  }

  async function inspect(conversationId: string): Promise<LockInfo | null> {
    const { rows } = await pool.query<LockRow>(
      `SELECT holder, token, acquired_at, expires_at, expires_at <= now() AS gone
       FROM ${table} WHERE conversation_id = $1`,
      [conversationId],
    );
    return rows[0] ? lockInfo(rows[0]) : null;
  }

  async function breakLease(conversationId: string, token: string): Promise<LockInfo | null> {
    const { rows } = await pool.query<LockRow>(
      `DELETE FROM ${table} WHERE conversation_id = $1 AND token = $2
       RETURNING holder, token, acquired_at, expires_at, expires_at <= now() AS gone`,
      [conversationId, token],
    );
    return rows[0] ? lockInfo(rows[0]) : null;
  }

  return { acquire, inspect, breakLease };
}

interface LockRow {
  holder: string;
  token: string;
  acquired_at: Date;
  expires_at: Date;
  gone: boolean;
}

function lockInfo(row: LockRow): LockInfo {
  return {
    holder: row.holder,
    token: row.token,
    since: row.acquired_at,
    expiresAt: row.expires_at,
    gone: row.gone,
  };
}

function assertLeaseMs(leaseMs: number): void {
  if (!Number.isSafeInteger(leaseMs) || leaseMs <= 0) {
    throw new RecoveryError(
      ErrorCode.InvalidInput,
      `Lock lease must be a positive whole number of milliseconds, got ${leaseMs}.`,
      'Fix the lease setting and try again.',
    );
  }
}
