import { isRecoveryError } from '../errors.js';
import { assertConversationId } from '../recovery/ids.js';
import { parseRestoreSource } from '../recovery/sources.js';
import { REASON_MAX_LENGTH } from '../slack-ids.js';
import { SOURCE_TEXT, type Verb, verbUsage } from '../slack-verbs.js';
import type { CommandError, GrammarOptions, SlackRestoreSource } from './parsed-command.js';
import { closest, fail, shown, suggest } from './suggestions.js';
import type { WordToken } from './tokenizer.js';

/**
 * The values inside a command: a conversation id, a restore source, a reason, a step number.
 * Each says what is wrong with a bad one in words a person can act on.
 */

/** Same rule as the core's list (recovery/operations.ts), checked here to answer before any I/O. */
export const LIST_PATTERN = /^[A-Za-z0-9_*?-]{1,128}$/;

/** The verb's first word as a conversation id. */
export function conversationId(
  verb: Verb,
  first: WordToken | undefined,
  opts: GrammarOptions,
): { id: string } | { error: CommandError } {
  if (first === undefined) {
    return {
      error: fail(`\`${verb}\` needs a conversation id, e.g. \`${verb} c-7f3a9e\`.`, null, verbUsage(verb)),
    };
  }
  try {
    return { id: assertConversationId(first.text, opts.idPattern) };
  } catch (err) {
    if (!isRecoveryError(err)) throw err;
    // Our own wording around the core's hint: its message quotes the input unsanitised.
    const message =
      first.text === ''
        ? err.toUserText()
        : `\`${shown(first.text)}\` is not a valid conversation id. ${err.hint}`;
    return { error: fail(message, null, verbUsage(verb)) };
  }
}

export type SourceResult = { source: SlackRestoreSource } | { message: string; guess: string | null };

export const SOURCE_ALIASES: Record<string, string> = {
  pg: 'postgres',
  postgresql: 'postgres',
  psql: 'postgres',
  history: 'postgres',
  archive: 's3',
  aws: 's3',
};

export function slackSource(raw: string): SourceResult {
  const value = raw.trim();
  const lower = value.toLowerCase();
  if (lower.startsWith('file:')) {
    return {
      message:
        'Slack cannot restore from a file: the bot has no local files (`file:` works only in the CLI). Use postgres, s3 or backup:<id>.',
      guess: null,
    };
  }
  if (lower === 'redis') {
    return {
      message:
        'Redis is what a restore overwrites, so it cannot be the source. Use postgres, s3 or backup:<id>.',
      guess: null,
    };
  }
  const canonical =
    lower === 'postgres' || lower === 's3'
      ? lower
      : lower.startsWith('backup:')
        ? `backup:${value.slice(7)}`
        : null;
  if (canonical === null) {
    const guess = SOURCE_ALIASES[lower] ?? closest(lower, ['postgres', 's3'] as const);
    return { message: `Unknown source \`${shown(value)}\`: use ${SOURCE_TEXT}.`, guess };
  }
  try {
    const source = parseRestoreSource(canonical);
    if (source.kind === 'file') return { message: 'Slack cannot restore from a file.', guess: null };
    return { source };
  } catch (err) {
    if (!isRecoveryError(err)) throw err;
    return {
      message: `\`${shown(value.slice(7))}\` is not a backup id: they look like \`bk_…\` (the restore result shows it).`,
      guess: null,
    };
  }
}

export function looksLikeSource(word: string): boolean {
  const lower = word.toLowerCase();
  return lower === 'postgres' || lower === 's3' || lower.startsWith('backup:') || lower in SOURCE_ALIASES;
}

/**
 * The reason a restore, undo or replay needs: the approver reads it and the audit log keeps it,
 * so a command without one is refused, as the CLI does. `given` is a reason from outside the
 * text (the reason form); `typed` is the command as typed, to show it with the flag added.
 */
export function parseReason(
  verb: Verb,
  raw: string | undefined,
  typed: string,
  given?: string,
): { reason: string } | { error: CommandError } {
  const reason = (raw ?? given)?.trim();
  if (reason === undefined || reason === '') {
    return {
      error: fail(
        `\`${verb}\` needs a reason: the approver reads it and the audit log keeps it.`,
        suggest(typed, [{ start: typed.length, end: typed.length, replacement: ' --reason "<why>"' }]),
        verbUsage(verb),
      ),
    };
  }
  if (reason.length > REASON_MAX_LENGTH) {
    return {
      error: fail(
        `The reason is ${reason.length} characters; keep it under ${REASON_MAX_LENGTH} (link to the incident doc instead).`,
        null,
        verbUsage(verb),
      ),
    };
  }
  return { reason };
}

/** Step numbers as typed: digits only, so `1e3`, `0x10` or `2.5` are refused rather than read. */
export function parseStep(raw: string): number | null {
  const value = raw.trim();
  if (!/^\d{1,9}$/.test(value)) return null;
  const step = Number(value);
  return step >= 1 ? step : null;
}
