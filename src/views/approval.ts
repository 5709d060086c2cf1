import type { RecoveryRequest, RequestState } from '../approval/types.js';
import { type ActionId, SLASH_COMMAND } from '../commands/registry.js';
import type { RestorePlan } from '../recovery/plan.js';
import { code, escapeExceptMentions, escapeMrkdwn, line, oneLine, userRef } from './escape.js';
import {
  firstLines,
  formatBytes,
  formatRelative,
  formatTime,
  formatTtl,
  isPast,
  plural,
  shortChecksum,
} from './format.js';
import { clip, truncate } from './limits.js';
import { approversText, backupIdOf, expiredSentence, operationTitle, resultField } from './request.js';
import {
  type Button,
  context,
  fieldsSection,
  header,
  type KnownBlock,
  message,
  plain,
  type SlackMessage,
  section,
} from './slack.js';
import { compactTier, type InspectSummary, TIER_ORDER } from './tiers.js';

export interface ApprovalContext {
  inspect?: InspectSummary | undefined;
  /** Who may approve, as app-built mrkdwn: user/usergroup mentions stay live, the rest is escaped. */
  approverHint: string;
  now: Date;
}

export const REQUEST_ACTIONS_BLOCK_ID = 'request_actions';
export const REQUEST_ACTION: Record<'approve' | 'deny' | 'cancel', ActionId> = {
  approve: 'request_approve',
  deny: 'request_deny',
  cancel: 'request_cancel',
};

const REASON_MAX = 1500;
const WARNINGS_SHOWN = 5;
/** One list line: long enough for any real warning, short enough that the list's tail survives. */
const LINE_MAX = 300;

const STATE_TITLE: Record<RequestState, string> = {
  requested: 'Approval needed',
  approved: 'Approved',
  executing: 'Executing',
  succeeded: 'Done',
  failed: 'Failed',
  denied: 'Denied',
  expired: 'Expired',
  cancelled: 'Cancelled',
};

/** A request still waiting, but past its expiry, is shown expired: its buttons could only fail. */
function effectiveState(req: RecoveryRequest, now: Date): RequestState {
  return req.state === 'requested' && isPast(req.expiresAt, now) ? 'expired' : req.state;
}

function copyLine(side: {
  exists: boolean;
  checksum: string | null;
  bytes: number;
  analysis: RestorePlan['current']['analysis'];
}): string {
  const steps = side.analysis?.stepCount;
  const validity = side.analysis ? (side.analysis.valid ? '' : ' · ⚠️ not valid') : '';
  return `${steps === null || steps === undefined ? 'steps unknown' : plural(steps, 'step')} · ${code(shortChecksum(side.checksum))} · ${formatBytes(side.bytes)}${validity}`;
}

function previewText(req: RecoveryRequest): string {
  const { current, target } = req.plan;
  const now = current.exists ? `${copyLine(current)} · ${formatTtl(current.ttlMs)}` : 'missing (no key)';
  const lines = [`*Redis now:* ${now}`];
  if (req.kind !== 'replay')
    lines.push(`*Will hold:* ${target.exists ? copyLine(target) : 'nothing — the key is deleted'}`);
  lines.push(`*Change:* ${line(req.plan.diffSummary, LINE_MAX)}`);
  return lines.join('\n');
}

/** The requester's words, quoted so they cannot pass for the bot's own lines. */
function reasonText(reason: string): string {
  const body = reason.trim() === '' ? '_no reason given_' : truncate(escapeMrkdwn(reason.trim()), REASON_MAX);
  return `*Reason*\n${body
    .split('\n')
    .map((l) => `>${l}`)
    .join('\n')}`;
}

/** Plain text built only from validated ids and counts: free text has no place in a dialog. */
function confirmText(req: RecoveryRequest): string {
  const id = req.conversationId;
  const steps = req.plan.target.analysis?.stepCount;
  const copy = steps === null || steps === undefined ? 'copy' : `copy (${plural(steps, 'step')})`;
  switch (req.kind) {
    case 'undo':
      return `Redis for ${id} goes back to what backup ${backupIdOf(req) ?? req.plan.sourceLabel} holds. What is there now is backed up first.`;
    case 'restore':
      return `Redis for ${id} is overwritten with the ${req.plan.sourceLabel} ${copy}. What is there now is backed up first and can be undone.`;
    default:
      return `Zeus is asked to ${req.kind} ${id}. This changes the live conversation.`;
  }
}

function actionButtons(req: RecoveryRequest): KnownBlock {
  // The value is the request id only: who clicked comes from Slack's signed payload, never from us.
  const approve: Button = {
    type: 'button',
    action_id: REQUEST_ACTION.approve,
    text: plain('Approve'),
    style: 'primary',
    value: req.id,
    confirm: {
      title: plain(clip(`Approve: ${operationTitle(req)}?`, 100)),
      text: plain(clip(confirmText(req), 300)),
      confirm: plain('Approve'),
      deny: plain('Not yet'),
    },
  };
  return {
    type: 'actions',
    block_id: REQUEST_ACTIONS_BLOCK_ID,
    elements: [
      approve,
      { type: 'button', action_id: REQUEST_ACTION.deny, text: plain('Deny'), style: 'danger', value: req.id },
      { type: 'button', action_id: REQUEST_ACTION.cancel, text: plain('Cancel request'), value: req.id },
    ],
  };
}

/** The line that replaces the buttons once the request is decided, or null while it waits. */
export function statusLine(req: RecoveryRequest, now: Date): string | null {
  const approvedAt = req.approvals.at(-1)?.at;
  const approved = `approved by ${approversText(req)}${approvedAt ? ` at ${escapeMrkdwn(formatTime(approvedAt, now))}` : ''}`;
  const decidedAt = req.decidedAt ? ` at ${escapeMrkdwn(formatTime(req.decidedAt, now))}` : '';
  const decidedBy = req.decidedBy ? userRef(req.decidedBy) : 'someone';
  switch (effectiveState(req, now)) {
    case 'requested':
      return null;
    case 'approved':
      return `✅ ${approved.charAt(0).toUpperCase()}${approved.slice(1)} — starting now`;
    case 'executing':
      return `▶️ Executing… (${approved})`;
    case 'succeeded': {
      const backup = resultField(req, 'backupId');
      return `✅ Done — ${approved}.${backup ? ` Undo: ${code(`${SLASH_COMMAND} undo ${backup}`)}` : ''}`;
    }
    case 'failed': {
      const error = resultField(req, 'error') ?? resultField(req, 'message');
      const backup = resultField(req, 'backupId');
      return `❌ Failed${error ? `: ${line(error, LINE_MAX)}` : ''}${backup ? ` — the previous value is in backup ${code(backup)}` : ''}`;
    }
    case 'denied':
      return `❌ Denied by ${decidedBy}${decidedAt}${req.denyReason ? `: ${line(req.denyReason, 1000)}` : ''}`;
    case 'expired':
      return expiredSentence(req, now);
    case 'cancelled':
      return `🚫 Cancelled by ${decidedBy}${decidedAt}`;
  }
}

function waitingText(req: RecoveryRequest, ctx: ApprovalContext): string {
  const remaining = Math.max(1, req.requiredApprovals - req.approvals.length);
  const more = req.approvals.length > 0 ? 'more ' : '';
  const lines = [
    `⏳ Expires at ${escapeMrkdwn(formatTime(req.expiresAt, ctx.now))}, ${formatRelative(req.expiresAt, ctx.now)}.`,
    `Needs ${plural(remaining, `${more}approval`)} from ${clip(escapeExceptMentions(oneLine(ctx.approverHint)), LINE_MAX, { markup: true })} (not the requester).`,
  ];
  if (req.approvals.length > 0) {
    lines.push(
      `👍 Approved so far by ${approversText(req)} (${req.approvals.length} of ${req.requiredApprovals}).`,
    );
  }
  return lines.join('\n');
}

/**
 * The approval message, in whatever state the request is: buttons while it waits (including a
 * partial approval), and a status line in their place once decided, so a stale message can never
 * offer a click that would do something.
 */
export function approvalMessageView(req: RecoveryRequest, ctx: ApprovalContext): SlackMessage {
  const state = effectiveState(req, ctx.now);
  const title = `${STATE_TITLE[state] ?? 'Request'}: ${operationTitle(req)}`;
  const blocks: KnownBlock[] = [
    header(title),
    fieldsSection([
      `*Requested by*\n${userRef(req.requester)}`,
      `*Conversation*\n${code(req.conversationId)}`,
      `*Source*\n${code(req.plan.sourceLabel)}`,
      `*Requested at*\n${escapeMrkdwn(formatTime(req.createdAt, ctx.now))}`,
    ]),
    section(reasonText(req.reason)),
    section(previewText(req)),
  ];
  if (req.plan.warnings.length > 0) {
    const render = (w: string): string => `⚠️ ${line(w, LINE_MAX)}`;
    blocks.push(section(firstLines(req.plan.warnings, WARNINGS_SHOWN, render, 'warning').join('\n')));
  }
  if (ctx.inspect) {
    const tiers = ctx.inspect.tiers;
    blocks.push(context(...TIER_ORDER.map((name) => compactTier(name, tiers[name]))));
  }
  const status = statusLine(req, ctx.now);
  if (status === null) blocks.push(section(waitingText(req, ctx)), actionButtons(req));
  else blocks.push(context(status));
  blocks.push(context(`Request ${code(req.id)}`));

  const who = userRef(req.requester);
  const text =
    status === null
      ? `${escapeMrkdwn(title)} — requested by ${who}, expires at ${escapeMrkdwn(formatTime(req.expiresAt, ctx.now))}. Reason: ${line(req.reason, 200)}`
      : `${escapeMrkdwn(title)} — ${status}`;
  return message(text, blocks);
}

/** The message as first posted. Same renderer: a request is only ever shown as it stands. */
export const approvalRequestView = approvalMessageView;

/** The message after a transition (posted via `chat.update`): buttons replaced by the outcome. */
export const approvalDecidedView = approvalMessageView;
