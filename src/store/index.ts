import type pg from 'pg';
import { createAuditLog } from './audit.js';
import { createBackupStore } from './backups.js';
import { createDeliveryStore } from './deliveries.js';
import { createLockManager } from './locks.js';
import type { AuditLog, BackupStore, DeliveryStore, LockManager } from './types.js';

export interface BotStore {
  backups: BackupStore;
  audit: AuditLog;
  locks: LockManager;
  deliveries: DeliveryStore;
}

/** The bot's own state in `schema`; run `migrate(pool, schema)` first. */
export function createBotStore(pool: pg.Pool, schema: string, clock?: () => Date): BotStore {
  return {
    backups: createBackupStore(pool, schema),
    audit: createAuditLog(pool, schema, clock),
    locks: createLockManager(pool, schema),
    deliveries: createDeliveryStore(pool, schema),
  };
}

export { createAuditLog } from './audit.js';
export { createBackupStore } from './backups.js';
export { createDeliveryStore } from './deliveries.js';
export { createLockManager } from './locks.js';
export { migrate } from './migrate.js';
