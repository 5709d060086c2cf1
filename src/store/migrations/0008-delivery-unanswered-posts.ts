import type { Migration } from './migration.js';

/**
 * Posts sent to Slack whose answer never came (src/slack/delivery.ts looks for them before
 * posting again).
 */
export const migration0008: Migration = {
  id: '0008_delivery_unanswered_posts',
  sql: (s) => `
      -- Set (from the database clock) just before an entry's reply is sent to Slack, and cleared
      -- only when Slack refused it outright. While it is set and message_ts is null, Slack may
      -- hold the reply already (its answer was lost, or the process died waiting): the next
      -- attempt, by any replica, looks for it in Slack before posting again.
      ALTER TABLE ${s}.audit_deliveries ADD COLUMN post_sent_at timestamptz;

      -- The same for thread roots, which have no row until they are recorded: a root post that
      -- was sent and not answered. Removed when the root is recorded or Slack refused it.
      CREATE TABLE ${s}.incident_thread_posts (
        channel_id text NOT NULL,
        conversation_id text NOT NULL,
        -- the first such post: no copy of the root can be older than this
        first_sent_at timestamptz NOT NULL DEFAULT now(),
        -- the latest: a copy may still be on its way until this is old enough
        last_sent_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel_id, conversation_id)
      );
    `,
};
