import type { Migration } from './migration.js';

/**
 * The approval policies of docs/approval-policies.md.
 *
 * - `request_approvals.group_id`: the approver group an approval counted for (APPROVER_GROUPS);
 *   the partial unique index makes "one approval per group" hold in Postgres, whatever a replica
 *   believed when it checked.
 * - `requests.approver_groups`: the groups the request was opened under, so the approval message
 *   can say which is still missing and a changed setting never rewrites what was asked.
 * - `requests.break_glass_reason` / `needs_review` / `reviewed_by` / `reviewed_at`: a request its
 *   own requester approved (BREAK_GLASS=on) stays flagged until someone else marks it reviewed.
 * - `breaker_resets`: a reset of the circuit breaker is itself a request; at most one waits at a
 *   time, and the latest approved one is where "failures in a row" start counting again.
 *   `message_seq`: the audit entry shown as its approval message, edited once approved.
 * - the index on `requests (created_at)`: the hourly limit counts the last hour's requests.
 */
export const migration0012: Migration = {
  id: '0012_approval_policies',
  sql: (s) => `
      ALTER TABLE ${s}.request_approvals ADD COLUMN group_id text;
      CREATE UNIQUE INDEX request_approvals_one_per_group ON ${s}.request_approvals (request_id, group_id)
        WHERE group_id IS NOT NULL;

      ALTER TABLE ${s}.requests
        ADD COLUMN approver_groups text[] NOT NULL DEFAULT '{}',
        ADD COLUMN break_glass_reason text,
        ADD COLUMN needs_review boolean NOT NULL DEFAULT false,
        ADD COLUMN reviewed_by text,
        ADD COLUMN reviewed_at timestamptz;
      CREATE INDEX requests_created_idx ON ${s}.requests (created_at DESC);
      CREATE INDEX requests_finished_idx ON ${s}.requests (finished_at DESC) WHERE finished_at IS NOT NULL;

      CREATE TABLE ${s}.breaker_resets (
        id text PRIMARY KEY,
        channel_id text NOT NULL,
        requester text NOT NULL,
        reason text NOT NULL,
        state text NOT NULL DEFAULT 'requested' CHECK (state IN ('requested', 'approved')),
        approved_by text,
        created_at timestamptz NOT NULL DEFAULT now(),
        approved_at timestamptz,
        message_seq bigint
      );
      CREATE UNIQUE INDEX breaker_resets_one_waiting ON ${s}.breaker_resets ((true)) WHERE state = 'requested';
    `,
};
