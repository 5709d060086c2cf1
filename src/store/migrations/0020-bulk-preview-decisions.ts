import type { Migration } from './migration.js';

/**
 * The preview's decision on each conversation of a frozen list, with the digests of the two
 * copies it decided on: a chunk whose copies are still those bytes takes the decision instead of
 * analysing them again, in any replica (the analysis is most of a bulk restore's CPU), and no
 * process keeps a cache the size of the selection for it. Nullable columns, no default: adding
 * them rewrites nothing, and items frozen before them are decided again as before.
 */
export const migration0020: Migration = {
  id: '0020_bulk_preview_decisions',
  sql: (s) => `
      ALTER TABLE ${s}.bulk_job_items
        ADD COLUMN preview_source_sha1 bytea,
        ADD COLUMN preview_redis_sha1 bytea,
        ADD COLUMN preview_group text,
        ADD COLUMN preview_problem text;
    `,
};
