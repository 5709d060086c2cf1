import type { RecoveryRequest, RequestKind } from './types.js';

/**
 * Who may approve, decided in pure functions so the handler can refuse before touching the
 * database. The store stays the authority on state (it re-checks it under a row lock); these
 * rules are the authority on people. A refusal is data: which rule, and whom it leaves to ask;
 * src/views/approval-refusals.ts words it for Slack.
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

/** Whom a refused person can turn to instead: the group, and the listed approvers but themselves. */
export interface AskWhom {
  usergroupId?: string | undefined;
  userIds: readonly string[];
}

export type Refusal =
  /** Past waiting for approval; the request says which state and who put it there. */
  | { reason: 'not_open'; request: RecoveryRequest }
  | { reason: 'self_approval'; kind: RequestKind; ask: AskWhom }
  /** `more`: approvals still needed from others (at least 1). */
  | { reason: 'already_approved'; kind: RequestKind; more: number; ask: AskWhom }
  | { reason: 'not_approver'; verb: 'approve' | 'deny'; approvers: ApproverPolicy }
  /** The group is configured but Slack never answered: only listed users may decide (fail closed). */
  | { reason: 'group_unavailable'; usergroupId: string; approverUserIds: readonly string[] }
  | { reason: 'own_request'; kind: RequestKind }
  | { reason: 'not_requester'; kind: RequestKind; requester: string };

export type RefusalReason = Refusal['reason'];

export type RuleCheck<R extends RefusalReason> =
  | { ok: true }
  | ({ ok: false } & Extract<Refusal, { reason: R }>);

export type ApproverRefusal =
  | 'not_open'
  | 'self_approval'
  | 'already_approved'
  | 'not_approver'
  | 'group_unavailable';

export type CancelRefusal = 'not_open' | 'not_requester';

export type DenyRefusal = 'not_open' | 'own_request' | 'not_approver' | 'group_unavailable';

function isConfigured(policy: ApproverPolicy): boolean {
  return policy.approverUserIds.length > 0 || policy.approverUsergroupId !== undefined;
}

/** Never the person being told. */
function askWhom(policy: ApproverPolicy, self: string): AskWhom {
  return {
    usergroupId: policy.approverUsergroupId,
    userIds: policy.approverUserIds.filter((id) => id !== self),
  };
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

/** Is `userId` an approver under the policy? `verb` is what they tried ("approve", "deny"). */
export function checkMembership(
  input: Pick<CheckApproverInput, 'userId' | 'groupMembers' | 'approverUserIds' | 'approverUsergroupId'>,
  verb: 'approve' | 'deny',
): RuleCheck<MembershipRefusal> {
  const { userId, groupMembers } = input;
  if (!isConfigured(input)) return { ok: true };
  if (input.approverUserIds.includes(userId)) return { ok: true };
  if (input.approverUsergroupId !== undefined) {
    if (groupMembers === null) {
      return {
        ok: false,
        reason: 'group_unavailable',
        usergroupId: input.approverUsergroupId,
        approverUserIds: input.approverUserIds,
      };
    }
    if (groupMembers.has(userId)) return { ok: true };
  }
  return {
    ok: false,
    reason: 'not_approver',
    verb,
    approvers: { approverUserIds: input.approverUserIds, approverUsergroupId: input.approverUsergroupId },
  };
}

export function checkApprover(input: CheckApproverInput): RuleCheck<ApproverRefusal> {
  const { request, userId } = input;
  if (request.state !== 'requested') return { ok: false, reason: 'not_open', request };
  if (userId === request.requester) {
    return { ok: false, reason: 'self_approval', kind: request.kind, ask: askWhom(input, userId) };
  }
  if (request.approvals.some((a) => a.userId === userId)) {
    const need = input.requiredApprovals ?? request.requiredApprovals;
    return {
      ok: false,
      reason: 'already_approved',
      kind: request.kind,
      more: Math.max(1, need - request.approvals.length),
      ask: askWhom(input, userId),
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
  if (request.state !== 'requested') return { ok: false, reason: 'not_open', request };
  if (userId === request.requester) return { ok: false, reason: 'own_request', kind: request.kind };
  return checkMembership(input, 'deny');
}

/** Only the requester may cancel, and only while it waits; approvers deny instead. */
export function checkCanCancel(request: RecoveryRequest, userId: string): RuleCheck<CancelRefusal> {
  if (request.state !== 'requested') return { ok: false, reason: 'not_open', request };
  if (userId !== request.requester) {
    return { ok: false, reason: 'not_requester', kind: request.kind, requester: request.requester };
  }
  return { ok: true };
}
