import { ErrorCode, RecoveryError } from '../errors.js';

/** Where a restore takes its bytes from. Redis is the target, never a source. */
export type RestoreSource =
  | { kind: 'tier'; tier: 'postgres' | 's3' }
  | { kind: 'backup'; backupId: string }
  | { kind: 'file'; path: string };

const BACKUP_ID = /^bk_[A-Za-z0-9_-]{8,64}$/;

export function isBackupId(value: string): boolean {
  return BACKUP_ID.test(value);
}

export function assertBackupId(value: string): string {
  if (!isBackupId(value)) {
    throw new RecoveryError(
      ErrorCode.InvalidInput,
      `${JSON.stringify(value.slice(0, 80))} is not a backup id.`,
      'Backup ids look like `bk_…`; the restore result shows one, and `zeus-recover backups <conversation id>` lists them.',
    );
  }
  return value;
}

/** Parses `postgres`, `s3`, `backup:<id>` or `file:<path>` (the CLI's and Slack's `--from`). */
export function parseRestoreSource(text: string): RestoreSource {
  const value = text.trim();
  if (value === 'postgres' || value === 's3') return { kind: 'tier', tier: value };
  if (value.startsWith('backup:'))
    return { kind: 'backup', backupId: assertBackupId(value.slice('backup:'.length)) };
  if (value.startsWith('file:') && value.length > 'file:'.length)
    return { kind: 'file', path: value.slice('file:'.length) };
  const hint =
    value === 'redis'
      ? 'Redis is what a restore overwrites, so it cannot be the source.'
      : 'Use one of: postgres, s3, backup:<backupId>, file:<path>.';
  throw new RecoveryError(
    ErrorCode.InvalidInput,
    `Unknown restore source ${JSON.stringify(value.slice(0, 80))}.`,
    hint,
  );
}

export function describeSource(source: RestoreSource): string {
  switch (source.kind) {
    case 'tier':
      return source.tier;
    case 'backup':
      return `backup:${source.backupId}`;
    case 'file':
      return `file:${source.path}`;
  }
}
