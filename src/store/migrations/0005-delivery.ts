import type { Migration } from './migration.js';

/**
 * Delivery of audit entries to Slack incident threads (src/slack/delivery.ts).
 *
 * The audit log stays append-only; what changes as an entry travels to Slack lives beside it in
 * `audit_deliveries`, one row per entry that has somewhere to go, inserted in the same
 * transaction as the audit row (so neither exists without the other).
 */
export const migration0005: Migration = {
  id: '0005_delivery',
  sql: (s) => `
      -- One incident thread per (channel, conversation). The primary key is what stops two
      -- replicas from both recording a root: the loser's INSERT … ON CONFLICT DO NOTHING is a no-op.
      CREATE TABLE ${s}.incident_threads (
        channel_id text NOT NULL,
        conversation_id text NOT NULL,
        root_ts text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        PRIMARY KEY (channel_id, conversation_id)
      );

      CREATE TABLE ${s}.audit_deliveries (
        -- Deliberately no foreign key to audit_log: the row is only ever inserted by append(),
        -- in the transaction that wrote that very seq, so it cannot dangle; and a foreign key
        -- would make Postgres refuse TRUNCATE audit_log with its own error before the
        -- append-only trigger could say why.
        seq bigint PRIMARY KEY,
        channel_id text NOT NULL CHECK (channel_id <> ''),
        -- copied from the audit row so the worker finds the thread without parsing the entry;
        -- null: not about one conversation, posted at the channel's top level
        conversation_id text,
        state text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'delivered')),
        attempts integer NOT NULL DEFAULT 0,
        -- set from the database clock, so replicas with skewed clocks agree on when to retry
        next_attempt_at timestamptz NOT NULL DEFAULT now(),
        last_error text,
        -- the reply's ts, recorded the moment Slack accepts it: a non-null value means
        -- "never post this one again", even while the entry is still pending on its update
        message_ts text,
        -- for decisions: the approval message edited in place, once that edit went through
        updated_ts text,
        created_at timestamptz NOT NULL DEFAULT now(),
        delivered_at timestamptz,
        CONSTRAINT audit_deliveries_delivered_at CHECK ((state = 'delivered') = (delivered_at IS NOT NULL))
      );
      -- The worker's every read: the lowest pending seq of a channel.
      CREATE INDEX audit_deliveries_channel_state_seq_idx ON ${s}.audit_deliveries (channel_id, state, seq);
    `,
};
