import type { LockState } from '../recovery/lock-state.js';
import { code, escapeMrkdwn, line, userRef } from './escape.js';
import { formatTime } from './format.js';
import { message, type SlackMessage, section } from './slack.js';

/**
 * A conversation's lock in one line for inspect: who holds it, for which request, since when;
 * a holder that stopped renewing is called gone. Null when the conversation is not locked.
 */
export function lockLine(lock: LockState | null | 'unreadable' | undefined, now?: Date): string | null {
  if (lock === undefined || lock === null) return null;
  if (lock === 'unreadable') {
    return '❔ *Lock: unknown* — Postgres did not answer, so whether a restore is running is not known. Inspect again when it answers.';
  }
  const who = userRef(line(lock.holder, 100));
  const forRequest = lock.requestId ? ` for request ${code(lock.requestId)}` : '';
  const since = formatTime(lock.since, now);
  if (lock.gone) {
    return (
      `⚠️ *Lock left behind* by ${who}${forRequest}, taken ${since}: *holder gone since ${formatTime(lock.expiresAt, now, { seconds: true })}* (its lease ran out unrenewed). ` +
      'The next restore takes it over and the sweeper settles what it left; nothing needs breaking.'
    );
  }
  return (
    `🔒 *Locked* by ${who}${forRequest} since ${since} (lease renewed until ${formatTime(lock.expiresAt, now, { seconds: true })}). ` +
    'A restore or replay is running: wait for its outcome in this thread before deciding on another.'
  );
}

/** The thread's note of a broken lock (`lock.broken`): whose it was, who broke it and why. */
export function lockBrokenView(
  d: { lock: LockState; reason: string; request?: { approvals: Array<{ userId: string }> } | undefined },
  ctx: { conversationId: string; actor: string; now?: Date },
): SlackMessage {
  const was = heldBy(d.lock);
  const state = d.lock.gone
    ? `its holder was gone since ${formatTime(d.lock.expiresAt, ctx.now, { seconds: true })}`
    : 'its holder was still renewing it: if it was running, it stops at its next renewal and writes nothing after';
  const text =
    `🔓 *Lock on ${code(ctx.conversationId)} broken* by ${userRef(ctx.actor)}${approvedBy(d.request)} — held by ${was} since ${formatTime(d.lock.since, ctx.now)}; ${state}. ` +
    `Reason: ${escapeMrkdwn(line(d.reason, 500))}. Next: inspect ${code(ctx.conversationId)} before deciding on a restore.`;
  return message(text.replace(/\*/g, ''), [section(text)]);
}

function heldBy(lock: LockState): string {
  return `${userRef(line(lock.holder, 100))}${lock.requestId ? ` for request ${code(lock.requestId)}` : ''}`;
}

/** A Slack unlock names who approved it; the CLI's has no request. */
function approvedBy(request: { approvals: Array<{ userId: string }> } | undefined): string {
  if (!request || request.approvals.length === 0) return '';
  return ` (approved by ${request.approvals.map((a) => userRef(a.userId)).join(', ')})`;
}

/** An approved unlock that found another lease, or none: nothing was broken (`lock.not_broken`). */
export function lockNotBrokenView(
  d: { lock: LockState; now: LockState | null },
  ctx: { conversationId: string; now?: Date },
): SlackMessage {
  const id = code(ctx.conversationId);
  const what = d.now
    ? `it changed hands since it was looked at: now held by ${heldBy(d.now)} since ${formatTime(d.now.since, ctx.now)}, so it was not broken. Decide again on that: ask for a new unlock only if that holder is stuck too`
    : 'the lock was released meanwhile, so there was nothing to break';
  const text =
    `⏹️ *Lock on ${id} not broken* — ${what}. It had been held by ${heldBy(d.lock)} since ${formatTime(d.lock.since, ctx.now)}. ` +
    `Next: inspect ${id}.`;
  return message(text.replace(/\*/g, ''), [section(text)]);
}
