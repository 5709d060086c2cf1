import type { Migration } from './migration.js';

/**
 * A write whose reply was lost, and Redis then held neither the old nor the new bytes (or could
 * not be read): neither succeeded nor failed is true, so the request says "unknown". Not an open
 * state: the conversation is free for the next request once someone has looked.
 */
export const migration0007: Migration = {
  id: '0007_requests_outcome_unknown',
  sql: (s) => `
      ALTER TABLE ${s}.requests DROP CONSTRAINT requests_state_check;
      ALTER TABLE ${s}.requests ADD CONSTRAINT requests_state_check CHECK (state IN (
        'requested', 'approved', 'executing', 'succeeded', 'failed', 'unknown', 'denied', 'expired', 'cancelled'
      ));
    `,
};
