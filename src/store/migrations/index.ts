import { migration0001 } from './0001-backups.js';
import { migration0002 } from './0002-audit-log.js';
import { migration0003 } from './0003-locks.js';
import { migration0004 } from './0004-requests.js';
import { migration0005 } from './0005-delivery.js';
import { migration0007 } from './0007-requests-outcome-unknown.js';
import { migration0008 } from './0008-delivery-unanswered-posts.js';
import { migration0009 } from './0009-bulk-jobs.js';
import { migration0010 } from './0010-bulk-jobs-slack.js';
import { migration0011 } from './0011-expiry-warnings-home.js';
import { migration0012 } from './0012-approval-policies.js';
import { migration0013 } from './0013-bulk-approval-groups.js';
import { migration0014 } from './0014-bulk-report-seq.js';
import { migration0015 } from './0015-unlock-requests.js';
import { migration0016 } from './0016-cli-operations.js';
import { migration0017 } from './0017-bulk-break-glass.js';
import { migration0018 } from './0018-bulk-resumed-at.js';
import { migration0019 } from './0019-needs-review-index.js';
import { migration0020 } from './0020-bulk-preview-decisions.js';
import { migration0021 } from './0021-bulk-chunk-writing.js';
import type { Migration } from './migration.js';

export type { Migration } from './migration.js';

/**
 * The bot's own schema, built by numbered migrations that ship inside the build (TS strings, not
 * .sql files that a bundler or `files` list could forget), one file each, applied in this order
 * by src/store/migrate.ts. Add a new one as the next numbered file and append it here; never
 * edit or renumber one that has shipped: a database records only ids, so an edited migration
 * would never run again where it already ran.
 */
export const MIGRATIONS: readonly Migration[] = [
  migration0001,
  migration0002,
  migration0003,
  migration0004,
  migration0005,
  migration0007,
  migration0008,
  migration0009,
  migration0010,
  migration0011,
  migration0012,
  migration0013,
  migration0014,
  migration0015,
  migration0016,
  migration0017,
  migration0018,
  migration0019,
  migration0020,
  migration0021,
];
