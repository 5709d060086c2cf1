import type { Migration } from './migration.js';

/**
 * The bulk restore's own rows. pg-boss holds only "work chunk N of job J" (in its own schema,
 * see src/jobs.ts); what was approved and what happened to each conversation live here, so a
 * chunk worked twice (pg-boss is at-least-once) finds what its first run already did.
 */
export const migration0009: Migration = {
  id: '0009_bulk_jobs',
  sql: (s) => `
      CREATE TABLE ${s}.bulk_jobs (
        id text PRIMARY KEY CHECK (id ~ '^bj_[A-Za-z0-9_-]{20}$'),
        -- the selection as previewed (JSON text), and the key that makes it one job at a time
        selection text NOT NULL,
        selection_key text NOT NULL,
        state text NOT NULL CHECK (state IN ('pending', 'running', 'cancelling', 'cancelled', 'failed', 'succeeded')),
        overwrite boolean NOT NULL,
        max_rate integer CHECK (max_rate IS NULL OR max_rate > 0),
        total integer NOT NULL CHECK (total >= 0),
        chunks integer NOT NULL CHECK (chunks >= 0),
        actor text NOT NULL,
        reason text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now(),
        updated_at timestamptz NOT NULL DEFAULT now(),
        finished_at timestamptz,
        error text
      );
      -- One live job per selection: a second approval of the same selection is refused.
      CREATE UNIQUE INDEX bulk_jobs_one_live_per_selection ON ${s}.bulk_jobs (selection_key)
        WHERE state IN ('pending', 'running', 'cancelling');
      CREATE INDEX bulk_jobs_created_idx ON ${s}.bulk_jobs (created_at DESC);

      CREATE TABLE ${s}.bulk_job_chunks (
        job_id text NOT NULL REFERENCES ${s}.bulk_jobs (id),
        chunk integer NOT NULL CHECK (chunk >= 0),
        state text NOT NULL CHECK (state IN ('pending', 'working', 'done', 'cancelled', 'failed')),
        attempts integer NOT NULL DEFAULT 0,
        worker text,
        started_at timestamptz,
        finished_at timestamptz,
        error text,
        PRIMARY KEY (job_id, chunk)
      );

      -- The frozen list: exactly the ids approved, each with its outcome once decided.
      -- 'writing' marks a conversation whose compare-and-set was sent and whose outcome is not yet
      -- recorded: a redo that finds Redis holding the source bytes counts it as restored.
      CREATE TABLE ${s}.bulk_job_items (
        job_id text NOT NULL REFERENCES ${s}.bulk_jobs (id),
        conversation_id text NOT NULL,
        chunk integer NOT NULL,
        outcome text CHECK (outcome IN ('writing', 'restored', 'identical', 'newer', 'changed', 'invalid', 'failed')),
        backup_id text,
        detail text,
        PRIMARY KEY (job_id, conversation_id)
      );
      CREATE INDEX bulk_job_items_chunk_idx ON ${s}.bulk_job_items (job_id, chunk);
    `,
};
