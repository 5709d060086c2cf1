import type { ReviewCheck } from '../approval/policies.js';
import { AUDIT_DATA } from '../audit-vocabulary.js';
import type { AuditEntry } from '../store/types.js';
import {
  alreadyReviewedText,
  type BreakGlassReviewed,
  breakGlassView,
  bulkBreakGlassView,
  reviewRefusalText,
} from '../views/policies.js';
import type { SlackMessage } from '../views/slack.js';
import type { Reply, WorkflowContext } from './context.js';
import { editWhenDelivered } from './messaging.js';

/** A break-glass request or bulk job, as far as its notice and review are concerned. */
export type ReviewTarget =
  | { kind: 'request'; channelId: string; conversationId: string; requestId: string }
  | { kind: 'bulk'; channelId: string; jobId: string };

/** The notice is usually delivered long before anyone reviews it; a short wait covers the rest. */
const DELIVERY_WAIT = { tries: 10, ms: 200 };

/**
 * The break-glass notice, once reviewed, edited in place: its Mark reviewed button gives way to
 * "Reviewed by … at …", so the thread never offers a review that is already done. Rebuilt from
 * the notice's own audit entry, so it says exactly what it said before, plus the review.
 */
export function createReviewNotice(ctx: Pick<WorkflowContext, 'lookup' | 'messaging' | 'logger'>) {
  const { lookup, messaging, logger } = ctx;

  function notice(t: ReviewTarget): Promise<AuditEntry | null> {
    return t.kind === 'request'
      ? lookup.latest(t.requestId, t.conversationId, ['request.break_glass'])
      : lookup.latestIn(t.jobId, ['bulk.break_glass']);
  }

  function view(
    t: ReviewTarget,
    entry: AuditEntry,
    reviewed: BreakGlassReviewed,
    now: Date,
  ): SlackMessage | null {
    if (t.kind === 'request') {
      const d = AUDIT_DATA['request.break_glass'].safeParse(entry.data);
      return d.success ? breakGlassView(d.data, now, reviewed) : null;
    }
    const d = AUDIT_DATA['bulk.break_glass'].safeParse(entry.data);
    return d.success ? bulkBreakGlassView(d.data, now, reviewed) : null;
  }

  /** When the review was recorded (the `*.reviewed` entry), or null when it never was. */
  async function reviewedAt(t: ReviewTarget): Promise<Date | null> {
    const entry =
      t.kind === 'request'
        ? await lookup.latest(t.requestId, t.conversationId, ['request.reviewed'])
        : await lookup.latestIn(t.jobId, ['bulk.reviewed']);
    return entry?.at ?? null;
  }

  /** Best effort: a notice left with its button still answers "already reviewed" to a click. */
  async function showReviewed(t: ReviewTarget, reviewed: BreakGlassReviewed): Promise<void> {
    try {
      const entry = await notice(t);
      const message = entry ? view(t, entry, reviewed, new Date()) : null;
      if (!entry || !message) return;
      if (await editWhenDelivered(messaging, t.channelId, entry.seq, message, DELIVERY_WAIT)) return;
      logger.warn({ seq: entry.seq }, 'break-glass notice not delivered yet; its button stays');
    } catch (err) {
      logger.warn({ err }, 'could not edit the reviewed break-glass notice');
    }
  }

  /**
   * A Mark reviewed click that clears nothing, answered privately. Already reviewed: by whom and
   * when, and the notice is edited again in case the first edit was cut off (nothing is posted).
   */
  async function refused(
    t: ReviewTarget,
    check: Extract<ReviewCheck, { ok: false }>,
    reviewedBy: string | null | undefined,
  ): Promise<Reply> {
    if (check.reason !== 'not_flagged' || !reviewedBy) {
      return { ok: false, message: reviewRefusalText(check), mentions: true };
    }
    const at = await reviewedAt(t);
    if (at) await showReviewed(t, { by: reviewedBy, at });
    const what = t.kind === 'request' ? 'request' : 'bulk restore';
    return { ok: false, message: alreadyReviewedText(what, reviewedBy, at, new Date()), mentions: true };
  }

  return { showReviewed, refused };
}
