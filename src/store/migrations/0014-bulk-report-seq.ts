import type { Migration } from './migration.js';

/**
 * A bulk job's final report, recorded exactly once: `report_seq` is the `bulk.reported` audit
 * entry, set in the transaction that appends it. `reported_at` becomes the claim of the one
 * replica preparing the report (final edit, failures file); a claim whose holder died is taken
 * over after a lease, and the report is still appended once.
 */
export const migration0014: Migration = {
  id: '0014_bulk_report_seq',
  sql: (s) => `
      ALTER TABLE ${s}.bulk_jobs ADD COLUMN report_seq bigint;
    `,
};
