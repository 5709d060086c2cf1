import { randomUUID } from 'node:crypto';
import { ErrorCode, errorMessage, RecoveryError } from '../errors.js';
import type { Backup } from '../store/types.js';
import { analyzeAsync } from './analyze-async.js';
import { sha256Checksum } from './conversation.js';
import type { CoreDeps } from './deps.js';
import { planRestore, type RestorePlan, readCurrent, readSource } from './plan.js';
import { assertBackupId } from './sources.js';
import type { ConversationAnalysis } from './types.js';

export interface Actor {
  /** `slack:U123` or `cli:alice`. */
  id: string;
  reason: string;
  /** The approval request this runs for, if any (Slack); CLI runs have none. */
  requestId?: string | null;
}

export interface RestoreResult {
  restored: true;
  conversationId: string;
  source: string;
  backupId: string;
  before: string | null;
  after: string | null;
  ttlMs: number | null;
  /** The Redis copy read back after writing. Null when the restore deleted the key. */
  validation: ConversationAnalysis | null;
  diffSummary: string;
}

const DEFAULT_LEASE_MS = 5 * 60_000;

/**
 * Executes a plan: lock, re-check both checksums, back up, compare-and-set, read back.
 * Nothing is written unless the backup row exists and Redis still holds what the plan saw.
 */
export async function executeRestore(
  deps: CoreDeps,
  plan: RestorePlan,
  actor: Actor,
): Promise<RestoreResult> {
  const id = plan.conversationId;
  const holder = `${actor.id}${actor.requestId ? ` (request ${actor.requestId})` : ''}`;
  const lease = await deps.locks.acquire(id, holder, deps.lockLeaseMs ?? DEFAULT_LEASE_MS);
  if (!lease.acquired) {
    throw new RecoveryError(
      ErrorCode.Locked,
      `A restore of ${id} is already in progress (by ${lease.holder} since ${lease.since.toISOString()}).`,
      'Wait for it to finish, then run inspect again before deciding on another restore.',
      { details: { holder: lease.holder, since: lease.since.toISOString() } },
    );
  }
  const auditBase = { actor: actor.id, conversationId: id, requestId: actor.requestId ?? null };
  let backup: Backup | null = null;
  try {
    const [target, { read: current }] = await Promise.all([
      readSource(deps, id, plan.source),
      readCurrent(deps, id),
    ]);
    const targetChecksum = target.exists ? sha256Checksum(target.bytes) : null;
    if (targetChecksum !== plan.target.checksum) {
      throw new RecoveryError(
        ErrorCode.Stale,
        `The ${plan.sourceLabel} copy of ${id} changed since the preview (${plan.target.checksum ?? 'absent'} → ${targetChecksum ?? 'absent'}).`,
        'Nothing was written. Make a fresh preview and decide on that.',
      );
    }
    const currentBytes = current.status === 'found' ? current.bytes : null;
    const currentChecksum = currentBytes ? sha256Checksum(currentBytes) : null;
    if (currentChecksum !== plan.current.checksum) {
      throw new RecoveryError(
        ErrorCode.Conflict,
        `Redis changed since the preview (${plan.current.checksum ?? 'absent'} → ${currentChecksum ?? 'absent'}); Zeus may be writing to ${id}.`,
        'Nothing was written. Check whether the conversation is live, then make a fresh preview.',
      );
    }
    backup = await deps.backups.create({
      conversationId: id,
      key: deps.redis.locate(id),
      existed: currentBytes !== null,
      value: currentBytes,
      checksum: currentChecksum,
      ttlMs: current.status === 'found' ? (current.ttlMs ?? null) : null,
      actor: actor.id,
      reason: actor.reason,
      requestId: actor.requestId ?? null,
      takenFor: plan.source.kind === 'backup' ? 'undo' : 'restore',
    });
    await deps.audit.append({
      ...auditBase,
      action: 'restore.started',
      data: {
        source: plan.sourceLabel,
        backupId: backup.id,
        before: currentChecksum,
        after: targetChecksum,
        reason: actor.reason,
      },
    });
    const cas = await deps.redis.compareAndSet(
      id,
      currentBytes,
      target.exists ? target.bytes : null,
      deps.ttlPolicy,
    );
    if (!cas.ok) {
      throw new RecoveryError(
        ErrorCode.Conflict,
        `Redis changed while the restore of ${id} was being written; the write was refused.`,
        'Nothing was written. Check whether Zeus is writing to it, then make a fresh preview.',
      );
    }
    const { read: after } = await readCurrent(deps, id);
    const afterChecksum = after.status === 'found' ? sha256Checksum(after.bytes) : null;
    if (afterChecksum !== targetChecksum) {
      throw new RecoveryError(
        ErrorCode.ValidationFailed,
        `Read-back of ${id} does not match what was written (${afterChecksum ?? 'absent'} ≠ ${targetChecksum ?? 'absent'}).`,
        `Something else wrote to the key. The previous value is in backup ${backup.id}: inspect, then undo if needed.`,
      );
    }
    const validation = after.status === 'found' ? await analyzeAsync(after.bytes, id) : null;
    const result: RestoreResult = {
      restored: true,
      conversationId: id,
      source: plan.sourceLabel,
      backupId: backup.id,
      before: currentChecksum,
      after: afterChecksum,
      ttlMs: cas.ttlMs,
      validation,
      diffSummary: plan.diffSummary,
    };
    await deps.audit.append({
      ...auditBase,
      action: 'restore.succeeded',
      data: {
        source: plan.sourceLabel,
        backupId: backup.id,
        before: currentChecksum,
        after: afterChecksum,
        ttlMs: cas.ttlMs,
        valid: validation?.valid ?? null,
      },
    });
    return result;
  } catch (err) {
    await deps.audit
      .append({
        ...auditBase,
        action: 'restore.failed',
        data: {
          source: plan.sourceLabel,
          backupId: backup?.id ?? null,
          code: err instanceof RecoveryError ? err.code : ErrorCode.Internal,
          error: errorMessage(err),
        },
      })
      .catch(() => undefined);
    throw err;
  } finally {
    await lease.release().catch(() => undefined);
  }
}

/** Undo = restore the value a backup holds (itself planned, backed up and audited). */
export async function planUndo(deps: CoreDeps, rawBackupId: string): Promise<RestorePlan> {
  const backupId = assertBackupId(rawBackupId);
  const backup = await deps.backups.get(backupId);
  if (!backup) {
    throw new RecoveryError(
      ErrorCode.BackupNotFound,
      `Backup ${backupId} does not exist.`,
      'Check the id in the restore result; backups are listed by `zeus-recover inspect <id>`.',
    );
  }
  return planRestore(deps, backup.conversationId, { kind: 'backup', backupId });
}

export function newRequestId(): string {
  return `rq_${randomUUID()}`;
}
