import type { AuditData, AuditRecord, OutcomeAction } from '../audit-vocabulary.js';
import { ErrorCode, errorMessage, RecoveryError } from '../errors.js';
import { sha256Checksum } from './conversation.js';
import type { CoreDeps } from './deps.js';
import { assertConversationId } from './ids.js';
import { DEFAULT_LEASE_MS, keepLease } from './lease.js';
import { lockedError } from './lock-state.js';
import { readCurrent } from './plan.js';
import { recordOutcome } from './record.js';
import { sleep as pause, retryingFaults } from './retry.js';
import { withTimeout } from './timeout.js';
import type { StepSummary } from './types.js';
import {
  describeZeusStatus,
  isZeusAmbiguous,
  summarizeZeusStatus,
  type ZeusAmbiguousError,
  type ZeusClient,
  type ZeusStatus,
  zeusFailure,
  zeusReason,
} from './zeus-api.js';

/**
 * A replay, worked out but not yet asked for. Like a restore plan it is bound to the Redis copy
 * it was made against: if Zeus (or anyone) changed the conversation since, the steps the approver
 * saw are no longer the steps that would be re-run, so execution refuses.
 */
export interface ReplayPlan {
  conversationId: string;
  fromStep: number;
  /** n: the conversation has steps 1..n. */
  stepCount: number;
  checkpoint: number | null;
  /** The steps Zeus will run again: fromStep..n. */
  steps: StepSummary[];
  /** `sha256:<hex>` of the Redis bytes the plan was made from. */
  redisChecksum: string;
  warnings: string[];
  createdAt: string;
}

export interface ReplayActor {
  /** `slack:U123` or `cli:alice`. */
  id: string;
  reason: string;
  /** The recovery request id (`rq_…`); sent as the Idempotency-Key. CLI runs make one with newRequestId(). */
  requestId: string;
}

export type ReplayOutcome = 'done' | 'failed' | 'timed_out' | 'unknown';

export interface ReplayResult {
  conversationId: string;
  fromStep: number;
  requestId: string;
  outcome: ReplayOutcome;
  /** The last status Zeus reported, or null if it never answered one. */
  lastStatus: ZeusStatus | null;
  /** Status calls made after the replay was sent. */
  polls: number;
  /** The POST's fate was unclear (timeout or reset after sending); the outcome comes from the status endpoint. */
  ambiguous: boolean;
  replayId: string | null;
  /** One sentence for a person: what happened. */
  detail: string;
  /** Whether the outcome reached the audit log; false leaves it to the crash sweeper. */
  recorded: boolean;
}

export interface ExecuteReplayOptions {
  zeus: ZeusClient;
  /** Pause between status calls. */
  pollMs?: number;
  /** How long to follow the replay before reporting `timed_out` (the replay itself is not stopped). */
  timeoutMs?: number;
  /** Called with each status that differs from the previous one. Its failures do not stop the replay. */
  onProgress?: (status: ZeusStatus) => Promise<void> | void;
  sleep?: (ms: number) => Promise<void>;
  clock?: () => Date;
  /** Pauses between tries of the outcome's audit entry; about 30 s in all by default. */
  recordDelaysMs?: readonly number[];
}

const DEFAULT_POLL_MS = 2000;
const DEFAULT_TIMEOUT_MS = 10 * 60_000;
const BASELINE_BUDGET_MS = 5000;

/** Refuses a replay Zeus could not do well: no valid active copy, or a step outside 1..n. */
export async function planReplay(deps: CoreDeps, rawId: string, fromStep: number): Promise<ReplayPlan> {
  const id = assertConversationId(rawId, deps.idPattern);
  if (typeof fromStep !== 'number' || !Number.isSafeInteger(fromStep)) {
    throw new RecoveryError(
      ErrorCode.InvalidInput,
      `Step ${String(fromStep)} is not a whole number.`,
      'Pass the step to replay from as a whole number, 1 or more.',
    );
  }
  const { read, report } = await readCurrent(deps, id);
  if (read.status !== 'found') {
    throw new RecoveryError(
      ErrorCode.NotFound,
      `Redis has no copy of ${id}; Zeus replays from the active copy.`,
      `Restore it first: \`inspect ${id}\` shows which tier has a good copy, then \`restore ${id} --from <tier>\`.`,
    );
  }
  const analysis = report.analysis;
  if (!analysis?.valid || analysis.steps === null || analysis.stepCount === null) {
    const problem = analysis?.findings.find((f) => f.severity === 'error')?.message ?? 'it cannot be read';
    throw new RecoveryError(
      ErrorCode.SourceInvalid,
      `The active copy of ${id} in Redis is not valid (${problem}); a replay would start from broken state.`,
      `Restore a valid copy first: run \`validate ${id}\`, then \`restore ${id} --from <tier>\`.`,
    );
  }
  const n = analysis.stepCount;
  const checkpoint = analysis.checkpoint;
  if (n === 0) {
    throw new RecoveryError(
      ErrorCode.NothingToDo,
      `${id} has no steps to replay.`,
      'Nothing to replay; check the conversation in Zeus.',
    );
  }
  if (fromStep < 1 || fromStep > n) {
    throw new RecoveryError(
      ErrorCode.InvalidInput,
      `Step ${fromStep} is outside 1..${n} for ${id}.`,
      `Pick a step between 1 and ${n}${checkpoint !== null && checkpoint > 0 ? `; the checkpoint is ${checkpoint}` : ''}.`,
      { details: { fromStep, stepCount: n, checkpoint } },
    );
  }
  const warnings: string[] = [];
  if (checkpoint !== null && fromStep < checkpoint) {
    const last = checkpoint - 1;
    const which = fromStep === last ? `step ${fromStep} was` : `steps ${fromStep}–${last} were`;
    warnings.push(
      `Step ${fromStep} is before the checkpoint (${checkpoint}): ${which} already checkpointed and will be re-run.`,
    );
  }
  return {
    conversationId: id,
    fromStep,
    stepCount: n,
    checkpoint,
    steps: analysis.steps.filter((s) => s.step >= fromStep),
    redisChecksum: sha256Checksum(read.bytes),
    warnings,
    createdAt: (deps.clock ?? (() => new Date()))().toISOString(),
  };
}

type FinishFields = Omit<AuditData<'replay.succeeded'>, 'outcome'>;

/** A followed replay's final entry: the action names the outcome its data repeats. */
const FINISH_RECORD: { [O in ReplayOutcome]: (fields: FinishFields) => AuditRecord<OutcomeAction> } = {
  done: (f) => ({ action: 'replay.succeeded', data: { ...f, outcome: 'done' } }),
  failed: (f) => ({ action: 'replay.failed', data: { ...f, outcome: 'failed' } }),
  timed_out: (f) => ({ action: 'replay.timed_out', data: { ...f, outcome: 'timed_out' } }),
  unknown: (f) => ({ action: 'replay.unknown', data: { ...f, outcome: 'unknown' } }),
};

/**
 * Sends the replay once and follows it. Under the conversation's lock (a restore must not write
 * Redis while Zeus replays it), re-checks the Redis copy, audits, POSTs with the request id as
 * Idempotency-Key, then polls the status endpoint until done, failed or the follow times out.
 * If the POST's fate is unclear it is never re-sent: the status endpoint decides what happened.
 */
export async function executeReplay(
  deps: CoreDeps,
  plan: ReplayPlan,
  actor: ReplayActor,
  opts: ExecuteReplayOptions,
): Promise<ReplayResult> {
  const id = plan.conversationId;
  const { zeus } = opts;
  const pollMs = opts.pollMs ?? DEFAULT_POLL_MS;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const sleep = opts.sleep ?? pause;
  const clock = opts.clock ?? deps.clock ?? (() => new Date());
  const now = () => clock().getTime();

  // The lock must last as long as the follow (a restore let in while Zeus is mid-replay is the
  // overlap it prevents), but a lease as long as the follow would keep a crashed replay from
  // being settled for as long: so it is an ordinary lease, renewed while this process follows.
  const leaseMs = deps.lockLeaseMs ?? DEFAULT_LEASE_MS;
  const auditBase = { actor: actor.id, conversationId: id, requestId: actor.requestId };
  const audit = (record: AuditRecord<'replay.started' | 'replay.failed' | 'replay.ambiguous'>) =>
    deps.audit.append({ ...auditBase, ...record });
  const lease = await deps.locks.acquire(id, `${actor.id} (replay, request ${actor.requestId})`, leaseMs);
  if (!lease.acquired) {
    const refused = lockedError(
      `A restore or replay of ${id}`,
      lease,
      'Nothing was sent to Zeus. Wait for it to finish, then run validate again before deciding on a replay.',
    );
    // Recorded like the other refusals before sending, so an approved replay's thread says why.
    await audit({
      action: 'replay.failed',
      data: {
        fromStep: plan.fromStep,
        outcome: 'failed',
        sent: false,
        code: refused.code,
        error: refused.message,
        status: null,
        polls: 0,
      },
    }).catch(() => undefined);
    throw refused;
  }
  const keeper = keepLease(lease, leaseMs);

  try {
    let before: ZeusStatus | null = null;
    let replayId: string | null = null;
    let ambiguousError: ZeusAmbiguousError | null = null;
    let sent = false;
    let startedSeq: number | null = null;
    try {
      const { read } = await readCurrent(deps, id);
      const checksum = read.status === 'found' ? sha256Checksum(read.bytes) : null;
      if (checksum !== plan.redisChecksum) {
        throw new RecoveryError(
          ErrorCode.Stale,
          `Redis changed since the replay preview of ${id} (${plan.redisChecksum} → ${checksum ?? 'absent'}); Zeus may be writing to it.`,
          'Nothing was sent to Zeus. Make a fresh preview and decide on that.',
        );
      }
      // Best effort and briefly: what Zeus said before the POST tells an unclear POST's effect
      // apart from old news, but it is not worth holding up the replay for.
      before = await withTimeout<ZeusStatus | null>(
        zeus.status(id).catch(() => null),
        BASELINE_BUDGET_MS,
        () => null,
      );
      // Nothing has gone to Zeus yet: a reset connection here is tried again, not a failed replay.
      const started = await retryingFaults(() =>
        audit({
          action: 'replay.started',
          data: {
            fromStep: plan.fromStep,
            steps: plan.steps.length,
            stepCount: plan.stepCount,
            idempotencyKey: actor.requestId,
            redisChecksum: plan.redisChecksum,
            reason: actor.reason,
            statusBefore: before ? summarizeZeusStatus(before) : null,
          },
        }),
      );
      startedSeq = started.seq;
      if (!(await keeper.confirm())) {
        throw new RecoveryError(
          ErrorCode.Locked,
          `The lock on ${id} could not be renewed before sending the replay (the database did not answer, or the lease ran out and a restore may have it).`,
          'Nothing was sent to Zeus. Check the incident thread for a restore of this conversation, then make a fresh preview.',
        );
      }
      sent = true;
      try {
        replayId = (await zeus.replay(id, plan.fromStep, actor.requestId)).replayId;
      } catch (err) {
        if (!isZeusAmbiguous(err)) throw err;
        ambiguousError = err;
      }
    } catch (err) {
      await audit({
        action: 'replay.failed',
        data: {
          fromStep: plan.fromStep,
          outcome: 'failed',
          // Whether the request reached Zeus at all: a refused connection means it did not.
          sent: sent && zeusFailure(err) !== 'unreachable',
          code: err instanceof RecoveryError ? err.code : ErrorCode.Internal,
          error: errorMessage(err),
          status: null,
          polls: 0,
        },
      }).catch(() => undefined);
      throw err;
    }

    // An object, not `let`s: closures update it, and TypeScript would otherwise keep `null` narrowed.
    const seen: { polls: number; last: ZeusStatus | null; key: string } = { polls: 0, last: null, key: '' };
    const observe = async (s: ZeusStatus) => {
      seen.polls += 1;
      seen.last = s;
      const key = JSON.stringify(summarizeZeusStatus(s));
      if (key === seen.key) return;
      seen.key = key;
      try {
        await opts.onProgress?.(s);
      } catch {
        // A progress message that cannot be edited (Slack down) must not abandon a running replay.
      }
    };
    const finish = async (outcome: ReplayOutcome, said: string): Promise<ReplayResult> => {
      const lastStatus = seen.last;
      const detail =
        ambiguousError && outcome !== 'unknown'
          ? `${said} The replay request got no clear answer (${zeusReason(ambiguousError)}); Zeus's status showed it had arrived, so it was not sent again.`
          : said;
      const polls = seen.polls;
      // Zeus has done what it did; a reset connection must not turn that into a thrown error
      // (which the caller would record as "failed"), so the entry is retried.
      const recorded = await recordOutcome(
        deps.audit,
        {
          ...auditBase,
          ...FINISH_RECORD[outcome]({
            fromStep: plan.fromStep,
            sent: true,
            ambiguous: ambiguousError !== null,
            replayId,
            polls,
            status: lastStatus ? summarizeZeusStatus(lastStatus) : null,
            detail,
          }),
        },
        { since: startedSeq, delaysMs: opts.recordDelaysMs },
      );
      return {
        conversationId: id,
        fromStep: plan.fromStep,
        requestId: actor.requestId,
        outcome,
        lastStatus,
        polls,
        ambiguous: ambiguousError !== null,
        replayId,
        detail,
        recorded,
      };
    };
    const what = `The replay of ${id} from step ${plan.fromStep}`;

    if (ambiguousError) {
      let after: ZeusStatus | null = null;
      let statusError: string | null = null;
      try {
        after = await zeus.status(id);
        await observe(after);
      } catch (err) {
        statusError = zeusReason(err);
      }
      await audit({
        action: 'replay.ambiguous',
        data: {
          fromStep: plan.fromStep,
          error: ambiguousError.message,
          statusBefore: before ? summarizeZeusStatus(before) : null,
          status: after ? summarizeZeusStatus(after) : null,
          statusError,
        },
      });
      if (!after) {
        return finish(
          'unknown',
          `${what} may or may not have reached Zeus (${zeusReason(ambiguousError)}), and its status could not be read either (${statusError ?? 'no answer'}). Nothing was re-sent.`,
        );
      }
      // Evidence that Zeus took it: it is running now, or it reached an end it was not at before.
      const took =
        after.state === 'running' ||
        ((after.state === 'done' || after.state === 'failed') && !(before && sameStatus(before, after)));
      if (!took) {
        return finish(
          'unknown',
          `${what} may not have reached Zeus (${zeusReason(ambiguousError)}); Zeus now reports ${describeZeusStatus(after)}. Nothing was re-sent.`,
        );
      }
    }

    const deadline = now() + timeoutMs;
    let pollNow = ambiguousError === null;
    for (;;) {
      if (pollNow) {
        try {
          await observe(await zeus.status(id));
        } catch (err) {
          const failure = zeusFailure(err);
          // Zeus refusing the status call will not change by asking again; a hiccup may.
          if (failure === 'unauthorized' || failure === 'rejected' || failure === 'bad_response') {
            return finish('unknown', `${what} was sent, but its status cannot be read (${zeusReason(err)}).`);
          }
        }
      }
      pollNow = true;
      const current = seen.last;
      if (current?.state === 'done') {
        return finish('done', `${what} finished${stepText(current)}.`);
      }
      if (current?.state === 'failed') {
        return finish(
          'failed',
          `${what} failed${stepText(current)}${current.message ? `: ${current.message}` : ''}.`,
        );
      }
      const left = deadline - now();
      if (left <= 0) {
        return finish(
          'timed_out',
          `${what} had not finished after ${formatDuration(timeoutMs)} (last status: ${current ? describeZeusStatus(current) : 'none'}); stopped following it, but Zeus may still finish it.`,
        );
      }
      await sleep(Math.min(pollMs, left));
    }
  } finally {
    keeper.stop();
    await lease.release().catch(() => undefined);
  }
}

function sameStatus(a: ZeusStatus, b: ZeusStatus): boolean {
  return JSON.stringify(a.raw) === JSON.stringify(b.raw);
}

function stepText(s: ZeusStatus): string {
  if (s.step === undefined) return '';
  return ` at step ${s.step}${s.total === undefined ? '' : `/${s.total}`}`;
}

function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms} ms`;
  if (ms < 120_000) return `${Math.round(ms / 1000)} s`;
  return `${Math.round(ms / 60_000)} min`;
}
