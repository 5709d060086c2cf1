import type { RecoveryRequest } from './types.js';

/**
 * Who may approve, decided in pure functions so the handler can refuse with a helpful message
 * before touching the database. The store stays the authority on state (it re-checks it under
 * a row lock); these rules are the authority on people.
 *
 * Policy when nothing is configured (no APPROVER_USER_IDS, no APPROVER_USERGROUP_ID): anyone
 * except the requester may approve. That keeps the two-person rule — the one an SRE counts on
 * — without making a fresh install unusable; the approval message says so (approverHint), so
 * nobody mistakes it for a curated approver list.
 */

export interface ApproverPolicy {
  approverUserIds: readonly string[];
  approverUsergroupId?: string | undefined;
}

export type RuleCheck<C extends string> = { ok: true } | { ok: false; code: C; message: string };

export type ApproverRefusal =
  | 'not_open'
  | 'self_approval'
  | 'already_approved'
  | 'not_approver'
  | 'group_unavailable';

export type CancelRefusal = 'not_open' | 'not_requester';

export type DenyRefusal = 'not_open' | 'own_request' | 'not_approver' | 'group_unavailable';

const LIST_LIMIT = 5;

/** `<@U…>` for Slack user ids, so Slack renders a name; anything else (`system`, `cli:…`) as is. */
export function mention(userId: string): string {
  return /^[UW][A-Z0-9]+$/.test(userId) ? `<@${userId}>` : userId;
}

/** Slack's three mrkdwn escapes, so a reason like `<!channel>` cannot ping or hide a link. */
function escapeText(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function groupMention(groupId: string): string {
  return `<!subteam^${groupId}>`;
}

function listUsers(ids: readonly string[]): string {
  const shown = ids.slice(0, LIST_LIMIT).map(mention).join(', ');
  return ids.length > LIST_LIMIT ? `${shown} +${ids.length - LIST_LIMIT} more` : shown;
}

/** `2025-12-13 10:30 UTC`: readable in Slack and in a terminal alike. */
export function formatWhen(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function isConfigured(policy: ApproverPolicy): boolean {
  return policy.approverUserIds.length > 0 || policy.approverUsergroupId !== undefined;
}

/** Who the approval message asks for: "an approver (<!subteam^S…>)" or "anyone except the requester". */
export function approverHint(policy: ApproverPolicy): string {
  const parts: string[] = [];
  if (policy.approverUsergroupId !== undefined) parts.push(groupMention(policy.approverUsergroupId));
  if (policy.approverUserIds.length > 0) parts.push(listUsers(policy.approverUserIds));
  return parts.length === 0 ? 'anyone except the requester' : `an approver (${parts.join(' or ')})`;
}

/** Whom to turn to, as the end of "Ask …"; never the person being told. */
function askWhom(policy: ApproverPolicy, self: string): string {
  const parts: string[] = [];
  if (policy.approverUsergroupId !== undefined) {
    parts.push(`someone in ${groupMention(policy.approverUsergroupId)}`);
  }
  const others = policy.approverUserIds.filter((id) => id !== self);
  if (others.length > 0) parts.push(`one of ${listUsers(others)}`);
  return parts.length === 0 ? 'a teammate' : parts.join(' or ');
}

function kindLabel(request: RecoveryRequest): string {
  return request.kind;
}

function approvedBy(request: RecoveryRequest): string {
  const ids = request.approvals.map((a) => a.userId);
  return ids.length > 0 ? `approved by ${listUsers(ids)}` : 'approved';
}

/** Where a request stands, for "already …" messages: which state, and who put it there. */
export function describeState(request: RecoveryRequest): string {
  switch (request.state) {
    case 'requested':
      return `waiting for approval (${request.approvals.length} of ${request.requiredApprovals}), until ${formatWhen(request.expiresAt)}`;
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
      return request.denyReason ? `denied by ${who} (${escapeText(request.denyReason)})` : `denied by ${who}`;
    }
    case 'expired':
      return `expired at ${formatWhen(request.expiresAt)} without enough approvals`;
    case 'cancelled':
      if (request.decidedBy === 'system')
        return `cancelled: ${escapeText(request.denyReason ?? 'by the bot')}`;
      return request.decidedBy === null ? 'cancelled' : `cancelled by ${mention(request.decidedBy)}`;
  }
}

export function notOpenMessage(request: RecoveryRequest): string {
  return `This ${kindLabel(request)} (${request.id}) is no longer waiting for approval: ${describeState(request)}.`;
}

export interface CheckApproverInput extends ApproverPolicy {
  request: RecoveryRequest;
  userId: string;
  /**
   * Members of the approver group; null when no group is configured, or when it is but Slack
   * has never answered (then only the user list can approve: we fail closed, not open).
   */
  groupMembers: ReadonlySet<string> | null;
  /** Only for wording; the request's own requiredApprovals is what the store enforces. */
  requiredApprovals?: number;
}

type MembershipRefusal = 'not_approver' | 'group_unavailable';

/** Is `userId` an approver under the policy? `verb` words the refusal ("approve", "deny"). */
function checkMembership(input: CheckApproverInput, verb: string): RuleCheck<MembershipRefusal> {
  const { userId, groupMembers } = input;
  if (!isConfigured(input)) return { ok: true };
  if (input.approverUserIds.includes(userId)) return { ok: true };
  if (input.approverUsergroupId !== undefined) {
    if (groupMembers === null) {
      const others =
        input.approverUserIds.length > 0 ? `, or ask one of ${listUsers(input.approverUserIds)}` : '';
      return {
        ok: false,
        code: 'group_unavailable',
        message: `I could not check whether you are in ${groupMention(input.approverUsergroupId)}: Slack did not answer. Try again in a minute${others}.`,
      };
    }
    if (groupMembers.has(userId)) return { ok: true };
  }
  const sources: string[] = [];
  if (input.approverUserIds.length > 0) {
    sources.push(`listed in APPROVER_USER_IDS (${listUsers(input.approverUserIds)})`);
  }
  if (input.approverUsergroupId !== undefined) {
    sources.push(`belong to the ${groupMention(input.approverUsergroupId)} group`);
  }
  return {
    ok: false,
    code: 'not_approver',
    message: `You are not an approver, so you cannot ${verb} this: approvers are ${sources.join(' or ')}. Ask one of them.`,
  };
}

export function checkApprover(input: CheckApproverInput): RuleCheck<ApproverRefusal> {
  const { request, userId } = input;
  const what = kindLabel(request);
  if (request.state !== 'requested') {
    return { ok: false, code: 'not_open', message: notOpenMessage(request) };
  }
  if (userId === request.requester) {
    return {
      ok: false,
      code: 'self_approval',
      message: `You asked for this ${what}, so someone else must approve it. Ask ${askWhom(input, userId)}.`,
    };
  }
  if (request.approvals.some((a) => a.userId === userId)) {
    const need = input.requiredApprovals ?? request.requiredApprovals;
    const more = Math.max(1, need - request.approvals.length);
    return {
      ok: false,
      code: 'already_approved',
      message: `You already approved this ${what}; it needs ${more} more approval${more === 1 ? '' : 's'} from someone else. Ask ${askWhom(input, userId)}.`,
    };
  }
  return checkMembership(input, 'approve');
}

/**
 * Who may deny: the people who may approve, including one who approved already and changed
 * their mind. The requester is pointed at cancel instead.
 */
export function checkCanDeny(input: CheckApproverInput): RuleCheck<DenyRefusal> {
  const { request, userId } = input;
  if (request.state !== 'requested') {
    return { ok: false, code: 'not_open', message: notOpenMessage(request) };
  }
  if (userId === request.requester) {
    return {
      ok: false,
      code: 'own_request',
      message: `You asked for this ${kindLabel(request)}; cancel it instead of denying it.`,
    };
  }
  return checkMembership(input, 'deny');
}

/** Only the requester may cancel, and only while it waits; approvers deny instead. */
export function checkCanCancel(request: RecoveryRequest, userId: string): RuleCheck<CancelRefusal> {
  if (request.state !== 'requested') {
    return { ok: false, code: 'not_open', message: notOpenMessage(request) };
  }
  if (userId !== request.requester) {
    return {
      ok: false,
      code: 'not_requester',
      message: `Only ${mention(request.requester)}, who asked for this ${kindLabel(request)}, can cancel it. To stop it, deny it with a reason.`,
    };
  }
  return { ok: true };
}
