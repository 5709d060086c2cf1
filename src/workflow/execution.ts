import { AuditAction, isReplayPlan, isUnlockPlan, type RecoveryRequest } from '../approval/types.js';
import { AUDIT_DATA, isOutcomeEvent, withOutcomeMarks } from '../audit-vocabulary.js';
import { ErrorCode, errorMessage, RecoveryError } from '../errors.js';
import { type CoreDeps, executeRestore } from '../recovery/index.js';
import type { LockState } from '../recovery/lock-state.js';
import { executeReplay, type ReplayPlan } from '../recovery/replay.js';
import { FINAL_WRITE_DELAYS_MS, retrying } from '../recovery/retry.js';
import { executeUnlock, type UnlockPlan } from '../recovery/unlock.js';
import { summarizeZeusStatus, type ZeusStatus } from '../recovery/zeus-api.js';
import { auditTo } from '../store/audit.js';
import type { FinishState } from '../store/requests.js';
import { replayProgressView } from '../views/replay.js';
import { restoreOutcomeView } from '../views/restore.js';
import type { SlackMessage } from '../views/slack.js';
import type { WorkflowContext } from './context.js';
import { editWhenDelivered } from './messaging.js';

/**
 * Runs an approved request once (startExecution lets exactly one caller through), records its
 * outcome, and finishes the request; what it wrote and how it went reach the thread through
 * the core's own audit entries.
 */
export function createExecution(ctx: WorkflowContext) {
  const { core, requests, logger, messaging, actorId, reportValidation, lookup } = ctx;

  const TERMINAL: Record<string, FinishState> = {
    [AuditAction.RestoreSucceeded]: 'succeeded',
    [AuditAction.RestoreFailed]: 'failed',
    [AuditAction.RestoreUnknown]: 'unknown',
    [AuditAction.ReplaySucceeded]: 'succeeded',
    [AuditAction.ReplayFailed]: 'failed',
    [AuditAction.ReplayTimedOut]: 'failed',
    [AuditAction.ReplayUnknown]: 'failed',
    'lock.broken': 'succeeded',
    'lock.not_broken': 'failed',
  };

  function coreFor(
    channelId: string,
    request?: RecoveryRequest,
    onStarted?: (seq: number) => void,
  ): CoreDeps {
    // The core's own restore.* entries then reach the same thread; with the request's outcome
    // attached, their delivery also turns the approval message into "done" or "failed".
    const audit = auditTo(core.audit, channelId);
    if (!request) return { ...core, audit };
    return {
      ...core,
      audit: {
        ...audit,
        append: async (event, options) => {
          const outcome = TERMINAL[event.action];
          if (!outcome || !isOutcomeEvent(event)) {
            const entry = await audit.append(event, options);
            if (event.action === AuditAction.ReplayStarted) onStarted?.(entry.seq);
            return entry;
          }
          const snapshot: RecoveryRequest = { ...request, state: outcome, result: { ...event.data } };
          return audit.append(withOutcomeMarks(event, { request: snapshot }), options);
        },
      },
    };
  }

  async function execute(request: RecoveryRequest, approver: string): Promise<void> {
    if (!(await requests.startExecution(request.id))) return;
    const stopTimer = ctx.metrics?.operationDuration.startTimer({ operation: request.kind });
    const actor = { id: actorId(request.requester), reason: request.reason, requestId: request.id };
    // The outcome is settled first and recorded after, so a failure to record it can never be
    // mistaken for a failure of the operation itself.
    let state: FinishState;
    let result: Record<string, unknown>;
    let recorded = true;
    try {
      const plan = request.plan;
      const outcome = isUnlockPlan(plan)
        ? await runUnlock(request, plan, actor)
        : isReplayPlan(plan)
          ? await runReplay(request, plan, actor)
          : await executeRestore(coreFor(request.channelId, request), plan, actor);
      state = !('outcome' in outcome) || outcome.outcome === 'done' ? 'succeeded' : 'failed';
      result = { ...outcome, approvedBy: approver };
      if ('recorded' in outcome) recorded = outcome.recorded;
    } catch (err) {
      const code = err instanceof RecoveryError ? err.code : ErrorCode.Internal;
      state = code === ErrorCode.OutcomeUnknown ? 'unknown' : 'failed';
      const details = err instanceof RecoveryError && state === 'unknown' ? err.details : {};
      result = { ...details, code, error: errorMessage(err), approvedBy: approver };
      if (err instanceof RecoveryError && err.details.recorded === false) recorded = false;
      // An unlock cut off by Postgres may have removed the lock without recording it: the
      // sweeper settles it from the audit log (approval/settle-stuck.ts), never guessing here.
      if (request.kind === 'unlock' && !(err instanceof RecoveryError)) recorded = false;
      if (state === 'unknown')
        logger.error({ requestId: request.id, code }, `${request.kind} outcome unknown`);
      else logger.warn({ requestId: request.id, code }, `${request.kind} failed`);
    }
    stopTimer?.({ outcome: state });
    try {
      if (!recorded) {
        // Finishing the request now would leave it saying one thing and the audit log and the
        // thread nothing; the crash sweeper settles all three from Redis once the lease is gone.
        logger.error(
          { requestId: request.id, outcome: state },
          `${request.kind} outcome could not be written to the audit log; left executing for the crash sweeper`,
        );
        return;
      }
      try {
        await retrying(() => requests.finish(request.id, state, result), FINAL_WRITE_DELAYS_MS);
      } catch (err) {
        logger.error(
          { err, requestId: request.id, outcome: state },
          `${request.kind} outcome is in the audit log but the request could not be finished; left for the crash sweeper`,
        );
        return;
      }
      if (state === 'succeeded' && request.kind === 'undo') {
        await replaceUsedUndo(request).catch((err) =>
          logger.warn({ err, requestId: request.id }, 'could not replace the Undo button that was used'),
        );
      }
      if (state === 'succeeded' && request.kind !== 'unlock') {
        await reportValidation(request.conversationId, request.channelId, 'system', request.id).catch((err) =>
          logger.warn({ err, requestId: request.id }, 'validation after the operation failed'),
        );
      }
    } finally {
      messaging.wakeDeliverer();
    }
  }

  /**
   * Breaks the lock only if the lease the approvers saw still holds it (executeUnlock appends
   * `lock.broken`); otherwise says in the thread what holds it now, or that it was released.
   */
  async function runUnlock(
    request: RecoveryRequest,
    plan: UnlockPlan,
    actor: { id: string; reason: string; requestId: string },
  ): Promise<{ outcome: 'done' | 'failed'; broken?: LockState; now?: LockState | null; error?: string }> {
    const deps = coreFor(request.channelId, request);
    try {
      const { broken } = await executeUnlock(deps, plan, actor);
      return { outcome: 'done', broken };
    } catch (err) {
      if (!(err instanceof RecoveryError) || err.code !== ErrorCode.Conflict) throw err;
      const now = (err.details.now ?? null) as LockState | null;
      await deps.audit.append({
        action: 'lock.not_broken',
        actor: actor.id,
        conversationId: plan.conversationId,
        requestId: request.id,
        data: { lock: plan.lock, now, reason: actor.reason, error: err.message },
      });
      return { outcome: 'failed', now, error: err.message };
    }
  }

  /**
   * The restore result whose backup this undo put back loses its Undo button: a second click
   * could only ask to write the same bytes again. Best effort; the button's handler refuses a
   * used backup anyway (decisions.ts).
   */
  async function replaceUsedUndo(request: RecoveryRequest): Promise<void> {
    const plan = request.plan;
    if (isReplayPlan(plan) || isUnlockPlan(plan) || plan.source.kind !== 'backup') return;
    const entry = await lookup.restoreThatTook(request.conversationId, plan.source.backupId);
    if (!entry) return;
    const data = AUDIT_DATA['restore.succeeded'].safeParse(entry.data);
    if (!data.success) return;
    const view = restoreOutcomeView(
      { ...data.data, conversationId: request.conversationId },
      { undone: { by: request.requester, at: new Date(), requestId: request.id }, now: new Date() },
    );
    await messaging.updateDelivered(request.channelId, entry.seq, view);
  }

  /**
   * Calls the replay once and follows Zeus's status, editing ONE progress message in the thread
   * (the delivered `replay.started` entry) as the status changes, then once more with the outcome.
   */
  async function runReplay(
    request: RecoveryRequest,
    plan: ReplayPlan,
    actor: { id: string; reason: string; requestId: string },
  ) {
    const zeus = core.zeus;
    if (!zeus) {
      throw new RecoveryError(
        ErrorCode.Config,
        'Replay needs the Zeus API.',
        'Set ZEUS_API_URL and ZEUS_API_TOKEN.',
      );
    }
    let startedSeq: number | null = null;
    const startedAt = new Date();
    type Final = { outcome: 'done' | 'failed' | 'timed_out' | 'unknown'; detail: string };
    const progress = (status: ZeusStatus | null, final?: Final) =>
      replayProgressView({
        conversationId: plan.conversationId,
        fromStep: plan.fromStep,
        steps: plan.steps.length,
        stepCount: plan.stepCount,
        actor: actor.id,
        status: status ? summarizeZeusStatus(status) : null,
        startedAt,
        now: new Date(),
        ...(final ? { final } : {}),
      });
    const edit = async (message: SlackMessage) => {
      const seq = startedSeq;
      if (seq === null) return;
      // The progress message is posted by the delivery worker; give it a moment to appear.
      await editWhenDelivered(messaging, request.channelId, seq, message, { tries: 25, ms: 200 });
    };
    const result = await executeReplay(
      coreFor(request.channelId, request, (seq) => {
        startedSeq = seq;
        messaging.wakeDeliverer();
      }),
      plan,
      actor,
      {
        zeus,
        ...(ctx.replay ? { pollMs: ctx.replay.pollMs, timeoutMs: ctx.replay.timeoutMs } : {}),
        onProgress: (status) => edit(progress(status)),
      },
    );
    await edit(progress(result.lastStatus, { outcome: result.outcome, detail: result.detail })).catch((err) =>
      logger.warn(
        { err, requestId: request.id },
        'could not show the replay outcome in its progress message',
      ),
    );
    return result;
  }

  return execute;
}
