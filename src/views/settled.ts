import type { RequestSettledData } from '../approval/settle-stuck.js';
import { isReplayPlan, isUnlockPlan } from '../approval/types.js';
import { SLASH_COMMAND } from '../slack-ids.js';
import { code, escapeMrkdwn, line } from './escape.js';
import { formatTime, shortChecksum } from './format.js';
import { askAgainCommand, operationPhrase } from './request.js';
import { context, message, type SlackMessage, section } from './slack.js';

/**
 * The thread reply for a request the bot settled after a crash or restart (`request.settled`):
 * what happened to it, that it was NOT run again, and what the people in the thread do next.
 */
export type SettledViewInput = RequestSettledData;

const DETAIL_MAX = 600;

function headline(d: SettledViewInput): string {
  const what = operationPhrase(d.request);
  const replay = isReplayPlan(d.request.plan);
  const stopped = 'The bot stopped';
  if (isUnlockPlan(d.request.plan) && d.reached !== 'not_started') return unlockHeadline(d, what);
  switch (d.outcome) {
    case 'failed':
      if (d.reached === 'not_started')
        return `🛑 ${stopped} after ${what} was approved and before it started: *nothing ran, nothing was written*.`;
      if (d.reached === 'before_write')
        return replay
          ? `🛑 ${stopped} during ${what}, before sending it to Zeus: *nothing was sent*.`
          : `🛑 ${stopped} during ${what}, before writing to Redis: *nothing was written*.`;
      return replay
        ? `🛑 ${stopped} during ${what}; Zeus had reported it *failed*.`
        : `🛑 ${stopped} during ${what}; Redis still holds the previous value, so *nothing was written*.`;
    case 'succeeded':
      return replay
        ? `✅ ${stopped} during ${what}, after Zeus reported it *done*.`
        : `✅ ${stopped} during ${what}, but Redis holds the new value: *the restore landed*.`;
    case 'unknown':
      return replay
        ? `❓ ${stopped} during ${what}, after it may have been sent to Zeus: *whether Zeus ran it is not known here*.`
        : `❓ ${stopped} during ${what}: *the outcome is unknown* — Redis holds neither the previous nor the new value, or could not be read.`;
  }
}

/** An unlock writes only the lock row: its verdict comes from the audit log (approval/settle-stuck.ts). */
function unlockHeadline(d: SettledViewInput, what: string): string {
  switch (d.outcome) {
    case 'succeeded':
      return `✅ The bot stopped during ${what}, after it had *broken the lock*.`;
    case 'failed':
      return `🛑 The bot stopped during ${what}; the lock had been released or taken meanwhile, so *nothing was broken*.`;
    case 'unknown':
      return `❓ The bot stopped during ${what}: *whether it broke the lock is not known*.`;
  }
}

function nextSteps(d: SettledViewInput): string {
  const id = d.request.conversationId;
  const inspect = code(`${SLASH_COMMAND} inspect ${id}`);
  if (isUnlockPlan(d.request.plan)) {
    return `*Next:* see with ${inspect} whether the lock is still held, and by whom, before asking for anything else.`;
  }
  const validate = code(`${SLASH_COMMAND} validate ${id}`);
  const undo = d.backupId ? code(`${SLASH_COMMAND} undo ${d.backupId}`) : null;
  if (isReplayPlan(d.request.plan)) {
    if (d.outcome === 'failed') {
      return `*Next:* check Zeus's status with ${validate}; if the replay is still needed, ask again: ${code(askAgainCommand(d.request))}`;
    }
    return `*Next:* check Zeus's status with ${validate} before anything else. Do not replay again until Zeus shows this run ended.`;
  }
  switch (d.outcome) {
    case 'failed':
      return `*Next:* nothing to undo. Check the conversation with ${inspect}; if the restore is still needed, ask again: ${code(askAgainCommand(d.request))}`;
    case 'succeeded':
      return `*Next:* check it with ${validate}.${undo ? ` To put back what Redis held before: ${undo}` : ''}`;
    case 'unknown':
      return `*Next:* check what Redis holds with ${inspect} before asking for anything else.${undo ? ` The previous value is in backup ${code(d.backupId ?? '')}; ${undo} puts it back.` : ''}`;
  }
}

export function requestSettledView(d: SettledViewInput, ctx: { now: Date }): SlackMessage {
  const head = headline(d);
  const body = [head, `It was *not run again*. ${line(d.detail, DETAIL_MAX)}`, nextSteps(d)].join('\n');
  const facts = [`Request ${code(d.request.id)}`, 'settled by the bot after its run was left unfinished'];
  if (d.leaseExpiredAt)
    facts.push(`its lease ran out at ${escapeMrkdwn(formatTime(d.leaseExpiredAt, ctx.now))}`);
  if (d.reached === 'write' && (d.before !== null || d.after !== null)) {
    facts.push(
      `previous ${code(shortChecksum(d.before))} · new ${code(shortChecksum(d.after))} · Redis now ${code(d.observed === 'unreadable' ? 'unreadable' : shortChecksum(d.observed))}`,
    );
  }
  return message(head, [section(body), context(...facts)]);
}
