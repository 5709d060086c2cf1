import { code, escapeMrkdwn, oneLine } from './escape.js';
import { clip } from './limits.js';
import { context, message, type SlackMessage } from './slack.js';

/** The OS user of an audit actor written by the CLI (`cli:alice`), or null for anyone else. */
export function cliUser(actor: unknown): string | null {
  if (typeof actor !== 'string' || !actor.startsWith('cli:')) return null;
  const user = oneLine(actor.slice(4));
  return user === '' ? 'unknown' : clip(user, 64);
}

const mark = (user: string): string => `🖥️ via CLI (${escapeMrkdwn(user)})`;

/** The CLI's command line, first in the thread like a typed slash command. */
export function cliCommandEchoView(user: string, commandText: string): SlackMessage {
  const text = `${mark(user)}: ${code(clip(commandText, 500))}`;
  return message(text, [context(text)]);
}

/**
 * A thread message for an entry the CLI wrote, marked so the thread says which face acted: the
 * CLI works without Slack, and its entries reach the thread only through the audit log.
 */
export function markedViaCli(
  entry: { action: string; data: Record<string, unknown> },
  shown: SlackMessage,
  user: string,
): SlackMessage {
  if (entry.action === 'command.received' && typeof entry.data.command === 'string') {
    return cliCommandEchoView(user, entry.data.command);
  }
  return message(`${shown.text} — ${mark(user)}`, [...shown.blocks, context(mark(user))]);
}
