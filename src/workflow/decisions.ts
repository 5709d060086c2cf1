import { checkApprover, checkCanCancel, checkCanDeny } from '../approval/rules.js';
import {
  AuditAction,
  isReplayPlan,
  isUnlockPlan,
  type RecoveryRequest,
  type RequestPlan,
} from '../approval/types.js';
import { ErrorCode, RecoveryError } from '../errors.js';
import { planRestore } from '../recovery/index.js';
import { planReplay } from '../recovery/replay.js';
import { notOpenText, refusalText } from '../views/approval-refusals.js';
import { replies } from '../views/replies.js';
import { operationTitle } from '../views/request.js';
import { type Actor, type Reply, transitionEntry, type WorkflowContext } from './context.js';
import { type ApproveInput, createPolicies } from './policies.js';

/**
 * Approve, deny and cancel, and the sweeper's expiry: each checks the rules (approval/rules.ts),
 * moves the request in the store (one conditional UPDATE, so a double click or two replicas
 * move it once) and tells the thread. The click that completes the approvals starts `execute`.
 */
export function createDecisions(
  ctx: WorkflowContext,
  execute: (request: RecoveryRequest, approver: string) => Promise<void>,
) {
  const { core, requests, actorId, transition, failure, openRequest, observeWait, expiryNotice } = ctx;

  /**
   * A fresh plan, or why the core will not make one now (Redis already holds the copy, the source
   * went invalid…): nothing is left to approve then. A tier that did not answer throws.
   */
  async function replan<P extends RequestPlan>(
    make: () => Promise<P>,
  ): Promise<{ plan: P } | { refused: Reply }> {
    try {
      return { plan: await make() };
    } catch (err) {
      if (err instanceof RecoveryError && err.code !== ErrorCode.TierUnreachable) {
        return { refused: failure(err) };
      }
      throw err;
    }
  }

  type Staleness = { detail: string } & ({ fresh: RequestPlan } | { refused: Reply });

  /**
   * Null while what was approved is still what would be written; else what changed, with the
   * fresh plan to ask for instead or why there is none. The plan made here is the one asked for,
   * so the thread says "a fresh preview follows" only when one does.
   */
  async function staleness(request: RecoveryRequest): Promise<Staleness | null> {
    const old = request.plan;
    // An unlock is bound to the lease it saw by the break itself (executeUnlock): a lock released
    // or taken since is told as "nothing broken", not as a stale preview.
    if (isUnlockPlan(old)) return null;
    if (isReplayPlan(old)) {
      const made = await replan(() => planReplay(core, request.conversationId, old.fromStep));
      if ('refused' in made) return { detail: made.refused.message, refused: made.refused };
      const fresh = made.plan;
      return fresh.redisChecksum === old.redisChecksum
        ? null
        : {
            detail: `Redis changed since the preview (${old.redisChecksum} → ${fresh.redisChecksum}).`,
            fresh,
          };
    }
    const made = await replan(() => planRestore(core, request.conversationId, old.source));
    if ('refused' in made) return { detail: made.refused.message, refused: made.refused };
    const fresh = made.plan;
    if (fresh.current.checksum !== old.current.checksum) {
      return {
        detail: `Redis changed since the preview (${old.current.checksum ?? 'absent'} → ${fresh.current.checksum ?? 'absent'}).`,
        fresh,
      };
    }
    if (fresh.target.checksum !== old.target.checksum) {
      return { detail: `The ${old.sourceLabel} copy changed since the preview.`, fresh };
    }
    return null;
  }

  const policies = createPolicies(ctx);
  const { ruleInput } = policies;

  /** An approval; `input` carries a step-up confirmation or a break-glass reason (workflow/policies.ts). */
  async function approve(
    requestId: string,
    who: Pick<Actor, 'userId'>,
    input: ApproveInput = {},
  ): Promise<Reply> {
    try {
      const request = await requests.get(requestId);
      if (!request) return { ok: false, ...replies.noSuchRequestToApprove(requestId) };
      const glass = input.breakGlassReason !== undefined;
      if (glass) {
        const refused = policies.breakGlassGate(request, who.userId, input.breakGlassReason ?? '');
        if (refused) return refused;
      } else {
        const rule = checkApprover(await ruleInput(request, who.userId));
        if (!rule.ok) return { ok: false, message: refusalText(rule), mentions: true };
      }
      const gate = await policies.approvalGate(request, who.userId, input);
      if (!gate.ok) return gate.reply;
      const stale = await staleness(request);
      if (stale) {
        const refreshed = 'fresh' in stale;
        const marked = await requests.markStale(request.id, stale.detail, (r) =>
          transitionEntry(AuditAction.RequestStale, r, 'system', { detail: stale.detail, refreshed }),
        );
        if (marked.kind !== 'done')
          return { ok: false, message: notOpenText(marked.request), mentions: true };
        ctx.messaging.wakeDeliverer();
        if (!('fresh' in stale)) return { ok: false, ...replies.notApprovedNothingLeft(stale.refused) };
        try {
          await openRequest(
            request.kind,
            stale.fresh,
            { userId: request.requester, channelId: request.channelId },
            request.reason,
          );
          return { ok: false, ...replies.notApprovedStale(stale.detail, true) };
        } catch (err) {
          return { ok: false, ...replies.notApprovedStale(stale.detail, failure(err)) };
        }
      }
      const actor = actorId(who.userId);
      const outcome = await requests.approve(request.id, who.userId, {
        ...gate.options,
        expiryNotice,
        // An approval that counts is appended with it; the completing one is told below.
        partialNotice: (r) => transitionEntry(AuditAction.RequestApproved, r, actor),
      });
      switch (outcome.kind) {
        case 'group_taken': {
          // Another replica counted the same group first; the request as it now stands says which is missing.
          const again = await policies.approvalGate(outcome.request, who.userId, input);
          const { approvals, requiredApprovals } = outcome.request;
          return again.ok
            ? { ok: false, ...replies.alreadyApproved(approvals.length, requiredApprovals) }
            : again.reply;
        }
        case 'breaker_open':
          return policies.breakerRefused(
            outcome.request,
            who.userId,
            outcome.failuresInARow,
            outcome.threshold,
          );
        case 'partial':
          ctx.messaging.wakeDeliverer();
          return { ok: true, ...replies.approvalCounted(outcome.have, outcome.need) };
        case 'duplicate':
          return { ok: false, ...replies.alreadyApproved(outcome.have, outcome.need) };
        case 'not_open':
          return { ok: false, message: notOpenText(outcome.request), mentions: true };
        case 'expired':
          // Its notice was appended with the expiry (one transaction).
          ctx.messaging.wakeDeliverer();
          return { ok: false, ...replies.expiredBeforeApproval() };
        case 'approved':
          observeWait(outcome.request, 'approved');
          if (glass) {
            await ctx.record(outcome.request.channelId, {
              action: 'request.break_glass',
              actor,
              conversationId: outcome.request.conversationId,
              requestId: outcome.request.id,
              data: {
                request: outcome.request,
                reason: outcome.request.breakGlassReason ?? input.breakGlassReason ?? '',
                notify: ctx.approverHint,
              },
            });
          } else {
            await transition(AuditAction.RequestApproved, outcome.request, actor);
          }
          // Runs after the click is answered; progress and result go to the thread.
          void execute(outcome.request, who.userId);
          return { ok: true, ...replies.approvedRunning(operationTitle(outcome.request)) };
      }
    } catch (err) {
      return failure(err);
    }
  }

  async function deny(requestId: string, who: Pick<Actor, 'userId'>, reason: string): Promise<Reply> {
    try {
      const request = await requests.get(requestId);
      if (!request) return { ok: false, ...replies.noSuchRequest(requestId) };
      const channelId = request.channelId;
      const rule = checkCanDeny(await ruleInput(request, who.userId));
      if (!rule.ok) return { ok: false, message: refusalText(rule), mentions: true, channelId };
      const notMember = await policies.memberGate(request.approverGroups ?? [], who.userId, 'deny');
      if (notMember) return { ...notMember, channelId };
      const outcome = await requests.deny(requestId, who.userId, reason, expiryNotice, (r) =>
        transitionEntry(AuditAction.RequestDenied, r, actorId(who.userId)),
      );
      if (outcome.kind === 'not_open') {
        return { ok: false, message: notOpenText(outcome.request), mentions: true, channelId };
      }
      if (outcome.kind === 'expired') {
        ctx.messaging.wakeDeliverer();
        return { ok: false, ...replies.alreadyExpired(), channelId };
      }
      observeWait(outcome.request, 'denied');
      ctx.messaging.wakeDeliverer();
      return { ok: true, ...replies.denied(), channelId };
    } catch (err) {
      return failure(err);
    }
  }

  /** Deny needs a reason, so the button first checks the rules and then opens the modal. */
  async function canDeny(requestId: string, userId: string): Promise<Reply> {
    const request = await requests.get(requestId);
    if (!request) return { ok: false, ...replies.noSuchRequest(requestId) };
    const rule = checkCanDeny(await ruleInput(request, userId));
    if (!rule.ok) return { ok: false, message: refusalText(rule), mentions: true };
    return (
      (await policies.memberGate(request.approverGroups ?? [], userId, 'deny')) ?? { ok: true, message: '' }
    );
  }

  /** Cancel needs a reason too, so the button first checks who may cancel and then opens the form. */
  async function canCancel(requestId: string, userId: string): Promise<Reply> {
    const request = await requests.get(requestId);
    if (!request) return { ok: false, ...replies.noSuchRequest(requestId) };
    const rule = checkCanCancel(request, userId);
    // On success the message names what is cancelled, for the form's heading.
    return rule.ok
      ? { ok: true, message: operationTitle(request) }
      : { ok: false, message: refusalText(rule), mentions: true };
  }

  async function cancel(requestId: string, who: Pick<Actor, 'userId'>, reason: string): Promise<Reply> {
    try {
      const request = await requests.get(requestId);
      if (!request) return { ok: false, ...replies.noSuchRequest(requestId) };
      const rule = checkCanCancel(request, who.userId);
      if (!rule.ok) return { ok: false, message: refusalText(rule), mentions: true };
      const outcome = await requests.cancel(requestId, who.userId, expiryNotice, (r) =>
        transitionEntry(AuditAction.RequestCancelled, r, actorId(who.userId), { reason }),
      );
      if (outcome.kind === 'done') {
        ctx.messaging.wakeDeliverer();
        return { ok: true, ...replies.cancelled(), channelId: outcome.request.channelId };
      }
      if (outcome.kind === 'expired') {
        ctx.messaging.wakeDeliverer();
        return { ok: false, ...replies.alreadyExpired() };
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

  /** After the sweep's commit, which appended the notice (`expiryNotice`) with the expiry. */
  async function expired(request: RecoveryRequest): Promise<void> {
    observeWait(request, 'expired');
    ctx.messaging.wakeDeliverer();
  }

  const {
    approveClick,
    checkConfirmation,
    checkBreakGlassReason,
    markReviewed,
    breakerReset,
    approveBreakerReset,
  } = policies;
  return {
    approve,
    approveClick: (requestId: string, who: Pick<Actor, 'userId'>) => approveClick(requestId, who, approve),
    checkConfirmation,
    checkBreakGlassReason,
    markReviewed,
    breakerReset,
    approveBreakerReset,
    deny,
    canDeny,
    canCancel,
    cancel,
    expired,
    expiryNotice,
  };
}
