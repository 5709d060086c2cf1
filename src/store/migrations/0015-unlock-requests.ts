import type { Migration } from './migration.js';

/**
 * `unlock` requests (break-glass, issue 12 item 5). An unlock is asked for exactly while another
 * run of the conversation holds its lock, often a restore still `executing` whose owner died, so
 * it cannot share that run's "one open request per conversation" slot: the index is rebuilt
 * without unlocks, and a second index allows one open unlock per conversation beside it. An
 * unlock writes no conversation, so two unlocks, not an unlock and a restore, are what race.
 */
export const migration0015: Migration = {
  id: '0015_unlock_requests',
  sql: (s) => `
      ALTER TABLE ${s}.requests DROP CONSTRAINT requests_kind_check;
      ALTER TABLE ${s}.requests ADD CONSTRAINT requests_kind_check
        CHECK (kind IN ('restore', 'undo', 'replay', 'unlock'));
      DROP INDEX ${s}.requests_one_open_per_conversation;
      CREATE UNIQUE INDEX requests_one_open_per_conversation ON ${s}.requests (conversation_id)
        WHERE state IN ('requested', 'approved', 'executing') AND kind <> 'unlock';
      CREATE UNIQUE INDEX requests_one_open_unlock_per_conversation ON ${s}.requests (conversation_id)
        WHERE state IN ('requested', 'approved', 'executing') AND kind = 'unlock';
    `,
};
