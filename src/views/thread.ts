import { code, escapeMrkdwn, oneLine, userRef } from './escape.js';
import { clip } from './limits.js';
import { context, message, type SlackMessage, section } from './slack.js';

/** The parent of a conversation's incident thread; everything later is a reply to it. */
export function threadRootView(conversationId: string): SlackMessage {
  const id = escapeMrkdwn(conversationId);
  return message(`Zeus recovery: ${id}`, [
    section(`🛟 *Zeus recovery: ${code(conversationId)}*`),
    context(
      '🧵 This thread holds the whole story of this recovery — every command, report, approval and result, in order, as recorded in the audit log.',
    ),
  ]);
}

/**
 * Who asked for what, first in the thread, so every report that follows has its author. A click
 * is echoed as a click: "ran `/zeus-recover undo …`" would claim a command nobody typed.
 */
export function commandEchoView(userId: string, commandText: string, clicked?: string): SlackMessage {
  const who = userRef(userId);
  const cmd = code(clip(commandText, 500));
  if (!clicked) return message(`${who} ran ${cmd}`, [context(`${who} ran ${cmd}`)]);
  const label = escapeMrkdwn(clip(oneLine(clicked), 75));
  return message(`${who} clicked ${label} (${cmd})`, [context(`${who} clicked *${label}* (${cmd})`)]);
}
