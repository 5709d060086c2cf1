import { SLASH_COMMAND } from '../slack-ids.js';
import { USAGE_LINES, VERBS } from '../slack-verbs.js';
import { code, escapeMrkdwn } from './escape.js';
import { context, type EphemeralMessage, ephemeral, header, message, section } from './slack.js';

// The verb table owns the syntax, so help can never drift from what the parser accepts (nor
// from the CLI's usage, generated from the same table).
function usageList(): string {
  return USAGE_LINES.map((line) => `• ${code(line.syntax)} — ${escapeMrkdwn(line.summary)}`).join('\n');
}

export function helpView(): EphemeralMessage {
  return ephemeral(
    message(`Zeus recovery — ${SLASH_COMMAND} ${VERBS.join(', ')}; bare ${SLASH_COMMAND} opens a form.`, [
      header('Zeus recovery — /zeus-recover'),
      section(usageList()),
      section(
        [
          '*How it works*',
          '• Read-only commands (inspect, validate, diff, export) answer at once in the thread; list answers only you, a page at a time.',
          '• restore, undo and replay need one approval from someone other than you; Redis is backed up before every write, so every restore can be undone.',
          '• Everything about a conversation goes into one thread in this channel, from the audit log.',
          '• Works only in incident channels (e.g. #inc-1234).',
        ].join('\n'),
      ),
      context(
        `Start with ${code(`${SLASH_COMMAND} inspect c-7f3a9e`)}. Slack down? The CLI does the same: ${code('zeus-recover --help')}.`,
      ),
    ]),
  );
}

/**
 * A command that did not parse, readable on a phone: what was wrong (the grammar's message,
 * which already wraps user input in code spans), the fixed command to copy, and the one usage
 * line of the verb concerned, never the whole table.
 */
export function usageError(
  messageText: string,
  suggestion?: string | null,
  usage?: string | null,
): EphemeralMessage {
  const lines = [`⚠️ ${escapeMrkdwn(messageText)}`];
  if (suggestion) lines.push(`Try: ${code(suggestion)}`);
  const verbLine = usage?.split('\n').find((l) => l.trim() !== '');
  if (verbLine) lines.push(`Usage: ${code(verbLine.trim())}`);
  return ephemeral(
    message(`${escapeMrkdwn(messageText)}${suggestion ? ` Try: ${code(suggestion)}` : ''}`, [
      section(lines.join('\n')),
      context(`${code(`${SLASH_COMMAND} help`)} lists every command.`),
    ]),
  );
}

/** The parser's `CommandError`, as is. */
export function commandErrorView(err: {
  message: string;
  suggestion: string | null;
  usage: string;
}): EphemeralMessage {
  return usageError(err.message, err.suggestion, err.usage);
}
