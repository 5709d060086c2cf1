import type { Migration } from './migration.js';

/**
 * - `warned_at` on requests and bulk jobs: set by the one conditional UPDATE that claims the
 *   "expires soon" reply, so however many replicas sweep, and however often they restart, a
 *   request is warned about once.
 * - `home_views`: who has opened the app's Home tab (so a change is published to them, and to no
 *   one else), and the hash of what each was last shown (an unchanged view is not published
 *   again: views.publish is rate-limited per app).
 */
export const migration0011: Migration = {
  id: '0011_expiry_warnings_home',
  sql: (s) => `
      ALTER TABLE ${s}.requests ADD COLUMN warned_at timestamptz;
      ALTER TABLE ${s}.bulk_jobs ADD COLUMN warned_at timestamptz;
      CREATE INDEX requests_unwarned_idx ON ${s}.requests (expires_at)
        WHERE state = 'requested' AND warned_at IS NULL;

      CREATE TABLE ${s}.home_views (
        user_id text PRIMARY KEY,
        opened_at timestamptz NOT NULL DEFAULT now(),
        published_hash text,
        published_at timestamptz
      );
      CREATE INDEX home_views_opened_idx ON ${s}.home_views (opened_at);
    `,
};
