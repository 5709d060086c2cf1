import type { SelectionInput } from '../recovery/bulk/selection.js';
import type { RestoreSource } from '../recovery/sources.js';

/**
 * The commands whose story goes to the conversation's incident thread: what the workflow runs,
 * whichever face parsed them (the slash-command grammar, the recovery form, a button).
 */

/** The bot has no files of the person's, so `file:` (a CLI-only source) never comes from chat. */
export type ThreadRestoreSource = Exclude<RestoreSource, { kind: 'file' }>;
export type ExportTier = 'redis' | 'postgres' | 's3';

export type ThreadCommand =
  | { kind: 'inspect'; id: string }
  | { kind: 'validate'; id: string }
  | { kind: 'diff'; id: string; source: ThreadRestoreSource }
  | { kind: 'restore'; id: string; source: ThreadRestoreSource; reason: string }
  | { kind: 'undo'; backupId: string; reason: string }
  | { kind: 'export'; id: string; tier: ExportTier }
  | { kind: 'replay'; id: string; fromStep: number; reason: string }
  /** Break-glass: a request to break the conversation's lock (only while the lease seen holds it). */
  | { kind: 'unlock'; id: string; reason: string };

/** The bulk restore's commands: about a job, told in the job's own thread or answered privately. */
export type BulkCommand =
  | {
      kind: 'bulk-restore';
      selection: SelectionInput;
      overwrite: boolean;
      maxRate: number | null;
      reason: string;
    }
  | { kind: 'job'; jobId: string }
  | { kind: 'jobs' }
  | { kind: 'resume'; jobId: string; reason: string };
