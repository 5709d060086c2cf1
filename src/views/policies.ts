import type { BreakGlassCheck, GroupCheck, ReviewCheck, StepUpCheck } from '../approval/policies.js';
import type { RecoveryRequest } from '../approval/types.js';
import type { AuditData } from '../audit-vocabulary.js';
import {
  ACTION,
  BREAK_GLASS_BLOCK_ID,
  REASON_MAX_LENGTH,
  SLASH_COMMAND,
  STEP_UP_BLOCK_ID,
  VIEW_CALLBACK,
} from '../slack-ids.js';
import { mention } from './approval-refusals.js';
import { code, escapeMrkdwn, line, oneLine, userRef } from './escape.js';
import { formatRelative, formatTime } from './format.js';
import { clip } from './limits.js';
import {
  context,
  header,
  type KnownBlock,
  type ModalView,
  message,
  mrkdwn,
  plain,
  type SlackMessage,
  section,
} from './slack.js';

/**
 * The approval policies' wording (docs/approval-policies.md): the step-up and break-glass forms,
 * the refusals, the loud break-glass notice with its Mark reviewed button, and the breaker
 * reset request. Mentions (`<@U…>`, `<!subteam^S…>`) are live on purpose: these texts tell
 * people whom to ask or who has to look.
 */

export function groupMention(groupId: string): string {
  return /^S[A-Z0-9]+$/.test(groupId) ? `<!subteam^${groupId}>` : escapeMrkdwn(groupId);
}

function groupList(groups: readonly string[]): string {
  const shown = groups.slice(0, 5).map(groupMention);
  if (shown.length <= 1) return shown.join('');
  return `${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}`;
}

function eitherGroup(groups: readonly string[]): string {
  const shown = groups.slice(0, 5).map(groupMention);
  if (shown.length <= 1) return shown.join('');
  return `${shown.slice(0, -1).join(', ')} or ${shown.at(-1)}`;
}

/** "one member each of S1 and S2": the approver hint when APPROVER_GROUPS is set. */
export function groupsApproverHint(groups: readonly string[]): string {
  return `one member each of ${groupList(groups)} (approvals from distinct groups)`;
}

/**
 * Under the approval message (or a bulk job's card) while it waits: which groups have their
 * approval and which do not.
 */
export function groupProgressText(
  req: Pick<RecoveryRequest, 'approverGroups' | 'approvals' | 'requiredApprovals'>,
): string | null {
  const groups = req.approverGroups ?? [];
  if (groups.length === 0) return null;
  const taken = req.approvals.filter((a) => a.groupId);
  const missing = groups.filter((g) => !taken.some((a) => a.groupId === g));
  const have = taken.map((a) => `${groupMention(a.groupId ?? '')} by ${mention(a.userId)}`).join(', ');
  const still =
    missing.length === 0
      ? ''
      : `Still missing: an approval from a member of ${eitherGroup(missing)}${
          req.requiredApprovals - req.approvals.length < missing.length ? ' (any one of them)' : ''
        }.`;
  return [have ? `👥 Counted for ${have}.` : '', still].filter(Boolean).join(' ') || null;
}

export function groupRefusalText(check: Extract<GroupCheck, { ok: false }>): string {
  if (check.reason === 'not_in_group') {
    const down =
      check.unavailable.length > 0
        ? ` Slack did not answer for ${groupList(check.unavailable)}, so its members cannot be checked right now; try again in a minute.`
        : '';
    return `Your approval does not count: approvals here must come from members of ${eitherGroup(check.groups)}, and you are in none of them.${down} Ask someone in ${eitherGroup(check.groups)}.`;
  }
  return `Your approval does not count: ${groupList(check.taken)} already ${check.taken.length === 1 ? 'has its' : 'have their'} approval, and this request needs one from each group. Still missing: a member of ${eitherGroup(check.missing)} — ask one of them to approve.`;
}

export type GroupVerb = 'deny' | 'approve' | 'cancel' | 'resume';

/** Deny, a breaker reset, or stopping someone else's bulk job, when the person is in none of APPROVER_GROUPS. */
export function groupMemberRefusalText(
  check: Extract<GroupCheck, { ok: false; reason: 'not_in_group' }>,
  verb: GroupVerb,
): string {
  const down =
    check.unavailable.length > 0
      ? ` Slack did not answer for ${groupList(check.unavailable)}, so its members cannot be checked right now; try again in a minute.`
      : '';
  return `Only members of ${eitherGroup(check.groups)} may ${verb} here, and you are in none of them.${down} Ask someone in ${eitherGroup(check.groups)}.`;
}

// ---- Step-up ----

export const STEP_UP_LABEL = { request: 'the conversation id', bulk: 'the number of conversations' } as const;

/** The form the Approve button opens for a STEP_UP_OPERATIONS operation. */
export function stepUpModal(target: {
  id: string;
  operation: string;
  /** What to type, shown as a hint only for the count (the id is on the message itself). */
  what: keyof typeof STEP_UP_LABEL;
}): ModalView {
  return {
    type: 'modal',
    callback_id: VIEW_CALLBACK.stepUp,
    title: plain('Confirm approval'),
    submit: plain('Approve'),
    close: plain('Back'),
    private_metadata: target.id,
    blocks: [
      section(
        `You are approving *${escapeMrkdwn(clip(oneLine(target.operation), 500))}*. This operation asks approvers to type what it changes, so a click on the wrong message cannot approve it.`,
      ),
      {
        type: 'input',
        block_id: STEP_UP_BLOCK_ID,
        label: plain(`Type ${STEP_UP_LABEL[target.what]}`),
        hint: plain(
          target.what === 'bulk'
            ? 'The count shown on the bulk restore card.'
            : 'Exactly as the approval message shows it.',
        ),
        element: { type: 'plain_text_input', action_id: STEP_UP_BLOCK_ID, max_length: 300 },
      },
    ],
  };
}

/** The field error of a wrong typed confirmation: nothing counted, and why. */
export function stepUpErrorText(
  check: Extract<StepUpCheck, { ok: false }>,
  what: keyof typeof STEP_UP_LABEL,
): string {
  if (check.reason === 'empty') return `Type ${STEP_UP_LABEL[what]} to approve; nothing was counted.`;
  return `That is not ${STEP_UP_LABEL[what]} of this request (${clip(check.expected, 200)}), so your approval was not counted. Check you are approving the request you mean.`;
}

export const STEP_UP_TEXT = {
  needed: {
    message:
      'This operation needs a typed confirmation: click Approve on the approval message and type what it changes.',
  },
  lostForm: 'This form lost which request it was for; close it and click Approve again.',
} as const;

// ---- Break-glass ----

export function breakGlassModal(requestId: string, operation: string, min: number): ModalView {
  return {
    type: 'modal',
    callback_id: VIEW_CALLBACK.breakGlass,
    title: plain('Break glass'),
    submit: plain('Approve my own request'),
    close: plain('Back'),
    private_metadata: requestId,
    blocks: [
      section(
        `🚨 You asked for *${escapeMrkdwn(clip(oneLine(operation), 500))}*, so it normally needs someone else. Break-glass lets you approve it yourself: the thread says so loudly, the approvers are notified, and it stays flagged *needs review* until someone else marks it reviewed.`,
      ),
      {
        type: 'input',
        block_id: BREAK_GLASS_BLOCK_ID,
        label: plain('Why can nobody else approve it now?'),
        hint: plain(`At least ${min} characters. Shown in the thread and kept in the audit log.`),
        element: {
          type: 'plain_text_input',
          action_id: BREAK_GLASS_BLOCK_ID,
          multiline: true,
          max_length: REASON_MAX_LENGTH,
        },
      },
    ],
  };
}

export function breakGlassRefusalText(check: Extract<BreakGlassCheck, { ok: false }>): string {
  switch (check.reason) {
    case 'off':
      return 'Break-glass is off here (BREAK_GLASS): someone else must approve your request. Ask an approver.';
    case 'not_requester':
      return 'Only the requester can break glass on their own request; approve it with the Approve button instead.';
    case 'short_reason':
      return `Say more: a break-glass reason needs at least ${check.min} characters (this one has ${check.length}). Nothing was approved.`;
  }
}

/** Who cleared a break-glass flag and when; the notice shows it in place of its button. */
export interface BreakGlassReviewed {
  by: string;
  at: Date | string;
}

/** The loud notice in the thread; `notify` mentions the approvers. */
export function breakGlassView(
  d: AuditData<'request.break_glass'>,
  now: Date,
  reviewed?: BreakGlassReviewed,
): SlackMessage {
  const req = d.request;
  return breakGlassNotice({
    requester: req.requester,
    what: `${escapeMrkdwn(req.kind)} of ${code(req.conversationId)}`,
    at: req.decidedAt ?? now.toISOString(),
    reason: d.reason,
    notify: d.notify,
    reviewId: req.needsReview !== false ? req.id : null,
    reviewed,
    footer: `Request ${code(req.id)}`,
    now,
  });
}

/** A bulk job its requester approved alone (BREAK_GLASS=on): the same loud notice as a request's. */
export function bulkBreakGlassView(
  d: AuditData<'bulk.break_glass'>,
  now: Date,
  reviewed?: BreakGlassReviewed,
): SlackMessage {
  return breakGlassNotice({
    requester: d.requester,
    what: `bulk restore of ${d.total} conversations (job ${code(d.jobId)})`,
    at: d.decidedAt,
    reason: d.reason,
    notify: d.notify,
    reviewId: d.jobId,
    reviewed,
    footer: `Bulk job ${code(d.jobId)}`,
    now,
  });
}

function breakGlassNotice(n: {
  requester: string;
  /** Already escaped: "restore of `c-1`". */
  what: string;
  at: string;
  reason: string;
  notify: string;
  /** The Mark reviewed button's value, or null once reviewed. */
  reviewId: string | null;
  /** Set once someone reviewed it: the button gives way to who and when, so nobody clicks it again. */
  reviewed?: BreakGlassReviewed | undefined;
  footer: string;
  now: Date;
}): SlackMessage {
  const reviewed = n.reviewed;
  const blocks: KnownBlock[] = [
    header('🚨 Break-glass: self-approved'),
    section(
      `*${userRef(n.requester)} approved their own ${n.what}* at ${escapeMrkdwn(formatTime(n.at, n.now))}, without a second person.\n*Reason:* ${line(n.reason, 1000)}`,
    ),
    reviewed
      ? section(
          `✅ *Reviewed by ${userRef(reviewed.by)} at ${escapeMrkdwn(formatTime(reviewed.at, n.now, { seconds: true }))}*: it is no longer flagged. Nothing more to do here.`,
        )
      : section(
          `${clip(n.notify, 1500, { markup: true })}: please review it. It stays flagged *needs review* until someone other than the requester marks it reviewed.`,
        ),
  ];
  if (n.reviewId !== null && !reviewed) {
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: ACTION.markReviewed,
          text: plain('Mark reviewed'),
          style: 'primary',
          value: n.reviewId,
        },
      ],
    });
  }
  blocks.push(context(n.footer));
  return message(
    reviewed
      ? `🚨 Break-glass: ${userRef(n.requester)} approved their own ${n.what} — reviewed by ${userRef(reviewed.by)}`
      : `🚨 Break-glass: ${userRef(n.requester)} approved their own ${n.what} — needs review`,
    blocks,
  );
}

export function reviewedView(d: AuditData<'request.reviewed'>, actor: string): SlackMessage {
  const req = d.request;
  const text = `✅ Break-glass ${escapeMrkdwn(req.kind)} of ${code(req.conversationId)} reviewed by ${userRef(actor)}; it is no longer flagged.`;
  return message(text, [section(text)]);
}

export function bulkReviewedView(d: AuditData<'bulk.reviewed'>, actor: string): SlackMessage {
  const text = `✅ Break-glass bulk restore ${code(d.jobId)} (${d.total} conversations) reviewed by ${userRef(actor)}; it is no longer flagged.`;
  return message(text, [section(text)]);
}

/**
 * A Mark reviewed click after someone already reviewed it. `at` null: the review's time is not in
 * the audit log (its entry was cut off after the flag was cleared).
 */
export function alreadyReviewedText(what: string, by: string, at: Date | null, now: Date): string {
  const when = at ? ` at ${formatTime(at, now, { seconds: true })}` : '';
  return `Already reviewed by ${mention(by)}${when}: this break-glass ${what} is no longer flagged. Nothing was done.`;
}

export function reviewRefusalText(check: Extract<ReviewCheck, { ok: false }>): string {
  return check.reason === 'own_request'
    ? 'You broke the glass on this request, so someone else has to review it. Ask an approver to look.'
    : 'This request is not flagged for review (someone already reviewed it, or it was not a break-glass approval). Nothing to do.';
}

/** A line on the approval message once a break-glass approval happened. */
export function breakGlassStatus(req: RecoveryRequest): string | null {
  if (!req.breakGlassReason) return null;
  return req.needsReview
    ? `🚨 *Break-glass:* approved by the requester — *needs review*. Reason: ${line(req.breakGlassReason, 500)}`
    : `🚨 Break-glass: approved by the requester; reviewed by ${userRef(req.reviewedBy ?? 'someone')}.`;
}

// ---- Blast radius ----

export function hourlyLimitText(used: number, max: number, freesAt: string | null, now: Date) {
  const frees = freesAt
    ? `The next slot frees at ${formatTime(freesAt, now)} (${formatRelative(freesAt, now)}).`
    : 'A slot frees as soon as an open request ends.';
  return {
    message: `Not opened: ${used} destructive requests were opened in the last hour, and the limit is ${max} (MAX_DESTRUCTIVE_PER_HOUR). ${frees}`,
    hint: 'Try again then; a denied, cancelled or expired request frees its slot at once.',
  };
}

export function breakerOpenText(failuresInARow: number, threshold: number) {
  return {
    message: `Approvals are stopped: the last ${failuresInARow} restores failed in a row (the breaker opens at ${threshold}). Nothing was approved.`,
    hint: `Find out why they fail, then ask for a reset: ${SLASH_COMMAND} breaker-reset --reason <what was fixed> (another person approves it).`,
  };
}

export function breakerResetRequestView(d: AuditData<'breaker.reset_requested'>): SlackMessage {
  const count = d.state === 'requested' ? ` (${d.failuresInARow} failed restores in a row)` : '';
  const text = `🔌 ${userRef(d.requester)} asks to reset the circuit breaker${count}. Reason: ${line(d.reason, 500)}`;
  const blocks: KnownBlock[] = [
    header(d.state === 'requested' ? 'Breaker reset: approval needed' : 'Breaker reset: approved'),
    section(text),
  ];
  if (d.state === 'requested') {
    blocks.push(
      context(
        'Approvals of every request are stopped until someone other than the requester approves this reset.',
      ),
    );
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: ACTION.breakerResetApprove,
          text: plain('Approve reset'),
          style: 'primary',
          value: d.resetId,
        },
      ],
    });
  }
  blocks.push(context(`Reset ${code(d.resetId)}`));
  return message(text, blocks);
}

export function breakerResetApprovedView(d: AuditData<'breaker.reset_approved'>): SlackMessage {
  const text = `✅ Circuit breaker reset, approved by ${userRef(d.approvedBy)} (asked by ${userRef(d.requester)}: ${line(d.reason, 300)}). Approvals count again.`;
  return message(text, [section(text)]);
}

export function policyRefusedView(d: AuditData<'policy.refused'>): SlackMessage {
  const text =
    d.rule === 'hourly_limit'
      ? `Refused by the hourly limit: ${d.used ?? '?'} of ${d.max ?? '?'} destructive requests in the last hour.`
      : `Refused by the circuit breaker: ${d.failuresInARow ?? '?'} failed restores in a row.`;
  return message(text, [mrkdwnSection(text)]);
}

function mrkdwnSection(text: string): KnownBlock {
  return { type: 'section', text: mrkdwn(escapeMrkdwn(text)) };
}

export const BREAKER_TEXT = {
  notOpen: {
    message: 'The circuit breaker is closed: approvals are not stopped, so there is nothing to reset.',
  },
  alreadyAsked: (requester: string) => ({
    message: `A reset is already waiting for approval (asked by ${mention(requester)}). Ask someone else to approve it in the channel.`,
  }),
  asked: { message: 'Reset requested. Someone other than you has to approve it in the channel.' },
  ownReset: { message: 'You asked for this reset, so someone else must approve it.' },
  noneWaiting: { message: 'This reset is no longer waiting: it was approved already.' },
  approved: { message: 'Breaker reset: approvals count again.' },
  needsReason: {
    message: `A breaker reset needs a reason: ${SLASH_COMMAND} breaker-reset --reason <what was fixed>.`,
  },
} as const;
