import { checkApprover, checkCanCancel, checkCanDeny } from '../approval/rules.js';
import { AuditAction, isReplayPlan, type RecoveryRequest, type RequestKind } from '../approval/types.js';
import { assertNever } from '../assert-never.js';
import { normaliseText, type ThreadCommand } from '../commands/grammar.js';
import type { Config } from '../config.js';
import { ErrorCode, errorMessage, RecoveryError } from '../errors.js';
import type { Logger } from '../log.js';
import { addLogContext } from '../log-context.js';
import type { Metrics } from '../metrics.js';
import {
  type CoreDeps,
  diffConversation,
  executeRestore,
  exportConversation,
  inspectConversation,
  type ListResult,
  listConversations,
  planRestore,
  planUndo,
  type RestorePlan,
  validateConversation,
} from '../recovery/index.js';
import { executeReplay, planReplay, type ReplayPlan } from '../recovery/replay.js';
import { FINAL_WRITE_DELAYS_MS, retrying } from '../recovery/retry.js';
import { inspectJson } from '../recovery/summary.js';
import { summarizeZeusStatus, type ZeusStatus } from '../recovery/zeus-api.js';
import { auditTo } from '../store/audit.js';
import { type FinishState, OpenRequestConflict, type RequestStore } from '../store/requests.js';
import type { AuditEvent } from '../store/types.js';
import { approverHint, notOpenText, openConflictText, refusalText } from '../views/approval-refusals.js';
import { replayProgressView } from '../views/replay.js';
import type { SlackMessage } from '../views/slack.js';

/** Who did something in Slack, always taken from the signed payload. */
export interface SlackActor {
  userId: string;
  channelId: string;
}

/** A private answer to one person (ephemeral); the thread gets the public story. */
export interface Reply {
  ok: boolean;
  message: string;
  hint?: string;
  /** The RecoveryError's code when there is one: shown with the answer and counted in metrics. */
  code?: ErrorCode;
  /** Where to answer when there is no response_url (modal submissions). */
  channelId?: string;
  /** The message is the app's own wording naming people as `<@U…>` (approval rules). */
  mentions?: boolean;
}

export interface WorkflowDeps {
  core: CoreDeps;
  requests: RequestStore;
  policy: Config['policy'];
  groupMembers: () => Promise<ReadonlySet<string> | null>;
  /** Wakes the delivery worker so new audit entries reach the thread promptly. */
  kick: () => void;
  metrics?: Metrics;
  /** Shares a file in the conversation's incident thread (files.uploadV2). */
  uploadToThread: (file: {
    channelId: string;
    conversationId: string;
    filename: string;
    bytes: Buffer;
  }) => Promise<void>;
  /** Edits the thread message an audit entry was delivered as; false while it is not delivered yet. */
  updateDelivered: (channelId: string, seq: number, message: SlackMessage) => Promise<boolean>;
  /** How a replay is followed through Zeus's status endpoint. */
  replay?: { pollMs: number; timeoutMs: number };
  logger: Logger;
}

/** A page of `list`, or why there is none. */
export type ListReply = { ok: true; result: ListResult } | (Reply & { ok: false });

const actorId = (userId: string) => `slack:${userId}`;

/**
 * The Slack face's use cases. Every event is appended to the audit log (with delivery to the
 * incident thread) before anything is said about it in Slack; handlers only ack, parse, call
 * one of these and show the Reply.
 */
export function createWorkflow(deps: WorkflowDeps) {
  const { core, requests, policy, logger } = deps;
  const hint = approverHint({
    approverUserIds: policy.approverUserIds,
    approverUsergroupId: policy.approverUsergroupId,
  });

  async function record(channelId: string, event: AuditEvent): Promise<void> {
    await core.audit.append(event, { deliverTo: { channelId } });
    deps.kick();
  }

  const TERMINAL: Record<string, FinishState> = {
    [AuditAction.RestoreSucceeded]: 'succeeded',
    [AuditAction.RestoreFailed]: 'failed',
    [AuditAction.RestoreUnknown]: 'unknown',
    [AuditAction.ReplaySucceeded]: 'succeeded',
    [AuditAction.ReplayFailed]: 'failed',
    [AuditAction.ReplayTimedOut]: 'failed',
    [AuditAction.ReplayUnknown]: 'failed',
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
          if (!outcome) {
            const entry = await audit.append(event, options);
            if (event.action === AuditAction.ReplayStarted) onStarted?.(entry.seq);
            return entry;
          }
          const snapshot: RecoveryRequest = { ...request, state: outcome, result: { ...event.data } };
          return audit.append({ ...event, data: { ...event.data, request: snapshot } }, options);
        },
      },
    };
  }

  function failure(err: unknown): Reply {
    if (err instanceof OpenRequestConflict) return { ok: false, ...openConflictText(err.open) };
    if (err instanceof RecoveryError)
      return { ok: false, message: err.message, hint: err.hint, code: err.code };
    logger.error({ err }, 'unexpected error in a Slack workflow');
    return {
      ok: false,
      message: `Something unexpected went wrong: ${errorMessage(err).slice(0, 200)}.`,
      hint: 'Nothing further was done. Try again; if it repeats, use the CLI (`zeus-recover`) and report this.',
      code: ErrorCode.Internal,
    };
  }

  async function command(cmd: ThreadCommand, text: string, who: SlackActor): Promise<Reply> {
    try {
      const conversationId = cmd.kind === 'undo' ? null : 'id' in cmd ? cmd.id : null;
      if (conversationId) addLogContext({ conversationId });
      await record(who.channelId, {
        action: AuditAction.CommandReceived,
        actor: actorId(who.userId),
        conversationId:
          conversationId ?? (cmd.kind === 'undo' ? await backupConversation(cmd.backupId) : null),
        requestId: null,
        // Slack sends the text HTML-escaped; record what the person typed (views escape it again).
        data: { command: `/zeus-recover ${normaliseText(text)}`.trim() },
      });
      switch (cmd.kind) {
        case 'inspect': {
          const { report } = await inspectConversation(core, cmd.id);
          await record(who.channelId, {
            action: AuditAction.InspectReported,
            actor: actorId(who.userId),
            conversationId: report.conversationId,
            requestId: null,
            data: { report: inspectJson(report) },
          });
          return { ok: true, message: `Inspected ${cmd.id}; the report is in the incident thread.` };
        }
        case 'validate':
          await reportValidation(cmd.id, who.channelId, actorId(who.userId));
          return { ok: true, message: `Validated ${cmd.id}; the report is in the incident thread.` };
        case 'diff': {
          const report = await diffConversation(core, cmd.id, cmd.source);
          await record(who.channelId, {
            action: AuditAction.DiffReported,
            actor: actorId(who.userId),
            conversationId: cmd.id,
            requestId: null,
            data: { report },
          });
          return { ok: true, message: `Diff of ${cmd.id} posted in the incident thread.` };
        }
        case 'export':
          return await exportToThread(cmd.id, cmd.tier, who);
        case 'restore': {
          const plan = await planRestore(core, cmd.id, cmd.source);
          const request = await openRequest('restore', plan, who, cmd.reason);
          return { ok: true, message: `Approval requested for restoring ${cmd.id} (${request.id}).` };
        }
        case 'undo': {
          const plan = await planUndo(core, cmd.backupId);
          const request = await openRequest('undo', plan, who, cmd.reason);
          return { ok: true, message: `Approval requested for undoing ${cmd.backupId} (${request.id}).` };
        }
        case 'replay': {
          if (!core.zeus) {
            return {
              ok: false,
              message: 'Replay needs the Zeus API, and it is not configured here.',
              hint: 'Set ZEUS_API_URL and ZEUS_API_TOKEN for the bot, or replay with the CLI where they are set.',
              code: ErrorCode.Config,
            };
          }
          const plan = await planReplay(core, cmd.id, cmd.fromStep);
          const request = await openRequest('replay', plan, who, cmd.reason);
          return {
            ok: true,
            message: `Approval requested for replaying ${cmd.id} from step ${cmd.fromStep} (${request.id}).`,
          };
        }
        default:
          return assertNever(cmd, 'command kind');
      }
    } catch (err) {
      return failure(err);
    }
  }

  /** `<id>-<tier>-<UTC timestamp>.json`, e.g. `c-7f3a9e-redis-20251213T031200Z.json`. */
  function exportFileName(id: string, tier: string, at: Date): string {
    const stamp = at
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}Z$/, 'Z');
    return `${id}-${tier}-${stamp}.json`;
  }

  async function exportToThread(
    id: string,
    tier: 'redis' | 'postgres' | 's3',
    who: SlackActor,
  ): Promise<Reply> {
    const result = await exportConversation(core, id, tier);
    const actor = actorId(who.userId);
    const size = result.bytes.length;
    if (size > policy.exportMaxBytes) {
      const cli = `zeus-recover export ${id} --tier ${tier} --out ${id}-${tier}.json`;
      await record(who.channelId, {
        action: AuditAction.ExportRefused,
        actor,
        conversationId: id,
        requestId: null,
        data: { tier, bytes: size, limit: policy.exportMaxBytes, cli },
      });
      return {
        ok: false,
        message: `${id} in ${tier} is ${size} bytes, above the ${policy.exportMaxBytes}-byte limit for Slack uploads.`,
        hint: `Export it with the CLI instead: \`${cli}\``,
      };
    }
    const filename = exportFileName(id, tier, (core.clock ?? (() => new Date()))());
    await deps.uploadToThread({
      channelId: who.channelId,
      conversationId: id,
      filename,
      bytes: result.bytes,
    });
    await record(who.channelId, {
      action: AuditAction.ExportUploaded,
      actor,
      conversationId: id,
      requestId: null,
      data: { tier, filename, bytes: size, checksum: result.analysis.checksum },
    });
    return { ok: true, message: `Exported ${id} from ${tier} to the incident thread as ${filename}.` };
  }

  async function backupConversation(backupId: string): Promise<string | null> {
    return (await core.backups.get(backupId))?.conversationId ?? null;
  }

  async function reportValidation(
    id: string,
    channelId: string,
    actor: string,
    requestId: string | null = null,
  ) {
    const report = await validateConversation(core, id);
    await record(channelId, {
      action: AuditAction.ValidateReported,
      actor,
      conversationId: report.conversationId,
      requestId,
      data: { report },
    });
    return report;
  }

  async function openRequest(
    kind: RequestKind,
    plan: RestorePlan | ReplayPlan,
    who: SlackActor,
    reason: string | null,
  ) {
    const request = await requests.create({
      kind,
      conversationId: plan.conversationId,
      channelId: who.channelId,
      requester: who.userId,
      reason: reason ?? '(no reason given)',
      plan,
      requiredApprovals: policy.requiredApprovals,
      ttlMinutes: policy.requestTtlMinutes,
    });
    const { report } = await inspectConversation(core, plan.conversationId);
    await record(who.channelId, {
      action: AuditAction.RequestCreated,
      actor: actorId(who.userId),
      conversationId: plan.conversationId,
      requestId: request.id,
      data: { request, inspect: inspectJson(report), approverHint: hint },
    });
    return request;
  }

  async function transition(action: AuditAction, request: RecoveryRequest, actor: string, extra = {}) {
    await record(request.channelId, {
      action,
      actor,
      conversationId: request.conversationId,
      requestId: request.id,
      data: { request, ...extra },
    });
  }

  /** A fresh plan compared with the one approved: same checksums on both sides or it is stale. */
  async function staleness(request: RecoveryRequest): Promise<string | null> {
    const old = request.plan;
    if (isReplayPlan(old)) {
      let freshReplay: ReplayPlan;
      try {
        freshReplay = await planReplay(core, request.conversationId, old.fromStep);
      } catch (err) {
        if (err instanceof RecoveryError && err.code !== ErrorCode.TierUnreachable) return err.message;
        throw err;
      }
      return freshReplay.redisChecksum === old.redisChecksum
        ? null
        : `Redis changed since the preview (${old.redisChecksum} → ${freshReplay.redisChecksum}).`;
    }
    let fresh: RestorePlan;
    try {
      fresh = await planRestore(core, request.conversationId, old.source);
    } catch (err) {
      if (err instanceof RecoveryError && err.code !== ErrorCode.TierUnreachable) return err.message;
      throw err;
    }
    if (fresh.current.checksum !== old.current.checksum) {
      return `Redis changed since the preview (${old.current.checksum ?? 'absent'} → ${fresh.current.checksum ?? 'absent'}).`;
    }
    if (fresh.target.checksum !== old.target.checksum) {
      return `The ${old.sourceLabel} copy changed since the preview.`;
    }
    return null;
  }

  function freshPlan(request: RecoveryRequest): Promise<RestorePlan | ReplayPlan> {
    const plan = request.plan;
    return isReplayPlan(plan)
      ? planReplay(core, request.conversationId, plan.fromStep)
      : planRestore(core, request.conversationId, plan.source);
  }

  async function approve(requestId: string, who: Pick<SlackActor, 'userId'>): Promise<Reply> {
    try {
      const request = await requests.get(requestId);
      if (!request)
        return { ok: false, message: `Request ${requestId} does not exist.`, hint: 'Ask for a new restore.' };
      const rule = checkApprover({
        request,
        userId: who.userId,
        approverUserIds: policy.approverUserIds,
        approverUsergroupId: policy.approverUsergroupId,
        groupMembers: policy.approverUsergroupId ? await deps.groupMembers() : null,
      });
      if (!rule.ok) return { ok: false, message: refusalText(rule), mentions: true };
      const stale = await staleness(request);
      if (stale) {
        const marked = await requests.markStale(request.id, stale);
        if (marked.kind !== 'done')
          return { ok: false, message: notOpenText(marked.request), mentions: true };
        await transition(AuditAction.RequestStale, marked.request, 'system', { detail: stale });
        try {
          const fresh = await freshPlan(request);
          await openRequest(
            request.kind,
            fresh,
            { userId: request.requester, channelId: request.channelId },
            request.reason,
          );
          return {
            ok: false,
            message: `Not approved: ${stale}`,
            hint: 'A fresh preview is in the thread; approve that one if it is right.',
          };
        } catch (err) {
          const reply = failure(err);
          return {
            ok: false,
            message: `Not approved: ${stale} No fresh preview could be made: ${reply.message}`,
            hint: reply.hint ?? '',
          };
        }
      }
      const outcome = await requests.approve(request.id, who.userId);
      switch (outcome.kind) {
        case 'partial':
          await transition(AuditAction.RequestApproved, outcome.request, actorId(who.userId));
          return { ok: true, message: `Approval counted (${outcome.have} of ${outcome.need}).` };
        case 'duplicate':
          return { ok: false, message: `You already approved this (${outcome.have} of ${outcome.need}).` };
        case 'not_open':
          return { ok: false, message: notOpenText(outcome.request), mentions: true };
        case 'expired':
          await transition(AuditAction.RequestExpired, outcome.request, 'system');
          return {
            ok: false,
            message: 'This request expired before it was approved.',
            hint: 'Ask again for a fresh preview.',
          };
        case 'approved':
          observeWait(outcome.request, 'approved');
          await transition(AuditAction.RequestApproved, outcome.request, actorId(who.userId));
          // Runs after the click is answered; progress and result go to the thread.
          void execute(outcome.request, who.userId);
          return { ok: true, message: 'Approved. The restore is running; follow it in the thread.' };
      }
    } catch (err) {
      return failure(err);
    }
  }

  function observeWait(request: RecoveryRequest, decision: string): void {
    const waited = (Date.now() - Date.parse(request.createdAt)) / 1000;
    if (Number.isFinite(waited) && waited >= 0) deps.metrics?.approvalWait.observe({ decision }, waited);
  }

  async function execute(request: RecoveryRequest, approver: string): Promise<void> {
    if (!(await requests.startExecution(request.id))) return;
    const stopTimer = deps.metrics?.operationDuration.startTimer({ operation: request.kind });
    const actor = { id: actorId(request.requester), reason: request.reason, requestId: request.id };
    // The outcome is settled first and recorded after, so a failure to record it can never be
    // mistaken for a failure of the operation itself.
    let state: FinishState;
    let result: Record<string, unknown>;
    let recorded = true;
    try {
      const plan = request.plan;
      const outcome = isReplayPlan(plan)
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
      if (state === 'succeeded') {
        await reportValidation(request.conversationId, request.channelId, 'system', request.id).catch((err) =>
          logger.warn({ err, requestId: request.id }, 'validation after the operation failed'),
        );
      }
    } finally {
      deps.kick();
    }
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
      for (let i = 0; i < 25; i++) {
        if (await deps.updateDelivered(request.channelId, seq, message)) return;
        deps.kick();
        await new Promise((r) => setTimeout(r, 200));
      }
    };
    const result = await executeReplay(
      coreFor(request.channelId, request, (seq) => {
        startedSeq = seq;
        deps.kick();
      }),
      plan,
      actor,
      {
        zeus,
        ...(deps.replay ? { pollMs: deps.replay.pollMs, timeoutMs: deps.replay.timeoutMs } : {}),
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

  async function deny(requestId: string, who: Pick<SlackActor, 'userId'>, reason: string): Promise<Reply> {
    try {
      const request = await requests.get(requestId);
      if (!request) return { ok: false, message: `Request ${requestId} does not exist.` };
      const channelId = request.channelId;
      const rule = checkCanDeny({
        request,
        userId: who.userId,
        approverUserIds: policy.approverUserIds,
        approverUsergroupId: policy.approverUsergroupId,
        groupMembers: policy.approverUsergroupId ? await deps.groupMembers() : null,
      });
      if (!rule.ok) return { ok: false, message: refusalText(rule), mentions: true, channelId };
      const outcome = await requests.deny(requestId, who.userId, reason);
      if (outcome.kind === 'not_open') {
        return { ok: false, message: notOpenText(outcome.request), mentions: true, channelId };
      }
      if (outcome.kind === 'expired') {
        await transition(AuditAction.RequestExpired, outcome.request, 'system');
        return { ok: false, message: 'This request had already expired.', channelId };
      }
      observeWait(outcome.request, 'denied');
      await transition(AuditAction.RequestDenied, outcome.request, actorId(who.userId));
      return { ok: true, message: 'Denied; the requester sees your reason in the thread.', channelId };
    } catch (err) {
      return failure(err);
    }
  }

  /** Deny needs a reason, so the button first checks the rules and then opens the modal. */
  async function canDeny(requestId: string, userId: string): Promise<Reply> {
    const request = await requests.get(requestId);
    if (!request) return { ok: false, message: `Request ${requestId} does not exist.` };
    const rule = checkCanDeny({
      request,
      userId,
      approverUserIds: policy.approverUserIds,
      approverUsergroupId: policy.approverUsergroupId,
      groupMembers: policy.approverUsergroupId ? await deps.groupMembers() : null,
    });
    return rule.ok ? { ok: true, message: '' } : { ok: false, message: refusalText(rule), mentions: true };
  }

  async function cancel(requestId: string, who: Pick<SlackActor, 'userId'>): Promise<Reply> {
    try {
      const request = await requests.get(requestId);
      if (!request) return { ok: false, message: `Request ${requestId} does not exist.` };
      const rule = checkCanCancel(request, who.userId);
      if (!rule.ok) return { ok: false, message: refusalText(rule), mentions: true };
      const outcome = await requests.cancel(requestId, who.userId);
      if (outcome.kind === 'done') {
        await transition(AuditAction.RequestCancelled, outcome.request, actorId(who.userId));
        return { ok: true, message: 'Cancelled.' };
      }
      if (outcome.kind === 'expired') {
        await transition(AuditAction.RequestExpired, outcome.request, 'system');
        return { ok: false, message: 'This request had already expired.' };
      }
      if (outcome.kind === 'refused') {
        const { kind, requester } = outcome.request;
        return {
          ok: false,
          message: refusalText({ reason: 'not_requester', kind, requester }),
          mentions: true,
        };
      }
      return { ok: false, message: notOpenText(outcome.request), mentions: true };
    } catch (err) {
      return failure(err);
    }
  }

  async function expired(request: RecoveryRequest): Promise<void> {
    observeWait(request, 'expired');
    await transition(AuditAction.RequestExpired, request, 'system');
  }

  /** The Undo button on a restore result: an undo request, approved like any restore. */
  async function requestUndo(backupId: string, who: SlackActor): Promise<Reply> {
    return command(
      { kind: 'undo', backupId, reason: 'undo from the restore result' },
      `undo ${backupId}`,
      who,
    );
  }

  /**
   * A page of `list`, for the person who asked only: it names no conversation, so there is no
   * thread for it. It is in the audit log all the same, just not delivered to the channel.
   */
  async function list(
    query: { pattern: string | null; cursor: string | null; limit: number },
    who: SlackActor,
  ): Promise<ListReply> {
    try {
      const page = query.cursor === null ? '' : ` (next page, cursor ${query.cursor})`;
      await core.audit.append({
        action: AuditAction.CommandReceived,
        actor: actorId(who.userId),
        conversationId: null,
        requestId: null,
        data: { command: `/zeus-recover list${query.pattern === null ? '' : ` ${query.pattern}`}${page}` },
      });
      const result = await listConversations(core, {
        limit: query.limit,
        ...(query.pattern === null ? {} : { pattern: query.pattern }),
        ...(query.cursor === null ? {} : { cursor: query.cursor }),
      });
      return { ok: true, result };
    } catch (err) {
      return { ...failure(err), ok: false };
    }
  }

  return { command, list, approve, deny, canDeny, cancel, expired, requestUndo, approverHint: hint };
}

export type Workflow = ReturnType<typeof createWorkflow>;
