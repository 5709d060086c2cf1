import type { Migration } from './migration.js';

/**
 * Destructive operations run from the CLI (`restore`, `undo`, `replay`, `bulk-restore` with
 * `--yes --reason`): they have no row in `requests`, yet MAX_DESTRUCTIVE_PER_HOUR is per
 * workspace, so each is counted here, inserted under the hourly limit's advisory lock before it
 * runs (store/blast-radius.ts). App Home and the bot's own limit see them in the same window.
 */
export const migration0016: Migration = {
  id: '0016_cli_operations',
  sql: (s) => `
      CREATE TABLE ${s}.cli_operations (
        id text PRIMARY KEY,
        kind text NOT NULL,
        actor text NOT NULL,
        conversation_id text,
        created_at timestamptz NOT NULL DEFAULT now()
      );
      CREATE INDEX cli_operations_created_at ON ${s}.cli_operations (created_at);
    `,
};
