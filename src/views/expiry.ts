import type { RecoveryRequest } from '../approval/types.js';
import { code, escapeExceptMentions, escapeMrkdwn, line, oneLine, userRef } from './escape.js';
import { formatRelative, formatTime, plural } from './format.js';
import { clip } from './limits.js';
import { operationPhrase } from './request.js';
import { context, message, type SlackMessage, section } from './slack.js';

/** Who may approve, as app-built mrkdwn whose mentions stay live (they are the point of the reply). */
function approvers(hint: string): string {
  return clip(escapeExceptMentions(oneLine(hint)), 500, { markup: true });
}

/**
 * The reply a few minutes before a request expires: the requester and the approvers are
 * mentioned, so Slack tells them while there is still time.
 */
export function expiryWarningView(req: RecoveryRequest, approverHint: string, now: Date): SlackMessage {
  const missing = Math.max(1, req.requiredApprovals - req.approvals.length);
  const text =
    `⏳ ${operationPhrase(req)} expires ${formatRelative(req.expiresAt, now)} ` +
    `(${escapeMrkdwn(formatTime(req.expiresAt, now))}) and still needs ${plural(missing, 'approval')}. ` +
    `${userRef(req.requester)}, ${approvers(approverHint)} can approve or deny it on the request above. ` +
    'If it expires, its card offers *Renew*: a fresh preview, approved again.';
  return message(text, [section(text), context(`Request ${code(req.id)}`)]);
}

/** The same reminder for a bulk restore still waiting for approval. */
export function bulkExpiryWarningView(
  d: { jobId: string; requester: string; expiresAt: string; approverHint: string },
  now: Date,
): SlackMessage {
  const text =
    `⏳ Bulk restore ${code(d.jobId)} expires ${formatRelative(d.expiresAt, now)} ` +
    `(${escapeMrkdwn(formatTime(d.expiresAt, now))}) without enough approvals. ` +
    `${userRef(d.requester)}, ${approvers(d.approverHint)} can approve or deny it on the card above; ` +
    'once it expires, ask for the bulk restore again.';
  return message(text, [section(text), context(`Job ${code(d.jobId)}`)]);
}

/** What Redis did between the expired request's preview and the renewal's, for the new card's warnings (plain text). */
export function renewalChangeWarning(before: string | null, after: string | null): string | null {
  if (before === after) return null;
  const shown = (c: string | null) => (c === null ? 'absent' : c.slice(0, 12));
  return `Redis changed since the expired request: ${shown(before)} → ${shown(after)}. Look at the preview again before approving.`;
}

/** The thread's note that an expired request was filed again. */
export function renewedView(
  d: { request: RecoveryRequest; renewedAs: string; changed: string | null },
  by: string,
): SlackMessage {
  const change = d.changed ? ` ⚠️ ${line(d.changed, 300)}` : ' Redis is as it was in the expired preview.';
  const text = `🔁 ${userRef(by)} renewed ${operationPhrase(d.request)} as request ${code(d.renewedAs)}: its fresh preview, just above, waits for approval again.${change}`;
  return message(text, [section(text), context(`Expired request ${code(d.request.id)}`)]);
}

/** The private answers to a Renew click (plain text). */
export const renewReplies = {
  noSuchRequest: (id: string) => ({
    message: `Request ${id} does not exist.`,
    hint: 'Ask for the restore again with the command.',
  }),
  notExpired: (id: string, state: string) => ({
    message: `Request ${id} is ${state}, not expired: only an expired request can be renewed.`,
    hint: 'Its card in the thread shows where it stands.',
  }),
  alreadyRenewed: (id: string, renewedAs: string | null) => ({
    message: renewedAs
      ? `Request ${id} was already renewed, as ${renewedAs}.`
      : `Request ${id} is being renewed by someone else right now.`,
    hint: 'The fresh request is in the thread; approve or deny it there.',
  }),
  renewed: (conversationId: string, newId: string, changed: boolean) => ({
    message: `Renewed: request ${newId} for ${conversationId} waits for approval with a fresh preview.${changed ? ' Redis changed since the expired request; the preview says how.' : ''}`,
  }),
};
