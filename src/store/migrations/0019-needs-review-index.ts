import type { Migration } from './migration.js';

/**
 * App Home's "Needs review" section (store/home.ts awaitingReview) is read on every refresh for
 * everyone who opened the tab, and finds a handful of flagged rows among every request and bulk
 * job ever kept: partial indexes in its own order hold only the flagged rows, so the read stays
 * the size of what awaits review, not of the history. Plain CREATE INDEX, as a migration runs in
 * a transaction: it holds writes to each table for one scan of it, once, at upgrade.
 */
export const migration0019: Migration = {
  id: '0019_needs_review_index',
  sql: (s) => `
      CREATE INDEX requests_needs_review_idx ON ${s}.requests (decided_at, id) WHERE needs_review;
      CREATE INDEX bulk_jobs_needs_review_idx ON ${s}.bulk_jobs (decided_at, id)
        WHERE needs_review AND channel_id IS NOT NULL;
    `,
};
