import { isReplayPlan, isUnlockPlan, type RecoveryRequest, type RequestState } from '../approval/types.js';
import { assertNever } from '../assert-never.js';
import type { RestorePlan } from '../recovery/plan.js';
import type { ReplayPlan } from '../recovery/replay.js';
import type { StepSummary } from '../recovery/types.js';
import { ACTION, type ActionId, SLASH_COMMAND } from '../slack-ids.js';
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
import { breakGlassStatus, groupProgressText } from './policies.js';
import { zeusStepsNote } from './replay.js';
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
import { unlockConfirmText, unlockPreviewText, unlockStatusLine } from './unlock-request.js';

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
/** Enough to recognise where the replay lands; the rest is a count, not a wall of lines. */
const REPLAY_STEPS_SHOWN = 15;
/** Zeus's own words about a run can be long; the message must still show the status beside them. */
const DETAIL_MAX = 1000;
/** One list line: long enough for any real warning, short enough that the list's tail survives. */
const LINE_MAX = 300;

const STATE_TITLE: Record<RequestState, string> = {
  requested: 'Approval needed',
  approved: 'Approved',
  executing: 'Executing',
  succeeded: 'Done',
  failed: 'Failed',
  unknown: 'Outcome unknown',
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

/** Whether the read-back found the written copy valid, from either shape a request's result takes. */
function readBackValid(req: RecoveryRequest): boolean | null {
  const r = req.result ?? {};
  if (typeof r.valid === 'boolean') return r.valid;
  const v = r.validation;
  return v !== null && typeof v === 'object' && 'valid' in v && typeof v.valid === 'boolean' ? v.valid : null;
}

/**
 * What Redis holds once the restore is done. The result keeps only the read-back checksum; when
 * it is the one the plan meant to write, the plan's steps and size describe it exactly.
 */
function nowHolds(req: RecoveryRequest, plan: RestorePlan): string {
  const after = resultField(req, 'after');
  if (after === null)
    return plan.target.exists ? 'could not be read back — check with inspect' : 'nothing (key deleted)';
  const valid = readBackValid(req);
  const check = valid === null ? '' : valid ? ' · ✅ valid' : ' · ⚠️ not valid';
  if (after === plan.target.checksum) return `${copyLine(plan.target)}${check}`;
  return `${code(shortChecksum(after))}${check} (not the copy planned: someone else wrote since — check with inspect)`;
}

function previewText(req: RecoveryRequest, plan: RestorePlan, state: RequestState): string {
  const { current, target } = plan;
  const held = current.exists ? `${copyLine(current)} · ${formatTtl(current.ttlMs)}` : 'missing (no key)';
  const change = `*Change:* ${line(plan.diffSummary, LINE_MAX)}`;
  // Once it ran, "Redis now" would be the stale plan: say what it held before and holds now.
  if (state === 'succeeded') {
    return [`*Redis before:* ${held}`, `*Redis now:* ${nowHolds(req, plan)}`, change].join('\n');
  }
  const finished = state === 'failed' || state === 'unknown';
  return [
    `*${finished ? 'Redis before' : 'Redis now'}:* ${held}`,
    `*${finished ? 'Meant to hold' : 'Will hold'}:* ${target.exists ? copyLine(target) : 'nothing — the key is deleted'}`,
    change,
  ].join('\n');
}

/** `steps 5–8` / `step 8`: the range Zeus runs again, from the plan's own bounds. */
function stepRange(plan: ReplayPlan): string {
  return plan.fromStep >= plan.stepCount
    ? `step ${plan.fromStep}`
    : `steps ${plan.fromStep}–${plan.stepCount}`;
}

/** Roles and times come from the stored conversation, so they are shown escaped and short. */
function stepLine(s: StepSummary, now: Date): string {
  const role = s.role === null ? '_no role_' : line(s.role, 40);
  // To the second: steps a few seconds apart must not all read as the same minute.
  const at = s.ts === null ? '' : ` · ${escapeMrkdwn(formatTime(s.ts, now, { seconds: true }))}`;
  return `• *${s.step}* · ${role}${at}`;
}

function replayPreviewText(plan: ReplayPlan, now: Date): string {
  const checkpoint = plan.checkpoint === null ? 'no checkpoint' : `checkpoint at step ${plan.checkpoint}`;
  const steps =
    plan.steps.length === 0
      ? ['_no steps listed_']
      : firstLines(plan.steps, REPLAY_STEPS_SHOWN, (s) => stepLine(s, now), 'step');
  return [
    `*Zeus will run again:* ${stepRange(plan)} of ${plan.stepCount} (${plural(plan.steps.length, 'step')}) · ${checkpoint}`,
    ...steps,
    `*Bound to Redis* ${code(shortChecksum(plan.redisChecksum))}: if the conversation changes before the replay starts, nothing is sent to Zeus.`,
  ].join('\n');
}

function warningsText(warnings: readonly string[]): string {
  const render = (w: string): string => `⚠️ ${line(w, LINE_MAX)}`;
  return firstLines(warnings, WARNINGS_SHOWN, render, 'warning').join('\n');
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
  const p = req.plan;
  if (isReplayPlan(p)) {
    const early =
      p.checkpoint !== null && p.fromStep < p.checkpoint ? ' Steps before the checkpoint run again too.' : '';
    return `Zeus runs ${stepRange(p)} of ${id} again (${plural(p.steps.length, 'step')}). This changes the live conversation.${early}`;
  }
  if (isUnlockPlan(p)) return unlockConfirmText(p);
  const steps = p.target.analysis?.stepCount;
  const copy = steps === null || steps === undefined ? 'copy' : `copy (${plural(steps, 'step')})`;
  switch (req.kind) {
    case 'undo':
      return `Redis for ${id} goes back to what backup ${backupIdOf(req) ?? p.sourceLabel} holds. What is there now is backed up first.`;
    case 'restore':
      return `Redis for ${id} is overwritten with the ${p.sourceLabel} ${copy}. What is there now is backed up first and can be undone.`;
    case 'replay':
    case 'unlock':
      // Their wording comes from their plans (above); this is such a request whose stored plan
      // is not one, shown plainly rather than hidden.
      return `${req.kind} ${id} was asked for. Look at the thread before approving.`;
  }
  return assertNever(req.kind, 'request kind');
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

export const RENEW_BUTTON_LABEL = 'Renew';

function renewButton(req: RecoveryRequest): KnownBlock {
  return {
    type: 'actions',
    block_id: 'request_renew_actions',
    elements: [
      {
        type: 'button',
        action_id: ACTION.requestRenew,
        text: plain(RENEW_BUTTON_LABEL),
        value: req.id,
        confirm: {
          title: plain('Renew this request?'),
          text: plain(
            clip(
              `A fresh preview of ${operationTitle(req)} is made from the stores now and posted as a new request; it needs approval again.`,
              300,
            ),
          ),
          confirm: plain('Renew'),
          deny: plain('Not now'),
        },
      },
    ],
  };
}

/**
 * A finished replay, from the ReplayResult-like fields the workflow keeps in `result`. A replay
 * that timed out or whose fate is unknown must not read as done or failed: someone has to look
 * at Zeus before doing anything else.
 */
function replayStatusLine(req: RecoveryRequest, state: 'succeeded' | 'failed', approved: string): string {
  const outcome = resultField(req, 'outcome');
  const detail = resultField(req, 'detail') ?? resultField(req, 'error') ?? resultField(req, 'message');
  const replayId = resultField(req, 'replayId');
  const said = detail ? ` ${line(detail, DETAIL_MAX)}` : '';
  const id = replayId ? ` Replay ${code(replayId)}.` : '';
  const check = ` Check Zeus's status with ${code(`${SLASH_COMMAND} validate ${req.conversationId}`)} before running it again.`;
  if (outcome === 'timed_out') return `⌛ Stopped following it — ${approved}.${said}${id}${check}`;
  if (outcome === 'unknown') return `❓ Outcome unknown — ${approved}.${said}${id}${check}`;
  if (state === 'failed') return `❌ Failed${said ? `:${said}` : ''}${id}`;
  const status = req.result?.status;
  const steps = zeusStepsNote(
    typeof status === 'object' && status !== null ? (status as { total?: number | null }) : null,
    isReplayPlan(req.plan) ? req.plan.stepCount : null,
  );
  return `✅ Done — ${approved}.${said}${steps ? ` ${steps}` : ''}${id} Next: ${code(`${SLASH_COMMAND} validate ${req.conversationId}`)}`;
}

/** The line that replaces the buttons once the request is decided, or null while it waits. */
export function statusLine(req: RecoveryRequest, now: Date): string | null {
  const approvedAt = req.approvals.at(-1)?.at;
  const approved = `approved by ${approversText(req)}${approvedAt ? ` at ${escapeMrkdwn(formatTime(approvedAt, now))}` : ''}`;
  const decidedAt = req.decidedAt ? ` at ${escapeMrkdwn(formatTime(req.decidedAt, now))}` : '';
  const decidedBy = req.decidedBy ? userRef(req.decidedBy) : 'someone';
  const state = effectiveState(req, now);
  if ((state === 'succeeded' || state === 'failed') && isReplayPlan(req.plan)) {
    return replayStatusLine(req, state, approved);
  }
  if ((state === 'succeeded' || state === 'failed') && isUnlockPlan(req.plan)) {
    return unlockStatusLine(req, state, approved);
  }
  switch (state) {
    case 'requested':
      return null;
    case 'approved':
      return `✅ ${approved.charAt(0).toUpperCase()}${approved.slice(1)} — starting now`;
    case 'executing':
      return `▶️ Executing… (${approved})`;
    case 'succeeded': {
      const backup = resultField(req, 'backupId');
      // The result in the thread carries the Undo button, replaced once used: a command here
      // would still offer to undo after the undo.
      return `✅ Done — ${approved}.${backup ? ' To undo it, use Undo on the result in the thread.' : ''}`;
    }
    case 'failed': {
      const error = resultField(req, 'error') ?? resultField(req, 'message');
      const backup = resultField(req, 'backupId');
      return `❌ Failed${error ? `: ${line(error, LINE_MAX)}` : ''}${backup ? ` — the previous value is in backup ${code(backup)}` : ''}`;
    }
    case 'unknown': {
      const detail = resultField(req, 'detail') ?? resultField(req, 'error');
      const backup = resultField(req, 'backupId');
      const backupNote =
        backup && !detail?.includes(backup) ? `; the previous value is in backup ${code(backup)}` : '';
      return `❓ Outcome unknown — ${approved}.${detail ? ` ${line(detail, DETAIL_MAX)}` : ''} Check with ${code(`${SLASH_COMMAND} inspect ${req.conversationId}`)} before anything else${backupNote}.`;
    }
    case 'denied':
      return `❌ Denied by ${decidedBy}${decidedAt}${req.denyReason ? `: ${line(req.denyReason, 1000)}` : ''}`;
    case 'expired':
      return expiredSentence(req, now);
    case 'cancelled':
      // Only the bot gives a reason (a stale preview, store/requests.ts markStale): without it the
      // card said "Cancelled by the bot" and nothing of why.
      return `🚫 Cancelled by ${decidedBy}${decidedAt}${req.denyReason ? `: ${line(req.denyReason, 1000)}` : ''}`;
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
  const groups = groupProgressText(req);
  if (groups) lines.push(groups);
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
  const p = req.plan;
  const what = isReplayPlan(p)
    ? `*Replay from*\nstep ${p.fromStep} of ${p.stepCount}`
    : isUnlockPlan(p)
      ? `*Lock*\n${p.lock.gone ? 'holder gone' : 'held'}`
      : `*Source*\n${code(p.sourceLabel)}`;
  const blocks: KnownBlock[] = [
    header(title),
    fieldsSection([
      `*Requested by*\n${userRef(req.requester)}`,
      `*Conversation*\n${code(req.conversationId)}`,
      what,
      `*Requested at*\n${escapeMrkdwn(formatTime(req.createdAt, ctx.now))}`,
    ]),
    section(reasonText(req.reason)),
  ];
  if (isReplayPlan(p)) {
    // Above the step list: a replay that re-runs checkpointed work is the thing an approver must not miss.
    if (p.warnings.length > 0) blocks.push(section(warningsText(p.warnings)));
    blocks.push(section(replayPreviewText(p, ctx.now)));
  } else if (isUnlockPlan(p)) {
    blocks.push(section(unlockPreviewText(p, ctx.now)));
  } else {
    blocks.push(section(previewText(req, p, state)));
    if (p.warnings.length > 0) blocks.push(section(warningsText(p.warnings)));
  }
  if (ctx.inspect) {
    const tiers = ctx.inspect.tiers;
    blocks.push(context(...TIER_ORDER.map((name) => compactTier(name, tiers[name]))));
  }
  const status = statusLine(req, ctx.now);
  if (status === null) blocks.push(section(waitingText(req, ctx)), actionButtons(req));
  else blocks.push(context(status));
  // Stored as expired (not merely past its time): Renew files it again after a fresh preview,
  // once; then the card says which request it became.
  if (req.state === 'expired') {
    const renewedAs = resultField(req, 'renewedAs');
    if (renewedAs)
      blocks.push(context(`🔁 Renewed as ${code(renewedAs)}: its fresh preview is further down the thread.`));
    else if (resultField(req, 'renewedBy') === null) blocks.push(renewButton(req));
  }
  const glass = breakGlassStatus(req);
  if (glass) blocks.push(section(glass));
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
