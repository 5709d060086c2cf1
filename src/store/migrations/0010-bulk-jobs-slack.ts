import type { Migration } from './migration.js';

/**
 * The Slack face of a bulk job: the job row itself is its approval request (no second row to
 * keep in step with it). `pending` is "waiting for approval"; every move out of it is one
 * conditional UPDATE under the row lock, like `requests`.
 *
 * - `channel_id`: the incident channel whose thread (keyed by the job id) tells the job's story;
 *   anything that reports on a job (a detector of jobs left without a worker) posts there.
 * - `card_seq` / `progress_seq`: the audit entries delivered as the approval card and as the one
 *   progress message, so they are edited in place.
 * - `progress_posted_at`: when a replica last edited the progress message; a conditional UPDATE
 *   on it lets one replica edit per interval, however many work chunks.
 * - `reported_at`: the final report is posted once; a resume clears it.
 */
export const migration0010: Migration = {
  id: '0010_bulk_jobs_slack',
  sql: (s) => `
      ALTER TABLE ${s}.bulk_jobs
        ADD COLUMN channel_id text,
        ADD COLUMN requester text,
        ADD COLUMN required_approvals integer CHECK (required_approvals IS NULL OR required_approvals BETWEEN 1 AND 10),
        ADD COLUMN expires_at timestamptz,
        ADD COLUMN decided_by text,
        ADD COLUMN decided_at timestamptz,
        ADD COLUMN deny_reason text,
        ADD COLUMN card_seq bigint,
        ADD COLUMN progress_seq bigint,
        ADD COLUMN progress_posted_at timestamptz,
        ADD COLUMN reported_at timestamptz;
      CREATE INDEX bulk_jobs_pending_expiry_idx ON ${s}.bulk_jobs (expires_at) WHERE state = 'pending';

      CREATE TABLE ${s}.bulk_job_approvals (
        job_id text NOT NULL REFERENCES ${s}.bulk_jobs (id) ON DELETE CASCADE,
        user_id text NOT NULL,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (job_id, user_id)
      );
    `,
};
