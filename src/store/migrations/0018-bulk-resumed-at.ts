import type { Migration } from './migration.js';

/**
 * The progress message's rate and ETA count from the last resume (docs/bulk-restore.md): when a
 * cancelled or failed job was put back to work, and how many conversations were done by then,
 * set by the resume in the same UPDATE that makes it running again.
 */
export const migration0018: Migration = {
  id: '0018_bulk_resumed_at',
  sql: (s) => `
      ALTER TABLE ${s}.bulk_jobs
        ADD COLUMN resumed_at timestamptz,
        ADD COLUMN resumed_done integer NOT NULL DEFAULT 0;
    `,
};
