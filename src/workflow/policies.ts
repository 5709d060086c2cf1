import {
  assignGroup,
  BREAK_GLASS_MIN_REASON,
  checkBreakGlass,
  checkResetApprover,
  checkReview,
  checkStepUp,
  type GroupMembership,
} from '../approval/policies.js';
import { type CheckApproverInput, checkApprover, checkMembership } from '../approval/rules.js';
import type { Approval, RecoveryRequest } from '../approval/types.js';
import { HourlyLimitReached } from '../store/blast-radius.js';
import type { ApproveOptions } from '../store/requests.js';
import { notOpenText, refusalText } from '../views/approval-refusals.js';
import {
  BREAKER_TEXT,
  breakerOpenText,
  breakerResetRequestView,
  breakGlassRefusalText,
  type GroupVerb,
  groupMemberRefusalText,
  groupRefusalText,
  STEP_UP_TEXT,
  stepUpErrorText,
} from '../views/policies.js';
import { replies } from '../views/replies.js';
import { operationTitle } from '../views/request.js';
import type { Actor, Reply, WorkflowContext } from './context.js';
import { createReviewNotice } from './review-notice.js';

/**
 * The approval policies of docs/approval-policies.md around the approve story of decisions.ts:
 * what an Approve click opens (a typed confirmation, the break-glass form, or the approval
 * itself), what an approval must satisfy before the store counts it (its group, the typed
 * confirmation), the break-glass review, and the circuit breaker's reset, itself approved by a
 * second person. The store re-checks what must hold across replicas (one approval per group,
 * the breaker) under the request's row lock.
 */

/** What an approval brings besides who: the typed confirmation, or a break-glass reason. */
export interface ApproveInput {
  confirmation?: string;
  breakGlassReason?: string;
}

/** What an Approve click leads to: a form to open first, or the answer. */
export type ApproveClick =
  | { form: 'step_up'; requestId: string; operation: string }
  | { form: 'break_glass'; requestId: string; operation: string; min: number }
  | { form: null; reply: Reply };

type Gate = { ok: true; options: ApproveOptions } | { ok: false; reply: Reply };

export function createPolicies(ctx: WorkflowContext) {
  const { requests, policy } = ctx;
  const review = createReviewNotice(ctx);

  /** What the request rules judge: the policy, and the group's members when a group is configured. */
  async function ruleInput(request: RecoveryRequest, userId: string): Promise<CheckApproverInput> {
    return {
      request,
      userId,
      approverUserIds: policy.approverUserIds,
      approverUsergroupId: policy.approverUsergroupId,
      groupMembers: policy.approverUsergroupId ? await ctx.groupMembers() : null,
    };
  }

  async function membership(groups: readonly string[]): Promise<GroupMembership> {
    const lookup = ctx.groupMembersOf;
    const answers = await Promise.all(
      groups.map(async (g) => [g, lookup ? await lookup(g).catch(() => null) : null] as const),
    );
    return new Map(answers);
  }

  const refuse = (message: string, hint?: string): Gate => ({
    ok: false,
    reply: { ok: false, message, ...(hint ? { hint } : {}), mentions: true },
  });

  /** The group this approval counts for, when the request was opened under APPROVER_GROUPS. */
  async function groupGate(
    request: { approverGroups?: string[] | undefined; approvals: readonly Approval[] },
    userId: string,
  ): Promise<Gate> {
    const groups = request.approverGroups ?? [];
    if (groups.length === 0) return { ok: true, options: {} };
    const taken = request.approvals.map((a) => a.groupId ?? null);
    const check = assignGroup(groups, await membership(groups), taken, userId);
    if (!check.ok) return refuse(groupRefusalText(check));
    return { ok: true, options: { groupId: check.groupId } };
  }

  /**
   * With APPROVER_GROUPS, who may deny a request or approve a breaker reset: a member of any of
   * the groups (the approver lists are empty then, so the request rules let anyone through).
   */
  async function memberGate(
    groups: readonly string[],
    userId: string,
    verb: GroupVerb,
  ): Promise<Reply | null> {
    if (groups.length === 0) return null;
    const check = assignGroup(groups, await membership(groups), [], userId);
    if (check.ok || check.reason !== 'not_in_group') return null;
    return { ok: false, message: groupMemberRefusalText(check, verb), mentions: true };
  }

  /**
   * Everything an approval must satisfy besides the request rules, and the options the store
   * re-checks with. Break-glass replaces the rules for the requester (decisions.ts checks it);
   * the breaker applies to every approval but an unlock's: it writes no conversation, and a lock
   * left stuck is itself what makes restores fail in a row (each refused on it).
   */
  async function approvalGate(request: RecoveryRequest, userId: string, input: ApproveInput): Promise<Gate> {
    const breakerFailures = request.kind === 'unlock' ? null : policy.breakerFailures;
    if (input.breakGlassReason !== undefined) {
      return { ok: true, options: { breakGlassReason: input.breakGlassReason, breakerFailures } };
    }
    if (policy.stepUpOperations.includes(request.kind)) {
      if (input.confirmation === undefined) return refuse(STEP_UP_TEXT.needed.message);
      const typed = checkStepUp(request.conversationId, input.confirmation);
      if (!typed.ok) return refuse(stepUpErrorText(typed, 'request'));
    }
    const group = await groupGate(request, userId);
    if (!group.ok) return group;
    return { ok: true, options: { ...group.options, breakerFailures } };
  }

  /**
   * A bulk restore's approval: the typed count (STEP_UP_OPERATIONS has bulk-restore) and the
   * group it counts for. The breaker is the store's to judge, under the job's row lock, with the
   * `breakerFailures` returned here; `bulkBreakerOpen` is only the click's early answer.
   */
  async function bulkApprovalGate(
    job: { total: number; approvals: readonly Approval[] },
    userId: string,
    confirmation: string | undefined,
  ): Promise<Gate> {
    if (policy.stepUpOperations.includes('bulk-restore')) {
      if (confirmation === undefined) return refuse(STEP_UP_TEXT.needed.message);
      const typed = checkStepUp(job.total, confirmation);
      if (!typed.ok) return refuse(stepUpErrorText(typed, 'bulk'));
    }
    // A job keeps no copy of the groups: the ones configured now apply.
    const group = await groupGate(
      { approverGroups: policy.approverGroups, approvals: job.approvals },
      userId,
    );
    if (!group.ok) return group;
    return { ok: true, options: { ...group.options, breakerFailures: policy.breakerFailures } };
  }

  /** Before the step-up form opens: nobody types a count only to be refused by an open breaker. */
  async function bulkBreakerOpen(): Promise<Reply | null> {
    if (policy.breakerFailures === null || !ctx.blastRadius) return null;
    const { breaker } = await ctx.blastRadius();
    return breaker.open
      ? { ok: false, ...breakerOpenText(breaker.failuresInARow, policy.breakerFailures) }
      : null;
  }

  /** The hourly limit's refusal when the window is full now (a pre-check: the store counts again). */
  async function hourlyFull(): Promise<HourlyLimitReached | null> {
    const max = policy.maxDestructivePerHour;
    if (max === null || !ctx.blastRadius) return null;
    const { hourly } = await ctx.blastRadius();
    return hourly.used >= max ? new HourlyLimitReached(hourly.used, max, hourly.freesAt) : null;
  }

  /** The requester's break-glass, checked before anything is approved. */
  function breakGlassGate(request: RecoveryRequest, userId: string, reason: string): Reply | null {
    const check = checkBreakGlass({
      enabled: policy.breakGlass,
      requester: request.requester,
      userId,
      reason,
    });
    if (!check.ok) return { ok: false, message: breakGlassRefusalText(check), mentions: true };
    if (request.state !== 'requested') return { ok: false, message: notOpenText(request), mentions: true };
    return null;
  }

  /** The store refused because the breaker is open: audit it and say what to do. */
  async function breakerRefused(
    request: { conversationId: string; id: string; kind: RecoveryRequest['kind'] | 'bulk-restore' },
    userId: string,
    failuresInARow: number,
    threshold: number,
  ): Promise<Reply> {
    // A bulk job is its own request (no row in requests): its id stands for both.
    const bulkJob = request.kind === 'bulk-restore';
    await ctx.core.audit.append({
      action: 'policy.refused',
      actor: ctx.actorId(userId),
      conversationId: request.conversationId,
      requestId: bulkJob ? null : request.id,
      data: {
        rule: 'breaker_open',
        kind: request.kind,
        used: null,
        max: null,
        freesAt: null,
        failuresInARow,
        threshold,
      },
    });
    return { ok: false, ...breakerOpenText(failuresInARow, threshold) };
  }

  /**
   * An Approve click: the requester with BREAK_GLASS=on gets the break-glass form; a step-up
   * operation gets the typed confirmation, once the clicker passed the rules (so nobody types
   * only to be refused); anything else is approved at once by `approve`.
   */
  async function approveClick(
    requestId: string,
    who: Pick<Actor, 'userId'>,
    approve: (requestId: string, who: Pick<Actor, 'userId'>) => Promise<Reply>,
  ): Promise<ApproveClick> {
    const request = await requests.get(requestId);
    if (!request) return { form: null, reply: { ok: false, ...replies.noSuchRequestToApprove(requestId) } };
    const operation = operationTitle(request);
    if (who.userId === request.requester && policy.breakGlass && request.state === 'requested') {
      return { form: 'break_glass', requestId, operation, min: BREAK_GLASS_MIN_REASON };
    }
    if (!policy.stepUpOperations.includes(request.kind))
      return { form: null, reply: await approve(requestId, who) };
    const rule = checkApprover(await ruleInput(request, who.userId));
    if (!rule.ok) return { form: null, reply: { ok: false, message: refusalText(rule), mentions: true } };
    const group = await groupGate(request, who.userId);
    if (!group.ok) return { form: null, reply: group.reply };
    return { form: 'step_up', requestId, operation };
  }

  /** The step-up form's field, checked before the form closes: a wrong entry counts as nothing. */
  async function checkConfirmation(requestId: string, typed: string): Promise<string | null> {
    if (requestId.startsWith('bj_')) {
      const job = ctx.bulk ? await ctx.bulk.requests.get(requestId) : null;
      if (!job) return STEP_UP_TEXT.lostForm;
      const counted = checkStepUp(job.total, typed);
      return counted.ok ? null : stepUpErrorText(counted, 'bulk');
    }
    const request = await requests.get(requestId);
    if (!request) return STEP_UP_TEXT.lostForm;
    const check = checkStepUp(request.conversationId, typed);
    return check.ok ? null : stepUpErrorText(check, 'request');
  }

  /** The break-glass form's field, checked before the form closes. */
  async function checkBreakGlassReason(
    requestId: string,
    userId: string,
    reason: string,
  ): Promise<string | null> {
    const request = requestId.startsWith('bj_')
      ? ctx.bulk
        ? await ctx.bulk.requests.get(requestId)
        : null
      : await requests.get(requestId);
    if (!request) return STEP_UP_TEXT.lostForm;
    const check = checkBreakGlass({
      enabled: policy.breakGlass,
      requester: request.requester,
      userId,
      reason,
    });
    return check.ok ? null : breakGlassRefusalText(check);
  }

  async function markReviewed(requestId: string, who: Pick<Actor, 'userId'>): Promise<Reply> {
    try {
      const request = await requests.get(requestId);
      if (!request) return { ok: false, ...replies.noSuchRequest(requestId) };
      const target = {
        kind: 'request',
        channelId: request.channelId,
        conversationId: request.conversationId,
        requestId,
      } as const;
      const rule = checkReview(request, who.userId);
      if (!rule.ok) return await review.refused(target, rule, request.reviewedBy);
      const outcome = await requests.markReviewed(requestId, who.userId, (reviewed) => ({
        event: {
          action: 'request.reviewed',
          actor: ctx.actorId(who.userId),
          conversationId: reviewed.conversationId,
          requestId,
          data: { request: reviewed },
        },
        options: { deliverTo: { channelId: reviewed.channelId } },
      }));
      if (outcome.kind === 'refused') {
        const again = checkReview(outcome.request, who.userId);
        return again.ok
          ? { ok: false, message: '', mentions: true }
          : await review.refused(target, again, outcome.request.reviewedBy);
      }
      ctx.messaging.wakeDeliverer();
      await review.showReviewed(target, { by: who.userId, at: outcome.entry.at });
      return { ok: true, message: '' };
    } catch (err) {
      return ctx.failure(err);
    }
  }

  /** `breaker-reset --reason`: files a reset that someone else approves in the channel. */
  async function breakerReset(reason: string, who: Actor): Promise<Reply> {
    try {
      const resets = ctx.breakerResets;
      const status = ctx.blastRadius ? await ctx.blastRadius() : null;
      if (!resets || !status?.breaker.open) return { ok: false, ...BREAKER_TEXT.notOpen };
      if (!reason.trim()) return { ok: false, ...BREAKER_TEXT.needsReason };
      const { reset, created } = await resets.request({
        channelId: who.channelId,
        requester: who.userId,
        reason: reason.trim(),
      });
      // Waiting but never shown (the post after filing it was cut off): show it now, or nobody can approve it.
      if (!created && reset.messageSeq !== null) {
        return { ok: false, ...BREAKER_TEXT.alreadyAsked(reset.requester), mentions: true };
      }
      const entry = await ctx.messaging.postToThread(reset.channelId, {
        action: 'breaker.reset_requested',
        actor: ctx.actorId(who.userId),
        conversationId: null,
        requestId: null,
        data: {
          resetId: reset.id,
          requester: reset.requester,
          reason: reset.reason,
          failuresInARow: status.breaker.failuresInARow,
          state: 'requested',
        },
      });
      await resets.setMessageSeq(reset.id, entry.seq);
      return { ok: true, ...BREAKER_TEXT.asked };
    } catch (err) {
      return ctx.failure(err);
    }
  }

  async function approveBreakerReset(resetId: string, who: Pick<Actor, 'userId'>): Promise<Reply> {
    try {
      const resets = ctx.breakerResets;
      const reset = resets ? await resets.get(resetId) : null;
      if (!resets || !reset || reset.state !== 'requested') return { ok: false, ...BREAKER_TEXT.noneWaiting };
      if (!checkResetApprover(reset.requester, who.userId).ok) return { ok: false, ...BREAKER_TEXT.ownReset };
      // The reset is approved by the people who may approve requests (the group policies aside).
      const member = checkMembership(
        {
          userId: who.userId,
          approverUserIds: policy.approverUserIds,
          approverUsergroupId: policy.approverUsergroupId,
          groupMembers: policy.approverUsergroupId ? await ctx.groupMembers() : null,
        },
        'approve',
      );
      if (!member.ok) return { ok: false, message: refusalText(member), mentions: true };
      const notMember = await memberGate(policy.approverGroups, who.userId, 'approve');
      if (notMember) return notMember;
      const outcome = await resets.approve(resetId, who.userId, (done) => ({
        event: {
          action: 'breaker.reset_approved',
          actor: ctx.actorId(who.userId),
          conversationId: null,
          requestId: null,
          data: { resetId: done.id, requester: done.requester, reason: done.reason, approvedBy: who.userId },
        },
        options: { deliverTo: { channelId: done.channelId } },
      }));
      if (outcome.kind === 'none') return { ok: false, ...BREAKER_TEXT.noneWaiting };
      if (outcome.kind === 'own_request') return { ok: false, ...BREAKER_TEXT.ownReset };
      const done = outcome.reset;
      ctx.messaging.wakeDeliverer();
      if (done.messageSeq !== null) {
        const view = breakerResetRequestView({
          resetId: done.id,
          requester: done.requester,
          reason: done.reason,
          failuresInARow: 0,
          state: 'approved',
        });
        // Not delivered yet: its button then answers "no longer waiting".
        await ctx.messaging.updateDelivered(done.channelId, done.messageSeq, view).catch(() => false);
      }
      return { ok: true, ...BREAKER_TEXT.approved };
    } catch (err) {
      return ctx.failure(err);
    }
  }

  return {
    ruleInput,
    memberGate,
    approvalGate,
    bulkApprovalGate,
    bulkBreakerOpen,
    bulkStepUp: () => policy.stepUpOperations.includes('bulk-restore'),
    hourlyFull,
    breakGlassGate,
    breakerRefused,
    approveClick,
    checkConfirmation,
    checkBreakGlassReason,
    markReviewed,
    breakerReset,
    approveBreakerReset,
  };
}

export type Policies = ReturnType<typeof createPolicies>;
