import { code, escapeMrkdwn, userRef } from './escape.js';
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

/** Who ran what, first in the thread, so every report that follows has its author. */
export function commandEchoView(userId: string, commandText: string): SlackMessage {
  const who = userRef(userId);
  const cmd = code(clip(commandText, 500));
  return message(`${who} ran ${cmd}`, [context(`${who} ran ${cmd}`)]);
}
