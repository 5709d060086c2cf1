import type { Migration } from './migration.js';

/**
 * APPROVER_GROUPS for bulk restores too: the group each approval of a bulk job counted for, one
 * per group by a partial unique index, as `request_approvals` has since 0012.
 */
export const migration0013: Migration = {
  id: '0013_bulk_approval_groups',
  sql: (s) => `
      ALTER TABLE ${s}.bulk_job_approvals ADD COLUMN group_id text;
      CREATE UNIQUE INDEX bulk_job_approvals_one_per_group ON ${s}.bulk_job_approvals (job_id, group_id)
        WHERE group_id IS NOT NULL;
    `,
};
