import { isReplayPlan, isUnlockPlan, type RecoveryRequest, type RequestPlan } from '../approval/types.js';
import { planRestore } from '../recovery/index.js';
import { planReplay } from '../recovery/replay.js';
import { planUnlock } from '../recovery/unlock.js';
import type { ExpiryWarningStore } from '../store/expiry-warnings.js';
import type { RenewalStore } from '../store/renewals.js';
import { renewalChangeWarning, renewReplies } from '../views/expiry.js';
import { type Actor, jobThreadEntry, type Reply, type WorkflowContext } from './context.js';

/** Requests claimed per sweep; the rest wait for the next tick (replies go about one a second per channel). */
const WARN_BATCH = 50;

/**
 * The "expires soon" reply, and Renew on an expired request. The reply's claim and its audit
 * entry are one transaction (store/expiry-warnings.ts), so the sweep of any replica appends it
 * once, and a sweep killed in between leaves it to the next.
 */
export function createExpiry(
  ctx: WorkflowContext,
  warnings: ExpiryWarningStore | undefined,
  renewals: RenewalStore | undefined,
) {
  const { requests, policy, logger, record, failure, openRequest, actorId, approverHint } = ctx;

  /**
   * Warns about each request and pending bulk job due for it; resolves to how many were appended.
   * Each reply is built from the row as read, then claimed with its entry in one transaction
   * (store/expiry-warnings.ts): one that fails stays unclaimed for the next sweep.
   */
  async function warnExpiring(): Promise<number> {
    const minutes = policy.requestWarnMinutes;
    if (!warnings || minutes <= 0) return 0;
    let posted = 0;
    for (const id of await warnings.dueRequests(minutes, WARN_BATCH)) {
      try {
        const request = await requests.get(id);
        if (!request) continue;
        const told = await warnings.claim('request', id, minutes, {
          event: {
            action: 'request.expiring',
            actor: 'system',
            conversationId: request.conversationId,
            requestId: request.id,
            data: { request, approverHint },
          },
          options: { deliverTo: { channelId: request.channelId } },
        });
        if (told) posted++;
      } catch (err) {
        logger.warn({ err, requestId: id }, 'could not post the expiry warning; the next sweep tries again');
      }
    }
    const bulk = ctx.bulk;
    if (bulk) {
      for (const jobId of await warnings.dueBulkJobs(minutes, WARN_BATCH)) {
        try {
          const job = await bulk.requests.get(jobId);
          if (!job) continue;
          const told = await warnings.claim(
            'bulk',
            jobId,
            minutes,
            jobThreadEntry(job, {
              action: 'bulk.expiring',
              actor: 'system',
              data: { jobId, requester: job.requester, expiresAt: job.expiresAt, approverHint },
            }),
          );
          if (told) posted++;
        } catch (err) {
          logger.warn({ err, jobId }, 'could not post the bulk expiry warning; the next sweep tries again');
        }
      }
    }
    if (posted > 0) ctx.messaging.wakeDeliverer();
    return posted;
  }

  function freshPlan(request: RecoveryRequest): Promise<RequestPlan> {
    const plan = request.plan;
    // A renewed unlock looks at the lock again: if it is no longer held, there is nothing to file.
    if (isUnlockPlan(plan)) return planUnlock(ctx.core, request.conversationId);
    return isReplayPlan(plan)
      ? planReplay(ctx.core, request.conversationId, plan.fromStep)
      : planRestore(ctx.core, request.conversationId, plan.source);
  }

  function redisChecksum(plan: RequestPlan): string | null {
    if (isUnlockPlan(plan)) return null;
    return isReplayPlan(plan) ? plan.redisChecksum : plan.current.checksum;
  }

  /**
   * Files an expired request again with the same plan, re-planned from the stores now: a fresh
   * preview that goes through approval like any request. Whoever clicks becomes its requester
   * (so the requester rule applies to them); the reason is the expired request's.
   */
  async function renew(requestId: string, who: Actor): Promise<Reply> {
    try {
      const old = await requests.get(requestId);
      if (!old) return { ok: false, ...renewReplies.noSuchRequest(requestId) };
      if (old.state !== 'expired') return { ok: false, ...renewReplies.notExpired(old.id, old.state) };
      // One renewal per expired request: a second click (or replica) is told which one it was.
      if (renewals && !(await renewals.claim(old.id, who.userId))) {
        const now = await requests.get(old.id);
        const renewedAs = now?.result?.renewedAs;
        return {
          ok: false,
          ...renewReplies.alreadyRenewed(old.id, typeof renewedAs === 'string' ? renewedAs : null),
        };
      }
      let renewed: RecoveryRequest;
      let changed: string | null;
      try {
        const fresh = await freshPlan(old);
        changed = renewalChangeWarning(redisChecksum(old.plan), redisChecksum(fresh));
        if (changed && !isUnlockPlan(fresh)) fresh.warnings = [changed, ...fresh.warnings];
        renewed = await openRequest(
          old.kind,
          fresh,
          { userId: who.userId, channelId: old.channelId },
          old.reason,
        );
      } catch (err) {
        // Nothing was filed (a tier did not answer, another request is open): Renew stays offered.
        await renewals?.release(old.id).catch(() => undefined);
        throw err;
      }
      // The expired card is edited from this snapshot: "renewed as …" instead of the button.
      const told = (result: RecoveryRequest['result']) =>
        ({
          action: 'request.renewed',
          actor: actorId(who.userId),
          conversationId: old.conversationId,
          requestId: old.id,
          data: { request: { ...old, result }, renewedAs: renewed.id, changed },
        }) as const;
      if (renewals) {
        await renewals.done(old.id, renewed.id, (result) => ({
          event: told(result),
          options: { deliverTo: { channelId: old.channelId } },
        }));
        ctx.messaging.wakeDeliverer();
      } else {
        await record(old.channelId, told(old.result));
      }
      return { ok: true, ...renewReplies.renewed(old.conversationId, renewed.id, changed !== null) };
    } catch (err) {
      return failure(err);
    }
  }

  return { warnExpiring, renew };
}
