import type { Migration } from './migration.js';

/**
 * The conversations of a chunk whose compare-and-set may be in flight, kept on the chunk's own row
 * (one row written per batch) instead of a `writing` outcome on each item (a batch's worth of rows
 * written twice: the mark, then the outcome). Items marked the old way still count as writing.
 */
export const migration0021: Migration = {
  id: '0021_bulk_chunk_writing',
  sql: (s) => `
      ALTER TABLE ${s}.bulk_job_chunks ADD COLUMN writing text[];
    `,
};
