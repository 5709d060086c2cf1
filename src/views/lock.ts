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
  d: { lock: LockState; reason: string },
  ctx: { conversationId: string; actor: string; now?: Date },
): SlackMessage {
  const was = `${userRef(line(d.lock.holder, 100))}${d.lock.requestId ? ` for request ${code(d.lock.requestId)}` : ''}`;
  const state = d.lock.gone
    ? `its holder was gone since ${formatTime(d.lock.expiresAt, ctx.now, { seconds: true })}`
    : 'its holder was still renewing it: if it was running, it stops at its next renewal and writes nothing after';
  const text =
    `🔓 *Lock on ${code(ctx.conversationId)} broken* by ${userRef(ctx.actor)} — held by ${was} since ${formatTime(d.lock.since, ctx.now)}; ${state}. ` +
    `Reason: ${escapeMrkdwn(line(d.reason, 500))}. Next: inspect ${code(ctx.conversationId)} before deciding on a restore.`;
  return message(text.replace(/\*/g, ''), [section(text)]);
}
