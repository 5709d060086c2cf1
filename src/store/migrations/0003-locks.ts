import type { Migration } from './migration.js';

/**
 * Lease locks per conversation (src/store/locks.ts), timed on the database clock so replicas with
 * skewed clocks agree on when a lease ran out.
 */
export const migration0003: Migration = {
  id: '0003_locks',
  sql: (s) => `
      CREATE TABLE ${s}.locks (
        conversation_id text PRIMARY KEY,
        holder text NOT NULL,
        token text NOT NULL,
        acquired_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL
      );
    `,
};
