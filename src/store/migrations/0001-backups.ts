import type { Migration } from './migration.js';

/**
 * Exact-byte backups taken before every write (src/store/backups.ts): undo puts back these bytes,
 * or deletes the key when it did not exist.
 */
export const migration0001: Migration = {
  id: '0001_backups',
  sql: (s) => `
      CREATE TABLE ${s}.backups (
        id text PRIMARY KEY CHECK (id ~ '^bk_[A-Za-z0-9_-]{20}$'),
        conversation_id text NOT NULL,
        redis_key text NOT NULL,
        existed boolean NOT NULL,
        value bytea,
        checksum text,
        ttl_ms bigint,
        taken_at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        reason text NOT NULL,
        request_id text,
        taken_for text NOT NULL,
        -- undo deletes the key when it did not exist, and rewrites these bytes when it did
        CONSTRAINT backups_value_iff_existed CHECK (existed = (value IS NOT NULL))
      );
      CREATE INDEX backups_conversation_taken_at_idx ON ${s}.backups (conversation_id, taken_at DESC);
    `,
};
