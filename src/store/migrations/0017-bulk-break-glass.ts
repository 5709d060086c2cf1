import type { Migration } from './migration.js';

/**
 * Break-glass for bulk restores (BREAK_GLASS=on, docs/approval-policies.md): a job its own
 * requester approved keeps the reason and stays flagged `needs_review` until someone other than
 * the requester marks it reviewed, as a request does (migration 0012).
 */
export const migration0017: Migration = {
  id: '0017_bulk_break_glass',
  sql: (s) => `
      ALTER TABLE ${s}.bulk_jobs
        ADD COLUMN break_glass_reason text,
        ADD COLUMN needs_review boolean NOT NULL DEFAULT false,
        ADD COLUMN reviewed_by text,
        ADD COLUMN reviewed_at timestamptz;
    `,
};
