import { isReplayPlan, type RecoveryRequest } from '../approval/types.js';
import { SLASH_COMMAND } from '../slack-ids.js';
import { code, escapeMrkdwn, line, userRef } from './escape.js';
import { formatTime, plural } from './format.js';
import { expiredSentence, operationPhrase } from './request.js';
import { context, message, type SlackMessage, section } from './slack.js';

/** A transition of a request, as the thread reply that tells the story. */
export type DecisionEvent =
  | { kind: 'approved'; request: RecoveryRequest; by: string; at: Date | string }
  | { kind: 'denied'; request: RecoveryRequest; by: string; at: Date | string; reason: string | null }
  | {
      kind: 'cancelled';
      request: RecoveryRequest;
      by: string;
      at: Date | string;
      reason?: string | undefined;
    }
  | { kind: 'expired'; request: RecoveryRequest }
  | {
      kind: 'stale';
      request: RecoveryRequest;
      /** What changed, e.g. "Redis changed since the preview (`1a2b…` → `3c4d…`)"; plain text. */
      detail: string | null;
      /** False when no fresh preview was made (nothing left to approve); true when absent. */
      refreshed?: boolean | undefined;
    };

const NOTHING_CHANGED = 'Nothing was changed.';

function sentence(event: DecisionEvent, now: Date): string {
  const req = event.request;
  const what = operationPhrase(req);
  switch (event.kind) {
    case 'approved': {
      const at = escapeMrkdwn(formatTime(event.at, now));
      // The request should already count this approval; if a caller passes it from before, count it anyway.
      const approvers = new Set(req.approvals.map((a) => a.userId.replace(/^slack:/, '')));
      approvers.add(event.by.replace(/^slack:/, ''));
      const remaining = req.requiredApprovals - approvers.size;
      if (remaining > 0) {
        return `👍 ${userRef(event.by)} approved ${what} at ${at} (${approvers.size} of ${req.requiredApprovals}) — needs ${plural(remaining, 'more approval', 'more approvals')}.`;
      }
      return `✅ ${userRef(event.by)} approved ${what} at ${at} — running it now.`;
    }
    case 'denied': {
      const reason = event.reason?.trim() ? `: ${line(event.reason, 1000)}` : '';
      // The requester is mentioned so Slack tells them: the deny form promises "shown to the requester".
      return `❌ ${userRef(event.by)} denied ${what} at ${escapeMrkdwn(formatTime(event.at, now))}${reason}. ${NOTHING_CHANGED} ${userRef(req.requester)}, ask again once that is settled.`;
    }
    case 'cancelled': {
      const reason = event.reason?.trim() ? `: ${line(event.reason, 1000)}` : '';
      return `🚫 ${userRef(event.by)} cancelled ${what} at ${escapeMrkdwn(formatTime(event.at, now))}${reason}. ${NOTHING_CHANGED}`;
    }
    case 'expired':
      return `${expiredSentence(req, now)}. ${NOTHING_CHANGED}`;
    case 'stale': {
      // A replay has no source: only Redis can have moved under it.
      const changed = isReplayPlan(req.plan) ? 'Redis changed' : 'Redis or the source changed';
      const since = `${changed} since the preview at ${escapeMrkdwn(formatTime(req.plan.createdAt, now))}`;
      const given = event.detail?.trim() ? line(event.detail, 500) : since;
      const detail = /[.!?]$/.test(given) ? given : `${given}.`;
      if (event.refreshed === false) {
        return `🔄 The preview went stale: ${detail} No fresh preview: there is nothing to approve now. ${NOTHING_CHANGED} ${code(`${SLASH_COMMAND} inspect ${event.request.conversationId}`)} shows where it stands.`;
      }
      return `🔄 The preview went stale: ${detail} A fresh preview follows. ${NOTHING_CHANGED}`;
    }
  }
}

/** Small thread replies for each decision; the approval message itself is updated separately. */
export function decisionReplyView(event: DecisionEvent, ctx: { now: Date }): SlackMessage {
  const text = sentence(event, ctx.now);
  return message(text, [section(text), context(`Request ${code(event.request.id)}`)]);
}
