import type { RecoveryRequest } from '../approval/types.js';
import type { LockState } from '../recovery/lock-state.js';
import type { UnlockPlan } from '../recovery/unlock.js';
import { SLASH_COMMAND } from '../slack-ids.js';
import { code, escapeMrkdwn, line, userRef } from './escape.js';
import { formatTime } from './format.js';
import { resultField } from './request.js';

/** The wording of an `unlock` request (break-glass) on its approval message. */

function holderText(lock: LockState): string {
  return `${userRef(line(lock.holder, 100))}${lock.requestId ? ` for request ${code(lock.requestId)}` : ''}`;
}

/** What the approver decides on: who holds the lock, since when, for which request, and whether the holder is gone. */
export function unlockPreviewText(plan: UnlockPlan, now: Date): string {
  const lock = plan.lock;
  const held = `*Lock held by* ${holderText(lock)} since ${escapeMrkdwn(formatTime(lock.since, now))}`;
  const holder = lock.gone
    ? `⚠️ *Holder gone* since ${escapeMrkdwn(formatTime(lock.expiresAt, now, { seconds: true }))} (its lease ran out unrenewed): the next restore would take it over anyway.`
    : `🔒 *Holder still renewing* (lease until ${escapeMrkdwn(formatTime(lock.expiresAt, now, { seconds: true }))}): if it is running, breaking stops it at its next renewal and it writes nothing after.`;
  return [
    `${held} (seen ${escapeMrkdwn(formatTime(plan.createdAt, now, { seconds: true }))}).`,
    holder,
    '*On approval:* the lock is removed only if this same lease still holds it; a lock released or taken by someone else meanwhile is left alone. Nothing in Redis is written.',
  ].join('\n');
}

/** The Approve button's confirmation (plain text: ids and times only). */
export function unlockConfirmText(plan: UnlockPlan): string {
  const by = plan.lock.requestId ? ` for request ${plan.lock.requestId}` : '';
  return `The lock on ${plan.conversationId} held by ${plan.lock.holder}${by} is removed if that lease still holds it.${plan.lock.gone ? '' : ' Its holder is still renewing it and stops at its next renewal.'}`;
}

/** The line that replaces the buttons once the unlock ran. */
export function unlockStatusLine(
  req: RecoveryRequest,
  state: 'succeeded' | 'failed',
  approved: string,
): string {
  const inspect = code(`${SLASH_COMMAND} inspect ${req.conversationId}`);
  if (state === 'succeeded')
    return `🔓 Lock broken — ${approved}. Next: ${inspect} before deciding on a restore.`;
  const why = resultField(req, 'error');
  return `⏹️ Nothing broken — ${approved}${why ? `: ${line(why, 500)}` : '.'} Next: ${inspect}.`;
}
