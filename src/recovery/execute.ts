import { createHash, randomBytes, randomUUID } from 'node:crypto';
import type { AuditData, AuditRecord } from '../audit-vocabulary.js';
import { ErrorCode, errorMessage, RecoveryError } from '../errors.js';
import type { Backup } from '../store/types.js';
import { analyzeAsync } from './analyze-async.js';
import { sha256Checksum } from './conversation.js';
import type { CoreDeps } from './deps.js';
import { DEFAULT_LEASE_MS, keepLease } from './lease.js';
import { holderLabel, lockedError } from './lock-state.js';
import { backupNotFound, planRestore, type RestorePlan, readCurrent, readSource } from './plan.js';
import { recordOutcome } from './record.js';
import { retryingFaults, sleep } from './retry.js';
import { readBackSettled, type Settlement } from './settle.js';
import { assertBackupId } from './sources.js';
import type { ConversationAnalysis, PromoteResult } from './types.js';

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
  /** The Redis copy read back after writing. Null when the restore deleted the key or it could not be read. */
  validation: ConversationAnalysis | null;
  /**
   * Whether the read-back saw the written bytes. False only when Redis acknowledged the write
   * and then could not be read back: the write is a fact, but nobody has looked at it since.
   */
  verified: boolean;
  /** Whether the outcome reached the audit log; false leaves it to the crash sweeper. */
  recorded: boolean;
  diffSummary: string;
}

/** The points between the steps of a restore, in order; tests cut connections at each. */
export type RestoreStep =
  | 'read'
  | 'backup'
  | 'audit-started'
  /** Before the new value is written to the shadow key beside the live one. */
  | 'shadow-write'
  /** Before the shadow copy is read back and validated. */
  | 'shadow-check'
  /** Before the live key is written (the shadow promoted, or the compare-and-set). */
  | 'write'
  | 'read-back'
  | 'audit-outcome';

/** Long enough to validate a big value and promote it; short, so a crash leaves no shadow for long. */
export const SHADOW_TTL_MS = 60_000;

export interface ExecuteOptions {
  /** Awaited before each step. */
  onStep?: (step: RestoreStep) => void | Promise<void>;
  /** Pauses between reads while settling from Redis (see settle.ts). */
  settleDelaysMs?: readonly number[];
  /** Pauses between tries of the outcome's audit entry; about 30 s in all by default. */
  recordDelaysMs?: readonly number[];
}

/**
 * Executes a plan: lock, re-check both checksums, back up, compare-and-set, read back.
 * Nothing is written unless the backup row exists, the lease is confirmed ours and Redis still
 * holds what the plan saw. A write whose reply is lost is settled from what Redis holds while
 * the lock is still held; the lock is released only once the outcome is settled and recorded.
 *
 * Throws a RecoveryError when the restore did not happen (nothing written) and one with code
 * OutcomeUnknown when whether it happened cannot be told. Either carries `details.recorded`.
 */
export async function executeRestore(
  deps: CoreDeps,
  plan: RestorePlan,
  actor: Actor,
  options: ExecuteOptions = {},
): Promise<RestoreResult> {
  const id = plan.conversationId;
  const holder = holderLabel(actor.id, actor.requestId);
  const leaseMs = deps.lockLeaseMs ?? DEFAULT_LEASE_MS;
  /** The `restore.started` entry: where to look for an outcome entry whose append went unanswered. */
  let startedSeq: number | null = null;
  const record = (event: AuditRecord<'restore.succeeded' | 'restore.failed' | 'restore.unknown'>) =>
    recordOutcome(
      deps.audit,
      { ...event, actor: actor.id, conversationId: id, requestId: actor.requestId ?? null },
      { since: startedSeq, delaysMs: options.recordDelaysMs },
    );
  const lease = await deps.locks.acquire(id, holder, leaseMs);
  if (!lease.acquired) {
    const refused = lockedError(
      `A restore of ${id}`,
      lease,
      'Nothing was written. Wait for it to finish, then run inspect again before deciding on another restore.',
    );
    // Recorded like any other refusal, so an approved request's thread says why it did not run.
    refused.details.recorded = await record({
      action: 'restore.failed',
      data: { source: plan.sourceLabel, backupId: null, code: refused.code, error: refused.message },
    });
    throw refused;
  }
  const keeper = keepLease(lease, leaseMs);
  const step = async (name: RestoreStep) => options.onStep?.(name);
  let backup: Backup | null = null;
  let writeStarted = false;
  /** Set while a shadow key of ours may exist: dropped on the way out unless the promote took it. */
  let shadowTag: string | null = null;
  try {
    await step('read');
    // Reads change nothing: one that met a reset connection (a failover) is simply read again.
    const [target, { read: current }] = await readAgainIfUnreachable(() =>
      Promise.all([readSource(deps, id, plan.source), readCurrent(deps, id)]),
    );
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
    await step('backup');
    // Before the write, a statement that failed (a reset connection, a failover) is tried again:
    // a stray backup row or a repeated "started" entry costs nothing, a failed restore does.
    backup = await retryingFaults(() =>
      deps.backups.create({
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
      }),
    );
    const backupId = backup.id;
    await step('audit-started');
    const started = await retryingFaults(() =>
      deps.audit.append({
        actor: actor.id,
        conversationId: id,
        requestId: actor.requestId ?? null,
        action: 'restore.started',
        data: {
          source: plan.sourceLabel,
          backupId,
          before: currentChecksum,
          after: targetChecksum,
          reason: actor.reason,
        },
      }),
    );
    startedSeq = started.seq;
    const next = target.exists ? target.bytes : null;
    const shadow = deps.redis.shadow;
    const tag = randomBytes(6).toString('hex');
    // A delete has nothing to validate; a key no shadow can share a slot with is written directly.
    const viaShadow = next !== null && shadow !== undefined && shadow.keyFor(id, tag) !== null;
    let shadowAnalysis: ConversationAnalysis | null = null;
    if (viaShadow && next !== null && shadow) {
      await step('shadow-write');
      shadowTag = tag;
      // The live key is not touched yet: a write cut off is simply written again.
      await readAgainIfUnreachable(() => shadow.write(id, tag, next, SHADOW_TTL_MS));
      await step('shadow-check');
      const held = await readAgainIfUnreachable(() => shadow.read(id, tag));
      shadowAnalysis = await validateShadow(id, plan, next, held);
    }
    await step('write');
    writeStarted = true;
    let cas: PromoteResult | null = null;
    let lost: RecoveryError | null = null;
    for (let attempt = 0; ; attempt++) {
      if (!(await keeper.confirm())) {
        throw new RecoveryError(
          ErrorCode.Locked,
          `The lock on ${id} could not be renewed before writing (the database did not answer, or the lease ran out and another restore may have it).`,
          'Nothing was written. Check the incident thread for another restore of this conversation, then make a fresh preview.',
        );
      }
      try {
        // Fenced inside the lease just confirmed: if this process dies now, the write lands
        // before the lease can run out, or never, so whoever settles after the lease sees the truth.
        const withinMs = leaseMs - Math.max(Math.floor(leaseMs / 5), 200);
        cas =
          viaShadow && shadow && next
            ? await shadow.promote(id, tag, currentBytes, sha1(next), deps.ttlPolicy, { withinMs })
            : await deps.redis.compareAndSet(id, currentBytes, next, deps.ttlPolicy, { withinMs });
        // A definite answer: the script deleted the shadow whatever it decided.
        if (viaShadow) shadowTag = null;
        break;
      } catch (err) {
        if (err instanceof RecoveryError && err.details.ambiguous === true) {
          lost = err;
          break;
        }
        // Certainly not sent (not connected, or only the clock read failed): safe to try again.
        const pause = WRITE_RETRY_DELAYS_MS[attempt];
        const notSent = err instanceof RecoveryError && err.code === ErrorCode.TierUnreachable;
        if (!notSent || pause === undefined) throw nothingWritten(id, err);
        await sleep(pause);
      }
    }
    if (cas && !cas.ok && cas.reason === 'shadow') {
      throw new RecoveryError(
        ErrorCode.ValidationFailed,
        `The validated shadow copy of ${id} was gone or different when it was to be promoted (it expired, or something else wrote to it); the live key was left as it was.`,
        'Nothing was written: the live key is untouched and the shadow copy was removed. Make a fresh preview and try again.',
      );
    }
    if (cas && !cas.ok) {
      throw new RecoveryError(
        ErrorCode.Conflict,
        cas.reason === 'deadline'
          ? `The write to ${id} reached Redis too late and was refused (Redis or the network was slow).`
          : `Redis changed while the restore of ${id} was being written; the write was refused${viaShadow ? ' and the shadow copy removed' : ''}.`,
        cas.reason === 'deadline'
          ? 'Nothing was written. Check that Redis answers promptly, then make a fresh preview.'
          : 'Nothing was written. Check whether Zeus is writing to it, then make a fresh preview.',
      );
    }
    await step('read-back');
    // Under the lock still: nothing of ours can land any more (the tier's fence), and nobody
    // else of ours may write, so what Redis holds now is the outcome.
    const { settlement, bytes, ttlMs } = await readBackSettled(deps, {
      conversationId: id,
      before: currentChecksum,
      after: targetChecksum,
      backupId: backup.id,
      ...(options.settleDelaysMs ? { retryDelaysMs: options.settleDelaysMs } : {}),
    });
    // Acknowledged, then unreadable: the write is a fact, only its read-back is missing.
    const acknowledgedUnread = cas?.ok === true && settlement.observed === 'unreadable';
    if (settlement.outcome === 'failed' && lost) {
      throw new RecoveryError(
        ErrorCode.TierUnreachable,
        `${lost.message.replace(/ It may or may not have been applied\.$/, '')} Read back: ${settlement.detail}`,
        'Nothing was written. Retry when Redis answers.',
        { cause: lost },
      );
    }
    if (settlement.outcome !== 'succeeded' && !acknowledgedUnread) {
      throw outcomeUnknown(id, settlement, {
        before: currentChecksum,
        after: targetChecksum,
        backupId: backup.id,
        acknowledged: cas?.ok === true,
      });
    }
    // The shadow was analysed already; the promote copied exactly those bytes (its SHA-1 checked).
    const validation = bytes
      ? shadowAnalysis && next?.equals(bytes)
        ? shadowAnalysis
        : await analyzeAsync(bytes, id)
      : null;
    const afterChecksum = acknowledgedUnread ? targetChecksum : (settlement.observed as string | null);
    await step('audit-outcome');
    const recorded = await record({
      action: 'restore.succeeded',
      data: {
        source: plan.sourceLabel,
        backupId: backup.id,
        before: currentChecksum,
        after: afterChecksum,
        ttlMs: cas?.ok ? cas.ttlMs : ttlMs,
        valid: validation?.valid ?? null,
        ...(acknowledgedUnread ? { verified: false } : {}),
      },
    });
    return {
      restored: true,
      conversationId: id,
      source: plan.sourceLabel,
      backupId: backup.id,
      before: currentChecksum,
      after: afterChecksum,
      ttlMs: cas?.ok ? cas.ttlMs : ttlMs,
      validation,
      verified: !acknowledgedUnread,
      recorded,
      diffSummary: plan.diffSummary,
    };
  } catch (err) {
    if (err instanceof RecoveryError && err.code === ErrorCode.OutcomeUnknown) {
      // Set by outcomeUnknown() below, the only place this code is raised here.
      const d = err.details as UnknownFacts;
      err.details.recorded = await record({
        action: 'restore.unknown',
        data: {
          source: plan.sourceLabel,
          backupId: d.backupId,
          before: d.before,
          after: d.after,
          observed: d.observed,
          observedUnreadable: d.observedUnreadable,
          code: err.code,
          detail: d.detail,
        },
      });
      throw err;
    }
    const failure = writeStarted ? err : nothingWritten(id, err);
    const recorded = await record({
      action: 'restore.failed',
      data: {
        source: plan.sourceLabel,
        backupId: backup?.id ?? null,
        code: failure instanceof RecoveryError ? failure.code : ErrorCode.Internal,
        error: errorMessage(failure),
      },
    });
    if (failure instanceof RecoveryError) failure.details.recorded = recorded;
    throw failure;
  } finally {
    keeper.stop();
    // Only after the promote's fence has closed (the tier waits it out), so this cannot race it;
    // a shadow this cannot reach expires on its own.
    const left = shadowTag;
    if (left !== null) await deps.redis.shadow?.drop(id, left).catch(() => undefined);
    await lease.release().catch(() => undefined);
  }
}

/**
 * The shadow copy must read back as exactly the planned bytes and analyse as the plan's target
 * did (a copy planned as valid must still be valid); else nothing is promoted.
 */
async function validateShadow(
  id: string,
  plan: RestorePlan,
  planned: Buffer,
  held: Buffer | null,
): Promise<ConversationAnalysis> {
  const refuse = (what: string) =>
    new RecoveryError(
      ErrorCode.ValidationFailed,
      // The thread shows the message alone: it says what was left as it was.
      `The shadow copy of ${id} failed validation: ${what}. The live key was left as it was and the shadow copy removed.`,
      'Nothing was written: the live key is untouched and the shadow copy was removed. Check that Redis is healthy (memory, evictions), then make a fresh preview.',
    );
  if (held === null) throw refuse('it was gone when read back (evicted or expired)');
  if (!held.equals(planned)) {
    throw refuse(
      `it read back as ${sha256Checksum(held)} (${held.length} bytes), not the planned ${plan.target.checksum} (${planned.length} bytes)`,
    );
  }
  const analysis = await analyzeAsync(held, id);
  if (plan.target.analysis?.valid === true && !analysis.valid) {
    throw refuse(`it no longer analyses as valid (${analysis.findings.map((f) => f.code).join(', ')})`);
  }
  return analysis;
}

function sha1(bytes: Buffer): string {
  return createHash('sha1').update(bytes).digest('hex');
}

const READ_RETRY_DELAYS_MS = [200, 800];
const WRITE_RETRY_DELAYS_MS = [200, 800];

async function readAgainIfUnreachable<T>(read: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await read();
    } catch (err) {
      const transient = !(err instanceof RecoveryError) || err.code === ErrorCode.TierUnreachable;
      const pause = READ_RETRY_DELAYS_MS[attempt];
      if (!transient || pause === undefined) throw err;
      await sleep(pause);
    }
  }
}

/** Whatever stopped a restore before its write, the person is told that nothing was written. */
function nothingWritten(id: string, err: unknown): RecoveryError {
  if (err instanceof RecoveryError) {
    if (/^Nothing was written/.test(err.hint)) return err;
    return new RecoveryError(err.code, err.message, `Nothing was written. ${err.hint}`, {
      cause: err,
      details: err.details,
    });
  }
  return new RecoveryError(
    ErrorCode.TierUnreachable,
    `The restore of ${id} stopped before writing: ${errorMessage(err)}.`,
    'Nothing was written. Try again; if it repeats, check that Postgres is reachable from the bot.',
    { cause: err },
  );
}

/** What a `restore.unknown` entry says beyond the source and the code. */
type UnknownFacts = Omit<AuditData<'restore.unknown'>, 'source' | 'code'>;

function outcomeUnknown(
  id: string,
  settlement: Settlement,
  facts: { before: string | null; after: string | null; backupId: string; acknowledged: boolean },
): RecoveryError {
  const unreadable = settlement.observed === 'unreadable';
  const observed = unreadable ? null : settlement.observed;
  const sent = facts.acknowledged
    ? 'Redis acknowledged the write, but then held something else.'
    : 'The write was sent but its reply was lost.';
  return new RecoveryError(
    ErrorCode.OutcomeUnknown,
    `Whether the restore of ${id} took effect is unknown. ${sent} ${settlement.detail}`,
    `Inspect ${id} before doing anything else: ${facts.after ?? 'an absent key'} in Redis means the restore landed, ${facts.before ?? 'an absent key'} means nothing was written. What Redis held before is in backup ${facts.backupId}.`,
    {
      details: {
        before: facts.before,
        after: facts.after,
        observed,
        observedUnreadable: unreadable,
        backupId: facts.backupId,
        detail: settlement.detail,
      } satisfies UnknownFacts,
    },
  );
}

/** Undo = restore the value a backup holds (itself planned, backed up and audited). */
export async function planUndo(deps: CoreDeps, rawBackupId: string): Promise<RestorePlan> {
  const backupId = assertBackupId(rawBackupId);
  const backup = await deps.backups.get(backupId);
  if (!backup) throw backupNotFound(backupId);
  return planRestore(deps, backup.conversationId, { kind: 'backup', backupId });
}

export function newRequestId(): string {
  return `rq_${randomUUID()}`;
}
