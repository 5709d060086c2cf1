import { ErrorCode, errorMessage, RecoveryError } from '../errors.js';
import { analyzeAsync } from './analyze-async.js';
import { sha256Checksum } from './conversation.js';
import type { CoreDeps } from './deps.js';
import { diffSteps, summarizeDiff } from './diff.js';
import { assertConversationId } from './ids.js';
import { readTier } from './inspect.js';
import { describeSource, type RestoreSource } from './sources.js';
import type { ConversationAnalysis, StepDiff, TierRead } from './types.js';

/** What Redis will hold after the restore: some bytes, or no key at all (undo of a first write). */
export type Target = { exists: true; bytes: Buffer } | { exists: false };

/**
 * A restore, worked out but not yet done. It is bound to two checksums: the Redis value it was
 * made against and the source it will write. Execution refuses if either has changed since, so
 * what an approver saw is exactly what gets written.
 */
export interface RestorePlan {
  conversationId: string;
  source: RestoreSource;
  sourceLabel: string;
  target: { exists: boolean; checksum: string | null; bytes: number; analysis: ConversationAnalysis | null };
  current: {
    exists: boolean;
    checksum: string | null;
    bytes: number;
    ttlMs: number | null;
    analysis: ConversationAnalysis | null;
  };
  diff: StepDiff;
  diffSummary: string;
  warnings: string[];
  createdAt: string;
}

/** The refusal of a backup id no backup has: the same words wherever an undo or restore meets it. */
export function backupNotFound(backupId: string): RecoveryError {
  return new RecoveryError(
    ErrorCode.BackupNotFound,
    `Backup ${backupId} does not exist.`,
    "Check the id in the restore result; `zeus-recover backups <conversation id>` lists a conversation's backups.",
  );
}

/** Reads the bytes a source offers now. Used at plan time and again at execution time. */
export async function readSource(deps: CoreDeps, id: string, source: RestoreSource): Promise<Target> {
  switch (source.kind) {
    case 'tier': {
      const { read } = await readTier(deps, source.tier, id);
      return fromTierRead(read, source.tier, id);
    }
    case 'backup': {
      const backup = await deps.backups.get(source.backupId);
      if (!backup) {
        throw backupNotFound(source.backupId);
      }
      if (backup.conversationId !== id) {
        throw new RecoveryError(
          ErrorCode.InvalidInput,
          `Backup ${source.backupId} belongs to conversation ${backup.conversationId}, not ${id}.`,
          `Restore it onto ${backup.conversationId}, or pick a backup of ${id}.`,
        );
      }
      return backup.existed && backup.value ? { exists: true, bytes: backup.value } : { exists: false };
    }
    case 'file': {
      let bytes: Buffer;
      try {
        bytes = await deps.readFile(source.path);
      } catch (err) {
        throw new RecoveryError(
          ErrorCode.InvalidInput,
          `Cannot read ${source.path}: ${errorMessage(err)}.`,
          'Check the path and that the file is readable.',
          { cause: err },
        );
      }
      return { exists: true, bytes };
    }
  }
}

function fromTierRead(read: TierRead, tier: string, id: string): Target {
  if (read.status === 'found') return { exists: true, bytes: read.bytes };
  if (read.status === 'missing') {
    throw new RecoveryError(
      ErrorCode.NotFound,
      `${tier} has no copy of ${id}.`,
      `Run \`inspect ${id}\` to see which tier has one.`,
    );
  }
  throw new RecoveryError(
    ErrorCode.TierUnreachable,
    `${tier} is unreachable: ${read.reason}.`,
    'Try again when it answers, or restore from another tier.',
  );
}

/** Reads Redis for a plan or an execution; unreachable Redis stops a restore (it is the target). */
export async function readCurrent(deps: CoreDeps, id: string) {
  const { read, report } = await readTier(deps, 'redis', id);
  if (read.status === 'unreachable') {
    throw new RecoveryError(
      ErrorCode.TierUnreachable,
      `Redis is unreachable: ${read.reason}.`,
      'Nothing was written. Try again when Redis answers.',
    );
  }
  return { read, report };
}

export async function planRestore(
  deps: CoreDeps,
  rawId: string,
  source: RestoreSource,
): Promise<RestorePlan> {
  const id = assertConversationId(rawId, deps.idPattern);
  const [target, { read: current, report: currentReport }] = await Promise.all([
    readSource(deps, id, source),
    readCurrent(deps, id),
  ]);
  const warnings: string[] = [];
  const targetAnalysis = target.exists ? await analyzeAsync(target.bytes, id) : null;
  if (targetAnalysis && !targetAnalysis.valid) {
    const problems = targetAnalysis.findings.filter((f) => f.severity === 'error').map((f) => f.message);
    if (source.kind !== 'backup') {
      throw new RecoveryError(
        ErrorCode.SourceInvalid,
        `The ${describeSource(source)} copy of ${id} is not valid: ${problems.slice(0, 3).join('; ')}${problems.length > 3 ? ` (+${problems.length - 3} more)` : ''}.`,
        `Nothing was written. Run \`validate ${id}\` and restore from a tier with a valid copy.`,
      );
    }
    // An undo must be able to put back exactly what was there, even a broken copy.
    warnings.push(`The backup holds a copy that is not valid (${problems[0] ?? 'see validate'}).`);
  }
  const currentChecksum = current.status === 'found' ? sha256Checksum(current.bytes) : null;
  const targetChecksum = target.exists ? sha256Checksum(target.bytes) : null;
  if (currentChecksum === targetChecksum) {
    throw new RecoveryError(
      ErrorCode.NothingToDo,
      target.exists
        ? `Redis already holds exactly this copy of ${id} (${targetChecksum}).`
        : `${id} is already absent from Redis.`,
      'Nothing to restore.',
    );
  }
  const diff = diffSteps(currentReport.analysis, targetAnalysis);
  if (targetAnalysis && currentReport.analysis && diff.identical) {
    warnings.push(
      'Redis already has the same content (formatting differs); the restore only changes the bytes.',
    );
  }
  if (
    currentReport.analysis?.valid &&
    targetAnalysis &&
    (targetAnalysis.stepCount ?? 0) < (currentReport.analysis.stepCount ?? 0)
  ) {
    warnings.push(
      targetAnalysis.stepCount === null
        ? `Redis is valid and has ${currentReport.analysis.stepCount} steps; no step of the source can be read, so this restore removes them all.`
        : `Redis is valid and has more steps (${currentReport.analysis.stepCount}) than the source (${targetAnalysis.stepCount}); this restore removes steps.`,
    );
  }
  return {
    conversationId: id,
    source,
    sourceLabel: describeSource(source),
    target: {
      exists: target.exists,
      checksum: targetChecksum,
      bytes: target.exists ? target.bytes.length : 0,
      analysis: targetAnalysis,
    },
    current: {
      exists: current.status === 'found',
      checksum: currentChecksum,
      bytes: current.status === 'found' ? current.bytes.length : 0,
      ttlMs: currentReport.ttlMs,
      analysis: currentReport.analysis,
    },
    diff,
    diffSummary: target.exists
      ? summarizeDiff(diff)
      : `delete the key (${currentReport.analysis?.stepCount ?? 0} steps)`,
    warnings,
    createdAt: (deps.clock ?? (() => new Date()))().toISOString(),
  };
}
