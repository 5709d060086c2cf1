import type { ApproverPolicy, AskWhom, Refusal } from '../approval/rules.js';
import type { RecoveryRequest } from '../approval/types.js';
import { escapeMrkdwn } from './escape.js';
import { formatTime } from './format.js';

/**
 * The approval rules' and the request store's refusals, worded for the person who clicked.
 * These texts name people as `<@U…>` and groups as `<!subteam^S…>` on purpose, so the reader
 * sees whom to ask; they go out through errorView with `mentions: true`, which keeps those
 * live and escapes everything else. User text in them (a deny reason) is escaped here, once.
 */

const LIST_LIMIT = 5;

/** `<@U…>` for Slack user ids, so Slack renders a name; anything else (`system`, `cli:…`) literally. */
export function mention(userId: string): string {
  return /^[UW][A-Z0-9]+$/.test(userId) ? `<@${userId}>` : escapeMrkdwn(userId);
}

function groupMention(groupId: string): string {
  return `<!subteam^${groupId}>`;
}

function listUsers(ids: readonly string[]): string {
  const shown = ids.slice(0, LIST_LIMIT).map(mention).join(', ');
  return ids.length > LIST_LIMIT ? `${shown} +${ids.length - LIST_LIMIT} more` : shown;
}

/** Who the approval message asks for: "an approver (<!subteam^S…>)" or "anyone except the requester". */
export function approverHint(policy: ApproverPolicy): string {
  const parts: string[] = [];
  if (policy.approverUsergroupId !== undefined) parts.push(groupMention(policy.approverUsergroupId));
  if (policy.approverUserIds.length > 0) parts.push(listUsers(policy.approverUserIds));
  return parts.length === 0 ? 'anyone except the requester' : `an approver (${parts.join(' or ')})`;
}

/** The end of "Ask …". */
function askText(ask: AskWhom): string {
  const parts: string[] = [];
  if (ask.usergroupId !== undefined) parts.push(`someone in ${groupMention(ask.usergroupId)}`);
  if (ask.userIds.length > 0) parts.push(`one of ${listUsers(ask.userIds)}`);
  return parts.length === 0 ? 'a teammate' : parts.join(' or ');
}

function approvedBy(request: RecoveryRequest): string {
  const ids = request.approvals.map((a) => a.userId);
  return ids.length > 0 ? `approved by ${listUsers(ids)}` : 'approved';
}

/** Where a request stands, for "already …" messages: which state, and who put it there. */
export function describeState(request: RecoveryRequest): string {
  switch (request.state) {
    case 'requested':
      return `waiting for approval (${request.approvals.length} of ${request.requiredApprovals}), until ${formatTime(request.expiresAt)}`;
    case 'approved':
      return approvedBy(request);
    case 'executing':
      return `${approvedBy(request)} and running now`;
    case 'succeeded':
      return `${approvedBy(request)} and finished successfully`;
    case 'failed':
      return `${approvedBy(request)} and failed`;
    case 'unknown':
      return `${approvedBy(request)}; whether it was written is unknown, so check Redis before anything else`;
    case 'denied': {
      const who = request.decidedBy === null ? 'an approver' : mention(request.decidedBy);
      return request.denyReason
        ? `denied by ${who} (${escapeMrkdwn(request.denyReason)})`
        : `denied by ${who}`;
    }
    case 'expired':
      return `expired at ${formatTime(request.expiresAt)} without enough approvals`;
    case 'cancelled':
      if (request.decidedBy === 'system')
        return `cancelled: ${escapeMrkdwn(request.denyReason ?? 'by the bot')}`;
      return request.decidedBy === null ? 'cancelled' : `cancelled by ${mention(request.decidedBy)}`;
  }
}

/** A click or a move that came after the request stopped waiting. */
export function notOpenText(request: RecoveryRequest): string {
  return `This ${request.kind} (${request.id}) is no longer waiting for approval: ${describeState(request)}.`;
}

export function refusalText(refusal: Refusal): string {
  switch (refusal.reason) {
    case 'not_open':
      return notOpenText(refusal.request);
    case 'self_approval':
      return `You asked for this ${refusal.kind}, so someone else must approve it. Ask ${askText(refusal.ask)}.`;
    case 'already_approved': {
      const { more } = refusal;
      return `You already approved this ${refusal.kind}; it needs ${more} more approval${more === 1 ? '' : 's'} from someone else. Ask ${askText(refusal.ask)}.`;
    }
    case 'not_approver': {
      const { approverUserIds, approverUsergroupId } = refusal.approvers;
      const sources: string[] = [];
      if (approverUserIds.length > 0)
        sources.push(`listed in APPROVER_USER_IDS (${listUsers(approverUserIds)})`);
      if (approverUsergroupId !== undefined)
        sources.push(`belong to the ${groupMention(approverUsergroupId)} group`);
      return `You are not an approver, so you cannot ${refusal.verb} this: approvers are ${sources.join(' or ')}. Ask one of them.`;
    }
    case 'group_unavailable': {
      const others =
        refusal.approverUserIds.length > 0 ? `, or ask one of ${listUsers(refusal.approverUserIds)}` : '';
      return `I could not check whether you are in ${groupMention(refusal.usergroupId)}: Slack did not answer. Try again in a minute${others}.`;
    }
    case 'own_request':
      return `You asked for this ${refusal.kind}; cancel it instead of denying it.`;
    case 'not_requester':
      return `Only ${mention(refusal.requester)}, who asked for this ${refusal.kind}, can cancel it. To stop it, deny it with a reason.`;
  }
}

/** A new request refused because `open` still holds the conversation (one open request each). */
export function openConflictText(open: RecoveryRequest): { message: string; hint: string } {
  const what = `${open.kind === 'undo' || open.kind === 'unlock' ? 'An' : 'A'} ${open.kind} of ${open.conversationId}`;
  if (open.state === 'requested') {
    return {
      message: `${what} is already awaiting approval (${open.id}).`,
      hint: `Approve, deny or cancel it first, or wait until it expires at ${formatTime(open.expiresAt)}.`,
    };
  }
  return {
    message: `${what} is already ${open.state === 'approved' ? 'approved and about to run' : 'running'} (${open.id}).`,
    hint: 'Wait for its result in the incident thread, then inspect the conversation again before asking for another.',
  };
}

/**
 * A click on an Undo button whose backup an undo already put back: nothing is asked again, and
 * nothing goes to the thread (the thread already tells that undo).
 */
export function alreadyUndoneText(undo: RecoveryRequest, backupId: string, now: Date): string {
  const at = formatTime(undo.decidedAt ?? undo.createdAt, now, { seconds: true });
  return `Already undone by ${mention(undo.requester)} at ${at} (request ${undo.id}): backup ${backupId} was put back then. Nothing was done.`;
}
