import { SLASH_COMMAND } from '../slack-ids.js';
import { USAGE_LINES, VERBS, verbUsage } from '../slack-verbs.js';
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

const SHORT_USAGE = [verbUsage('inspect'), verbUsage('restore')];

/**
 * A command that did not parse: what was wrong (the grammar's message, which already wraps user
 * input in code spans), the closest valid command, and the usage of the verb concerned.
 */
export function usageError(
  messageText: string,
  suggestion?: string | null,
  usage?: string | null,
): EphemeralMessage {
  const usageLines = usage ? usage.split('\n').filter((l) => l.trim() !== '') : SHORT_USAGE;
  const blocks = [section(`⚠️ ${escapeMrkdwn(messageText)}`)];
  if (suggestion) blocks.push(section(`Did you mean ${code(suggestion)}?`));
  blocks.push(
    section(
      `*Usage*\n${usageLines
        .slice(0, 12)
        .map((l) => code(l))
        .join('\n')}`,
    ),
  );
  return ephemeral(
    message(`${escapeMrkdwn(messageText)}${suggestion ? ` Did you mean ${code(suggestion)}?` : ''}`, [
      ...blocks,
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
