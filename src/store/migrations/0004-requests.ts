import type { Migration } from './migration.js';

/**
 * Durable approval requests (src/store/requests.ts). Every state change is one conditional
 * UPDATE on `requests`, so replicas, double clicks and Slack retries cannot act twice.
 *
 * - At most one open request (requested/approved/executing) per conversation, whatever its
 *   kind: a restore, an undo and a replay of one conversation all write the same Redis key, so
 *   two of them in flight would race each other. The partial unique index enforces it even for
 *   two replicas inserting at once; the store turns the violation into an error naming the
 *   open request.
 * - `request_approvals` has (request_id, user_id) as its key, so one person never counts twice.
 * - `expiry_notice_pending`: create() closes an expired-but-not-yet-swept predecessor inline
 *   (so a new request is not refused until the next sweep) and leaves it flagged; the next
 *   expireDue() returns it, so its "expired" notice is still posted exactly once.
 */
export const migration0004: Migration = {
  id: '0004_requests',
  sql: (s) => `
      CREATE TABLE ${s}.requests (
        id text PRIMARY KEY CHECK (id ~ '^rq_[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'),
        kind text NOT NULL CHECK (kind IN ('restore', 'undo', 'replay')),
        conversation_id text NOT NULL,
        channel_id text NOT NULL,
        requester text NOT NULL,
        reason text NOT NULL,
        plan jsonb NOT NULL,
        state text NOT NULL DEFAULT 'requested' CHECK (state IN (
          'requested', 'approved', 'executing', 'succeeded', 'failed', 'denied', 'expired', 'cancelled'
        )),
        required_approvals integer NOT NULL CHECK (required_approvals BETWEEN 1 AND 10),
        decided_by text,
        decided_at timestamptz,
        deny_reason text,
        created_at timestamptz NOT NULL DEFAULT now(),
        expires_at timestamptz NOT NULL,
        started_at timestamptz,
        finished_at timestamptz,
        result jsonb,
        updated_at timestamptz NOT NULL DEFAULT now(),
        expiry_notice_pending boolean NOT NULL DEFAULT false,
        CONSTRAINT requests_notice_only_when_expired CHECK (NOT expiry_notice_pending OR state = 'expired')
      );
      CREATE INDEX requests_state_expires_idx ON ${s}.requests (state, expires_at);
      CREATE INDEX requests_conversation_created_idx ON ${s}.requests (conversation_id, created_at DESC);
      CREATE UNIQUE INDEX requests_one_open_per_conversation ON ${s}.requests (conversation_id)
        WHERE state IN ('requested', 'approved', 'executing');
      CREATE INDEX requests_expiry_notice_idx ON ${s}.requests (expires_at) WHERE expiry_notice_pending;

      CREATE TABLE ${s}.request_approvals (
        request_id text NOT NULL REFERENCES ${s}.requests (id) ON DELETE CASCADE,
        user_id text NOT NULL,
        at timestamptz NOT NULL DEFAULT clock_timestamp(),
        PRIMARY KEY (request_id, user_id)
      );
    `,
};
