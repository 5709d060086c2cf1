import {
  type BulkCheck,
  type BulkRuleInput,
  checkBulkApprove,
  checkBulkDeny,
  checkBulkStop,
} from '../approval/bulk-rules.js';
import { BREAK_GLASS_MIN_REASON, checkBreakGlass, checkReview } from '../approval/policies.js';
import { AuditAction } from '../approval/types.js';
import { AUDIT_DATA } from '../audit-vocabulary.js';
import { ErrorCode, errorMessage, RecoveryError } from '../errors.js';
import {
  allChunks,
  cancelBulkJob,
  jobStatus,
  listJobs,
  resumeBulkJob,
  startBulkRestore,
} from '../recovery/bulk/job.js';
import type { BulkDeps } from '../recovery/bulk/preview.js';
import { parseSelection } from '../recovery/bulk/selection.js';
import { sleep } from '../recovery/retry.js';
import type { ToldEntry } from '../store/audit.js';
import { HourlyLimitReached, hourlyRefusedEvent } from '../store/blast-radius.js';
import type { BulkRequest } from '../store/bulk-requests.js';
import type { AuditEntry, AuditEvent, AuditLog } from '../store/types.js';
import { refusalText } from '../views/approval-refusals.js';
import {
  BULK_FAILURES_SHOWN,
  type BulkDecisionShown,
  bulkDecidedView,
  bulkJobsView,
  bulkJobView,
  bulkProgressView,
  bulkRate,
  bulkReplies,
  bulkRequestView,
} from '../views/bulk.js';
import { breakGlassRefusalText } from '../views/policies.js';
import type { EphemeralMessage, SlackMessage } from '../views/slack.js';
import type { BulkCommand } from './command.js';
import {
  type Actor,
  type BulkWorkflowDeps,
  jobThreadEntry,
  type Reply,
  type WorkflowContext,
} from './context.js';
import { editWhenDelivered } from './messaging.js';
import { type ApproveInput, createPolicies } from './policies.js';
import { createReviewNotice } from './review-notice.js';

/** A private view, or why there is none. */
export type ViewReply = { ok: true; view: EphemeralMessage } | (Reply & { ok: false });

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
/**
 * Added to the interval when claiming an edit: two replicas' edits are spaced by the database
 * clock at claim time, and their calls reach Slack a few ms later each; this keeps the arrivals
 * at least the interval apart too.
 */
const CLAIM_GUARD_MS = 150;
/** The final edit waits for the progress message to be delivered (it is posted by the deliverer). */
const DELIVERY_WAIT = { tries: 50, ms: 200 };

/**
 * `bulk.expired`, as the store appends it in the transaction that cancels the job (the sweep or a
 * click): to the job's thread, or the audit log alone for a job whose request never opened.
 */
export function expiredEntry(job: BulkRequest): ToldEntry {
  const told = job.channelId !== '';
  return {
    event: {
      action: 'bulk.expired',
      actor: 'system',
      conversationId: told ? job.jobId : null,
      requestId: null,
      data: { jobId: job.jobId },
    },
    ...(told ? { options: { deliverTo: { channelId: job.channelId } } } : {}),
  };
}

/**
 * A bulk restore told in Slack. The job row is its own approval request (store/bulk-requests.ts);
 * its story goes to a thread keyed by the job id: the preview card, the decision, ONE progress
 * message edited in place, the final report. Chunks are worked by every replica's job engine.
 */
export function createBulk(ctx: WorkflowContext) {
  const { policy, messaging, actorId, failure, logger } = ctx;

  /** `bulk.approved`: the job's ONE progress message, which every progress edit goes to. */
  function approvedEntry(job: BulkRequest, approver: string): ToldEntry {
    return jobThreadEntry(job, {
      action: 'bulk.approved',
      actor: actorId(approver),
      data: { jobId: job.jobId, total: job.total, approvedBy: job.approvals.map((a) => actorId(a.userId)) },
    });
  }

  const bulk = ctx.bulk;
  const policies = createPolicies(ctx);
  const review = createReviewNotice(ctx);

  function need(): BulkWorkflowDeps {
    if (bulk) return bulk;
    const r = bulkReplies.notConfigured();
    throw new RecoveryError(ErrorCode.Config, r.message, r.hint ?? '');
  }

  const ruleInput = (
    job: BulkRequest,
    userId: string,
    groupMembers: ReadonlySet<string> | null,
  ): BulkRuleInput => ({
    job,
    userId,
    groupMembers,
    approverUserIds: policy.approverUserIds,
    approverUsergroupId: policy.approverUsergroupId,
  });

  async function check(
    rule: (input: BulkRuleInput) => BulkCheck,
    job: BulkRequest,
    userId: string,
    verb: 'cancel' | 'resume' = 'cancel',
  ): Promise<Reply | null> {
    const result = rule(ruleInput(job, userId, await ctx.groupMembers()));
    if (result.ok) return null;
    const deny = (r: { message: string; hint?: string }): Reply => ({
      ok: false,
      ...r,
      code: ErrorCode.Forbidden,
      mentions: true,
    });
    switch (result.reason) {
      case 'not_open':
        return { ok: false, ...bulkReplies.notOpen(job.jobId, result.state), code: ErrorCode.RequestState };
      case 'self_approval':
        return deny(bulkReplies.selfApproval());
      case 'already_approved':
        return { ok: false, ...bulkReplies.duplicate(result.have, result.need) };
      case 'own_request':
        return deny(bulkReplies.ownDeny());
      case 'not_requester':
        return deny(bulkReplies.notRequesterPending(result.requester));
      case 'not_allowed':
        return deny(bulkReplies.notAllowedToStop(verb));
      case 'not_approver':
      case 'group_unavailable':
        return deny({ message: refusalText(result) });
    }
  }

  /** The core's own entries about a job that Slack should see go to the job's thread. */
  function threadAudit(deps: BulkDeps, channelId: string, jobId: string): BulkDeps {
    const shown = new Set<string>(['bulk.cancel_requested', 'bulk.resumed']);
    const audit: AuditLog = {
      ...deps.audit,
      append: (event, options) =>
        shown.has(event.action)
          ? messaging.postToThread(channelId, { ...event, conversationId: jobId } as AuditEvent)
          : deps.audit.append(event, options),
    };
    return { ...deps, audit };
  }

  async function record(
    channelId: string,
    jobId: string,
    event: Omit<AuditEvent, 'conversationId' | 'requestId'>,
  ) {
    return messaging.postToThread(channelId, {
      ...event,
      conversationId: jobId,
      requestId: null,
    } as AuditEvent);
  }

  /** Edits a delivered message, waiting for the deliverer when it is not posted yet. */
  async function edit(
    channelId: string,
    seq: number | null,
    view: SlackMessage,
    wait: boolean,
  ): Promise<void> {
    if (seq === null) return;
    const tries = { ...DELIVERY_WAIT, tries: wait ? DELIVERY_WAIT.tries : 1 };
    if (await editWhenDelivered(messaging, channelId, seq, view, tries)) return;
    logger.warn({ channelId, seq }, 'bulk message not delivered yet; left unedited');
  }

  /**
   * After an approval that did not complete it: the card, rebuilt from its own entry, says who
   * counted and (APPROVER_GROUPS) which group is still missing, as a request's message does.
   */
  async function cardProgress(counted: BulkRequest): Promise<void> {
    if (counted.cardSeq === null) return;
    const [entry] = await ctx.core.audit.after(counted.cardSeq - 1, 1);
    if (entry?.seq !== counted.cardSeq || entry.action !== 'bulk.requested') return;
    const data = AUDIT_DATA['bulk.requested'].safeParse(entry.data);
    // Decided meanwhile: its decided card stands, buttons gone.
    const job = await need().requests.get(counted.jobId);
    if (!data.success || job?.state !== 'pending') return;
    const progress = {
      approverGroups: policy.approverGroups,
      approvals: job.approvals,
      requiredApprovals: job.requiredApprovals,
    };
    await edit(
      job.channelId,
      counted.cardSeq,
      bulkRequestView(data.data, { now: new Date(), progress }),
      true,
    );
  }

  function decided(job: BulkRequest, decision: BulkDecisionShown): Promise<void> {
    return edit(job.channelId, job.cardSeq, bulkDecidedView(job, decision), true);
  }

  async function slackJob(jobId: string): Promise<BulkRequest | Reply> {
    if (!bulk) return { ok: false, ...bulkReplies.notConfigured(), code: ErrorCode.Config };
    const job = await bulk.requests.get(jobId);
    if (job) return job;
    // A job of the CLI exists but has no thread here; jobStatus says "no such job" otherwise.
    await jobStatus(bulk.deps, jobId);
    return { ok: false, ...bulkReplies.notSlackJob(jobId), code: ErrorCode.NotFound };
  }

  async function request(
    cmd: Extract<BulkCommand, { kind: 'bulk-restore' }>,
    typed: string,
    who: Actor,
  ): Promise<Reply> {
    try {
      if (!bulk) return { ok: false, ...bulkReplies.notConfigured(), code: ErrorCode.Config };
      // Checked before anything is read or written: a bad window or pattern is only answered.
      const selection = parseSelection(cmd.selection, (ctx.core.clock ?? (() => new Date()))());
      // The hourly limit, before the preview reads the selection; open() counts again under its lock.
      const full = await policies.hourlyFull();
      if (full) {
        await ctx.core.audit.append(hourlyRefusedEvent(full, actorId(who.userId), 'bulk-restore', null));
        throw full;
      }
      const actor = { id: actorId(who.userId), reason: cmd.reason };
      const { jobId, preview } = await startBulkRestore(
        bulk.deps,
        selection,
        {
          overwrite: cmd.overwrite,
          maxRate: cmd.maxRate,
          awaitApproval: { ttlMinutes: policy.requestTtlMinutes },
        },
        actor,
        bulk.queue,
      );
      let job: BulkRequest;
      try {
        job = await bulk.requests.open(jobId, {
          channelId: who.channelId,
          requester: who.userId,
          requiredApprovals: policy.requiredApprovals,
          ttlMinutes: policy.requestTtlMinutes,
          maxPerHour: policy.maxDestructivePerHour,
        });
      } catch (err) {
        if (err instanceof HourlyLimitReached) {
          await ctx.core.audit.append(hourlyRefusedEvent(err, actorId(who.userId), 'bulk-restore', null));
        }
        // Not left pending with nobody to decide on it: that would block the selection.
        await cancelBulkJob(bulk.deps, jobId, {
          id: 'system',
          reason: 'the approval request could not be opened',
        });
        throw err;
      }
      await record(who.channelId, jobId, {
        action: AuditAction.CommandReceived,
        actor: actor.id,
        data: { command: ctx.names.command(typed) },
      });
      const card = await record(who.channelId, jobId, {
        action: 'bulk.requested',
        actor: actor.id,
        data: {
          jobId,
          reason: cmd.reason,
          requester: actor.id,
          selection: preview.selection,
          overwrite: preview.overwrite,
          maxRate: cmd.maxRate,
          total: preview.total,
          bytes: preview.bytes,
          toRestore: preview.toRestore,
          bytesToRestore: preview.bytesToRestore,
          groups: preview.groups,
          samples: preview.samples,
          invalidReasons: preview.invalidReasons,
          memory: {
            usedBytes: preview.memory.usedBytes,
            maxBytes: preview.memory.maxBytes,
            policies: preview.memory.policies,
            bytesToWrite: preview.memory.bytesToWrite,
            headroomBytes: preview.memory.headroomBytes,
          },
          requiredApprovals: job.requiredApprovals,
          expiresAt: job.expiresAt,
          approverHint: ctx.approverHint,
        },
      });
      await bulk.requests.setCardSeq(jobId, card.seq);
      return { ok: true, ...bulkReplies.requested(jobId, preview.total) };
    } catch (err) {
      return failure(err);
    }
  }

  /**
   * `input.confirmation`: the count typed in the step-up form (STEP_UP_OPERATIONS has
   * bulk-restore); `input.breakGlassReason`: the requester's own approval (BREAK_GLASS=on).
   */
  async function approve(
    jobId: string,
    who: Pick<Actor, 'userId'>,
    input: ApproveInput = {},
  ): Promise<Reply> {
    try {
      const job = await slackJob(jobId);
      if ('ok' in job) return job;
      if (input.breakGlassReason !== undefined)
        return await breakGlass(job, who.userId, input.breakGlassReason);
      const confirmation = input.confirmation;
      const refused = await check(checkBulkApprove, job, who.userId);
      if (refused) return refused;
      const gate = await policies.bulkApprovalGate(job, who.userId, confirmation);
      if (!gate.ok) return gate.reply;
      const outcome = await need().requests.approve(jobId, who.userId, {
        ...gate.options,
        expiryNotice: expiredEntry,
        approvedNotice: (done) => ({ approved: approvedEntry(done, who.userId) }),
      });
      switch (outcome.kind) {
        case 'breaker_open':
          return await policies.breakerRefused(
            { conversationId: jobId, id: jobId, kind: 'bulk-restore' },
            who.userId,
            outcome.failuresInARow,
            outcome.threshold,
          );
        case 'group_taken': {
          // Another replica counted the same group first; the job as it now stands says which is missing.
          const again = await policies.bulkApprovalGate(outcome.job, who.userId, confirmation);
          const { approvals, requiredApprovals } = outcome.job;
          return again.ok
            ? { ok: false, ...bulkReplies.duplicate(approvals.length, requiredApprovals) }
            : again.reply;
        }
        case 'partial':
          void cardProgress(outcome.job).catch((err: unknown) =>
            logger.warn({ err, jobId }, 'could not show the approvals on the bulk card'),
          );
          return { ok: true, ...bulkReplies.counted(outcome.have, outcome.need) };
        case 'duplicate':
          return { ok: false, ...bulkReplies.duplicate(outcome.have, outcome.need) };
        case 'not_open':
          return {
            ok: false,
            ...bulkReplies.notOpen(jobId, outcome.job.state),
            code: ErrorCode.RequestState,
          };
        case 'expired':
          await expired(outcome.job);
          return { ok: false, ...bulkReplies.expired(jobId), code: ErrorCode.RequestState };
        case 'approved':
          return await started(outcome.job, outcome.progress);
      }
    } catch (err) {
      return failure(err);
    }
  }

  /**
   * BREAK_GLASS=on: the requester approves their own job with a reason, outright, as for a
   * request (workflow/policies.ts): the breaker still applies, the thread gets the loud notice
   * mentioning the approvers, and the job stays flagged until someone else marks it reviewed.
   */
  async function breakGlass(job: BulkRequest, userId: string, reason: string): Promise<Reply> {
    const glass = checkBreakGlass({ enabled: policy.breakGlass, requester: job.requester, userId, reason });
    if (!glass.ok) return { ok: false, message: breakGlassRefusalText(glass), mentions: true };
    const outcome = await need().requests.approve(job.jobId, userId, {
      breakGlassReason: glass.reason,
      breakerFailures: policy.breakerFailures,
      expiryNotice: expiredEntry,
      // The loud notice and the decision are appended with the approval, or none of them is.
      approvedNotice: (done) => ({
        breakGlass: jobThreadEntry(done, {
          action: 'bulk.break_glass',
          actor: actorId(userId),
          data: {
            jobId: done.jobId,
            total: done.total,
            requester: done.requester,
            reason: done.breakGlassReason ?? glass.reason,
            decidedAt: done.decidedAt ?? new Date().toISOString(),
            notify: ctx.approverHint,
          },
        }),
        approved: approvedEntry(done, userId),
      }),
    });
    switch (outcome.kind) {
      case 'breaker_open':
        return policies.breakerRefused(
          { conversationId: job.jobId, id: job.jobId, kind: 'bulk-restore' },
          userId,
          outcome.failuresInARow,
          outcome.threshold,
        );
      case 'expired':
        await expired(outcome.job);
        return { ok: false, ...bulkReplies.expired(job.jobId), code: ErrorCode.RequestState };
      case 'approved':
        return await started(outcome.job, outcome.progress);
      default:
        return {
          ok: false,
          ...bulkReplies.notOpen(job.jobId, outcome.job.state),
          code: ErrorCode.RequestState,
        };
    }
  }

  /** Someone other than the requester looked at a break-glass job: the flag is cleared, and said so. */
  async function markReviewed(jobId: string, who: Pick<Actor, 'userId'>): Promise<Reply> {
    try {
      const job = await slackJob(jobId);
      if ('ok' in job) return job;
      const target = { kind: 'bulk', channelId: job.channelId, jobId } as const;
      const rule = checkReview(job, who.userId);
      if (!rule.ok) return await review.refused(target, rule, job.reviewedBy);
      const outcome = await need().requests.markReviewed(jobId, who.userId, (reviewed) =>
        jobThreadEntry(reviewed, {
          action: 'bulk.reviewed',
          actor: actorId(who.userId),
          data: { jobId, total: reviewed.total, requester: reviewed.requester },
        }),
      );
      if (outcome.kind === 'refused') {
        const again = checkReview(outcome.job, who.userId);
        return again.ok
          ? { ok: false, message: '', mentions: true }
          : await review.refused(target, again, outcome.job.reviewedBy);
      }
      messaging.wakeDeliverer();
      await review.showReviewed(target, { by: who.userId, at: outcome.entry.at });
      return { ok: true, message: '' };
    } catch (err) {
      return failure(err);
    }
  }

  /** Approved: the progress message first (its seq is where every edit goes), then the chunks. */
  async function started(job: BulkRequest, progress: AuditEntry | null): Promise<Reply> {
    const b = need();
    const by = job.approvals.map((a) => a.userId);
    // The store appended bulk.approved with the approval; a death before the chunks are queued
    // leaves a running job no worker holds, which the orphan sweep fails and tells in the thread.
    if (!progress) throw new Error(`bulk job ${job.jobId} approved without its bulk.approved entry`);
    messaging.wakeDeliverer();
    const glass = job.breakGlassReason !== null;
    void decided(job, { kind: 'approved', by, ...(glass ? { breakGlass: true } : {}) }).catch(
      (err: unknown) => logger.warn({ err, jobId: job.jobId }, 'could not mark the bulk card approved'),
    );
    try {
      await b.queue.enqueue(job.jobId, allChunks(job.chunks));
    } catch (err) {
      logger.error({ err, jobId: job.jobId }, 'approved bulk job could not be queued');
      return {
        ok: false,
        ...bulkReplies.queueFailed(job.jobId, errorMessage(err)),
        code: ErrorCode.TierUnreachable,
      };
    }
    // An empty job (every chunk already settled) reports at once.
    void poke(job.jobId);
    void startBeat(job.jobId);
    return { ok: true, ...bulkReplies.approvedRunning(job.jobId) };
  }

  async function deny(jobId: string, who: Pick<Actor, 'userId'>, reason: string): Promise<Reply> {
    try {
      const job = await slackJob(jobId);
      if ('ok' in job) return job;
      const channelId = job.channelId;
      const refused =
        (await check(checkBulkDeny, job, who.userId)) ??
        (await policies.memberGate(policy.approverGroups, who.userId, 'deny'));
      if (refused) return { ...refused, channelId };
      const outcome = await need().requests.deny(jobId, who.userId, reason, expiredEntry, (denied) =>
        jobThreadEntry(denied, {
          action: 'bulk.denied',
          actor: actorId(who.userId),
          data: { jobId, reason },
        }),
      );
      if (outcome.kind === 'not_open') {
        return { ok: false, ...bulkReplies.notOpen(jobId, outcome.job.state), channelId };
      }
      if (outcome.kind === 'expired') {
        await expired(outcome.job);
        return { ok: false, ...bulkReplies.expired(jobId), channelId };
      }
      messaging.wakeDeliverer();
      await decided(outcome.job, { kind: 'denied', by: who.userId, reason });
      return { ok: true, ...bulkReplies.denied(jobId), channelId };
    } catch (err) {
      return failure(err);
    }
  }

  async function canDeny(jobId: string, userId: string): Promise<Reply> {
    const job = await slackJob(jobId);
    if ('ok' in job) return job;
    return (
      (await check(checkBulkDeny, job, userId)) ??
      (await policies.memberGate(policy.approverGroups, userId, 'deny')) ?? { ok: true, message: '' }
    );
  }

  /** Who may cancel, and whether it can be: the button checks first, then asks for the reason. */
  async function cancelRefusal(job: BulkRequest, userId: string): Promise<Reply | null> {
    // Someone else's job: with APPROVER_GROUPS, only the groups' members (the plain rules let anyone).
    const refused =
      (await check(checkBulkStop, job, userId)) ??
      (userId === job.requester ? null : await policies.memberGate(policy.approverGroups, userId, 'cancel'));
    if (refused) return refused;
    if (!['pending', 'running', 'cancelling'].includes(job.state)) {
      return { ok: false, ...bulkReplies.cannotCancel(job.jobId, job.state), code: ErrorCode.RequestState };
    }
    return null;
  }

  /** On success the message names what is cancelled, for the reason form's heading. */
  async function canCancel(jobId: string, userId: string): Promise<Reply> {
    try {
      const job = await slackJob(jobId);
      if ('ok' in job) return job;
      return (await cancelRefusal(job, userId)) ?? { ok: true, ...bulkReplies.cancelWhat(jobId, job.total) };
    } catch (err) {
      return failure(err);
    }
  }

  async function cancel(jobId: string, who: Pick<Actor, 'userId'>, reason: string): Promise<Reply> {
    try {
      const job = await slackJob(jobId);
      if ('ok' in job) return job;
      const refused = await cancelRefusal(job, who.userId);
      if (refused) return refused;
      const b = need();
      const actor = { id: actorId(who.userId), reason };
      // Before approval the card says it (below); once running, the thread is told and how to resume.
      const deps = job.state === 'pending' ? b.deps : threadAudit(b.deps, job.channelId, jobId);
      const status = await cancelBulkJob(deps, jobId, actor);
      if (job.state === 'pending') await decided(job, { kind: 'cancelled', by: who.userId });
      else void poke(jobId);
      return { ok: true, ...bulkReplies.cancelled(jobId, status.state) };
    } catch (err) {
      return failure(err);
    }
  }

  async function resume(jobId: string, reason: string, who: Actor): Promise<Reply> {
    try {
      const job = await slackJob(jobId);
      if ('ok' in job) return job;
      const refused =
        (await check(checkBulkStop, job, who.userId, 'resume')) ??
        (who.userId === job.requester
          ? null
          : await policies.memberGate(policy.approverGroups, who.userId, 'resume'));
      if (refused) return refused;
      if (!['cancelled', 'failed', 'running'].includes(job.state)) {
        return { ok: false, ...bulkReplies.notResumable(jobId, job.state), code: ErrorCode.RequestState };
      }
      // Cancelled, denied or expired before approval: resuming would run what nobody approved.
      if (job.approvals.length < job.requiredApprovals) {
        return { ok: false, ...bulkReplies.neverApproved(jobId), code: ErrorCode.Forbidden };
      }
      const b = need();
      const status = await resumeBulkJob(
        threadAudit(b.deps, job.channelId, jobId),
        jobId,
        { id: actorId(who.userId), reason },
        b.queue,
      );
      void poke(jobId);
      void startBeat(jobId);
      return { ok: true, ...bulkReplies.resumed(jobId, status.state) };
    } catch (err) {
      return failure(err);
    }
  }

  async function show(jobId: string): Promise<ViewReply> {
    try {
      if (!bulk) return { ok: false, ...bulkReplies.notConfigured(), code: ErrorCode.Config };
      return { ok: true, view: bulkJobView(await jobStatus(bulk.deps, jobId), { now: new Date() }) };
    } catch (err) {
      return { ...failure(err), ok: false };
    }
  }

  async function list(): Promise<ViewReply> {
    try {
      if (!bulk) return { ok: false, ...bulkReplies.notConfigured(), code: ErrorCode.Config };
      return { ok: true, view: bulkJobsView(await listJobs(bulk.deps, 20)) };
    } catch (err) {
      return { ...failure(err), ok: false };
    }
  }

  /** A click found the job past its window: the store appended its notice with the cancel. */
  async function expired(job: BulkRequest): Promise<void> {
    messaging.wakeDeliverer();
    await decided(job, { kind: 'expired' }).catch((err: unknown) =>
      logger.warn({ err, jobId: job.jobId }, 'could not mark the expired bulk card'),
    );
  }

  /**
   * Pending jobs past their expiry: cancelled, and said so in their threads, each entry appended
   * in the transaction that cancels the job (the sweeper calls it). A job frozen by a process
   * that stopped before its request was opened has no card and no thread: the audit log alone
   * says it, and its selection is free again.
   */
  async function expireDue(): Promise<number> {
    if (!bulk) return 0;
    const due = await bulk.requests.expireDue(100, expiredEntry);
    if (due.some((job) => job.channelId !== '')) messaging.wakeDeliverer();
    for (const job of due) {
      if (job.channelId === '') {
        logger.warn({ jobId: job.jobId }, 'bulk job frozen but its approval request never opened: expired');
      } else {
        // The thread is told already (the entry above); a card left with its buttons answers a
        // click with "no longer waiting".
        await decided(job, { kind: 'expired' }).catch((err: unknown) =>
          logger.warn({ err, jobId: job.jobId }, 'could not mark the expired bulk card'),
        );
      }
    }
    return due.length;
  }

  /**
   * On the sweep tick: pokes every live Slack job, so a slow chunk (a low --max-rate) does not
   * leave its progress message still; the claim keeps it to one edit per interval all the same.
   */
  async function pokeLive(): Promise<void> {
    if (!bulk) return;
    for (const jobId of await bulk.requests.liveWithThread()) {
      await poke(jobId);
      // A beat chain dropped (its retries ran out while Postgres was away) starts again; one
      // still queued stands (one per job).
      await startBeat(jobId);
    }
  }

  /** Starts the job's progress beat; without one, the chunk ends and the sweep still move it. */
  async function startBeat(jobId: string): Promise<void> {
    await bulk
      ?.startBeat?.(jobId)
      .catch((err: unknown) => logger.warn({ err, jobId }, 'could not queue the bulk progress beat'));
  }

  /**
   * One progress beat (jobs.ts BULK_PROGRESS_QUEUE): shows where the job stands through the
   * same claim as every other edit; true while it runs, so the beat queues the next one.
   */
  async function beat(jobId: string): Promise<boolean> {
    if (!bulk) return false;
    const row = await bulk.deps.store.getJob(jobId);
    if (!row) return false;
    await poke(jobId);
    return row.state === 'running' || row.state === 'cancelling';
  }

  // One poke at a time per job in this process; replicas are kept apart by the claims in Postgres.
  const running = new Map<string, Promise<void>>();

  /** Shows where a job stands: an edit of its progress message (at most one per interval), or its final report. */
  function poke(jobId: string): Promise<void> {
    const before = running.get(jobId) ?? Promise.resolve();
    const next = before
      .then(() => showProgress(jobId))
      .catch((err: unknown) => logger.warn({ err, jobId }, 'could not show bulk progress'))
      .finally(() => {
        if (running.get(jobId) === next) running.delete(jobId);
      });
    running.set(jobId, next);
    return next;
  }

  async function showProgress(jobId: string): Promise<void> {
    if (!bulk) return;
    const interval = bulk.progressIntervalMs + CLAIM_GUARD_MS;
    const row = await bulk.deps.store.getJob(jobId);
    if (!row) return;
    const final = TERMINAL.has(row.state);
    const claim = final
      ? await bulk.requests.claimReport(jobId, interval)
      : await bulk.requests.claimProgress(jobId, interval);
    if (!claim) return;
    const wait = 'waitMs' in claim ? Number(claim.waitMs) : 0;
    if (wait > 0) await sleep(wait);
    const status = await jobStatus(bulk.deps, jobId);
    // From the approval, or from the last resume: the hours it sat cancelled are not a rate.
    const since = await bulk.requests.runningSince(jobId);
    const view = bulkProgressView({
      jobId,
      state: status.state,
      done: status.done,
      total: status.total,
      counts: status.counts,
      rate: bulkRate(status.done, since, new Date()),
    });
    await edit(claim.channelId, claim.progressSeq, view, final);
    if (final) await report(claim.channelId, jobId, status);
  }

  async function report(channelId: string, jobId: string, status: Awaited<ReturnType<typeof jobStatus>>) {
    const b = need();
    const all: Array<{ conversationId: string; outcome: string; detail: string | null }> = [];
    let after = '';
    for (;;) {
      const page = await b.deps.store.failures(jobId, 1000, after);
      if (page.length === 0) break;
      all.push(...page);
      after = page[page.length - 1]?.conversationId ?? after;
    }
    let file: string | null = null;
    if (all.length > BULK_FAILURES_SHOWN) {
      file = `${jobId}-not-restored.tsv`;
      const bytes = Buffer.from(
        all.map((f) => `${f.conversationId}\t${f.outcome}\t${f.detail ?? ''}\n`).join(''),
      );
      try {
        await messaging.uploadFile({ channelId, conversationId: jobId, filename: file, bytes });
      } catch (err) {
        logger.warn({ err, jobId }, 'could not share the bulk failures file');
        file = null;
      }
    }
    // Once per settling, even when a claim taken over from a dead replica prepared it again.
    const entry = await b.requests.recordReport(jobId, {
      event: {
        action: 'bulk.reported',
        actor: 'system',
        conversationId: jobId,
        requestId: null,
        data: {
          jobId,
          state: status.state,
          total: status.total,
          counts: status.counts,
          failureCount: all.length,
          failures: all.slice(0, BULK_FAILURES_SHOWN),
          file,
        },
      },
      options: { deliverTo: { channelId } },
    });
    if (entry) messaging.wakeDeliverer();
  }

  /**
   * The job engine's audit log, so the chunk path shows progress: every chunk worked (and the
   * job's settling) pokes the job's progress message, wherever the chunk was worked.
   */
  function engineAudit(audit: AuditLog): AuditLog {
    // bulk.orphaned: the sweep marked it failed with no worker left; its report says to resume.
    const pokes = new Set<string>([
      'bulk.chunk',
      'bulk.chunk_failed',
      'bulk.finished',
      'bulk.cancel_requested',
      'bulk.orphaned',
    ]);
    return {
      ...audit,
      append: async (event, options) => {
        const entry = await audit.append(event, options);
        const jobId = (event.data as { jobId?: unknown }).jobId;
        if (pokes.has(event.action) && typeof jobId === 'string') void poke(jobId);
        return entry;
      },
    };
  }

  /** The Approve button: the step-up form first when the policy asks for the typed count. */
  async function approveClick(
    jobId: string,
    who: Pick<Actor, 'userId'>,
  ): Promise<
    | { form: 'step_up'; jobId: string; total: number }
    | { form: 'break_glass'; jobId: string; total: number; min: number }
    | { form: null; reply: Reply }
  > {
    try {
      const job = await slackJob(jobId);
      if ('ok' in job) return { form: null, reply: job };
      // The requester with BREAK_GLASS=on: the reason form, as for a request.
      if (who.userId === job.requester && policy.breakGlass && job.state === 'pending') {
        return { form: 'break_glass', jobId, total: job.total, min: BREAK_GLASS_MIN_REASON };
      }
      if (!policies.bulkStepUp()) return { form: null, reply: await approve(jobId, who) };
      const refused = await check(checkBulkApprove, job, who.userId);
      if (refused) return { form: null, reply: refused };
      // Refused before typing: a wrong group or an open breaker (the typed count is asked next).
      const gate = await policies.bulkApprovalGate(job, who.userId, String(job.total));
      if (!gate.ok) return { form: null, reply: gate.reply };
      const breaker = await policies.bulkBreakerOpen();
      if (breaker) return { form: null, reply: breaker };
      return { form: 'step_up', jobId, total: job.total };
    } catch (err) {
      return { form: null, reply: failure(err) };
    }
  }

  return {
    bulkRequest: request,
    bulkApprove: approve,
    bulkApproveClick: approveClick,
    bulkMarkReviewed: markReviewed,
    bulkDeny: deny,
    bulkCanDeny: canDeny,
    bulkCancel: cancel,
    bulkCanCancel: canCancel,
    bulkResume: resume,
    bulkJob: show,
    bulkJobs: list,
    expireBulk: expireDue,
    bulkProgress: poke,
    bulkPokeLive: pokeLive,
    bulkBeat: beat,
    bulkEngineAudit: engineAudit,
  };
}
