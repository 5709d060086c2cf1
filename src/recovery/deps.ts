import type { AuditLog, BackupStore, LockManager } from '../store/types.js';
import type { ActiveStore, TierName, TierReader, TtlPolicy } from './types.js';
import type { ZeusClient } from './zeus-api.js';

/**
 * Everything the core needs, passed in by the face that runs it (CLI, Slack app, tests).
 * The core never constructs a client or reads the environment.
 */
export interface CoreDeps {
  redis: ActiveStore;
  postgres: TierReader;
  s3: TierReader;
  backups: BackupStore;
  audit: AuditLog;
  locks: LockManager;
  idPattern: RegExp;
  /** Each tier's own read budget. */
  timeoutsMs: Record<TierName, number>;
  ttlPolicy: TtlPolicy;
  /** How long a restore may hold a conversation's lock before another may take it over. */
  lockLeaseMs?: number;
  readFile: (path: string) => Promise<Buffer>;
  clock?: () => Date;
  /** Told about every tier read (metrics); the core itself never depends on a metrics library. */
  onTierRead?: (tier: TierName, status: 'found' | 'missing' | 'unreachable', seconds: number) => void;
  /** The Zeus API, when ZEUS_API_URL is configured: replay, and Zeus's own status in validate. */
  zeus?: ZeusClient;
}
