import type { BulkRequest } from '../store/bulk-requests.js';
import { type ApproverPolicy, checkMembership, type Refusal } from './rules.js';

/**
 * Who may decide on a bulk restore asked for in Slack: the request rules (rules.ts), applied to
 * the job that is its own request. Approve and deny while it waits: anyone the approver policy
 * allows except the requester. Cancel while it waits: the requester only (approvers deny), as for
 * any request. Cancel or resume once it was approved: the requester or an approver — stopping
 * is the safe direction, and resuming runs only the list two people already approved.
 */

export type BulkRefusal =
  | { reason: 'not_open'; state: string }
  | { reason: 'self_approval' }
  | { reason: 'already_approved'; have: number; need: number }
  | { reason: 'own_request' }
  | { reason: 'not_requester'; requester: string }
  | { reason: 'not_allowed' }
  | Extract<Refusal, { reason: 'not_approver' | 'group_unavailable' }>;

export type BulkCheck = { ok: true } | ({ ok: false } & BulkRefusal);

export interface BulkRuleInput extends ApproverPolicy {
  job: Pick<BulkRequest, 'state' | 'requester' | 'approvals' | 'requiredApprovals'>;
  userId: string;
  groupMembers: ReadonlySet<string> | null;
}

export function checkBulkApprove(input: BulkRuleInput): BulkCheck {
  const { job, userId } = input;
  if (job.state !== 'pending') return { ok: false, reason: 'not_open', state: job.state };
  if (userId === job.requester) return { ok: false, reason: 'self_approval' };
  if (job.approvals.some((a) => a.userId === userId)) {
    return { ok: false, reason: 'already_approved', have: job.approvals.length, need: job.requiredApprovals };
  }
  return checkMembership(input, 'approve');
}

export function checkBulkDeny(input: BulkRuleInput): BulkCheck {
  const { job, userId } = input;
  if (job.state !== 'pending') return { ok: false, reason: 'not_open', state: job.state };
  if (userId === job.requester) return { ok: false, reason: 'own_request' };
  return checkMembership(input, 'deny');
}

/** Cancel (pending or running) and resume (cancelled or failed). */
export function checkBulkStop(input: BulkRuleInput): BulkCheck {
  const { job, userId } = input;
  if (job.state === 'pending') {
    return userId === job.requester
      ? { ok: true }
      : { ok: false, reason: 'not_requester', requester: job.requester };
  }
  if (userId === job.requester) return { ok: true };
  return checkMembership(input, 'approve').ok ? { ok: true } : { ok: false, reason: 'not_allowed' };
}
