import { assertNever } from '../assert-never.js';
import { isRecoveryError } from '../errors.js';
import { assertBackupId } from '../recovery/sources.js';
import { REASON_MAX_LENGTH, SLASH_COMMAND } from '../slack-ids.js';
import { HELP_WORDS, SOURCE_TEXT, TIERS, VERBS, type Verb, verbUsage } from '../slack-verbs.js';
import { collectArgs, extraWords, reasonTail } from './arguments.js';
import { normaliseText } from './normalise-text.js';
import { parseBulkCommand } from './parse-bulk.js';
import { parseBreakerReset } from './parse-policy.js';
import type { CommandError, GrammarOptions, ParsedCommand } from './parsed-command.js';
import { closest, fail, shown, suggest } from './suggestions.js';
import { scanCommand, type Token, type UnclosedQuote } from './tokenizer.js';
import {
  conversationId,
  LIST_PATTERN,
  parseReason,
  parseStep,
  SOURCE_ALIASES,
  slackSource,
} from './values.js';

/**
 * The `/zeus-recover` text grammar: pure functions, so every typo an engineer can make on a phone
 * at 3 a.m. is a unit test rather than a surprise in production.
 */

/**
 * Checked before any other work on the text. The longest valid command is about 1,250
 * characters (a 128-character id, flags, a 1,000-character reason); Slack's own escaping of
 * `&`, `<`, `>` can triple parts of that. Beyond this it is not a command someone typed.
 */
export const MAX_COMMAND_LENGTH = 4000;

function parseVerb(
  verb: Verb,
  tokens: readonly Token[],
  text: string,
  opts: GrammarOptions,
): ParsedCommand | CommandError {
  const usage = verbUsage(verb);
  const collected = collectArgs(verb, tokens, text);
  if ('kind' in collected) return collected;
  const args = collected;

  if (verb === 'list') {
    const extra = extraWords(verb, args, text, 1);
    if (extra !== null) return extra;
    const pattern = args.positionals[0]?.text;
    if (pattern === undefined) return { kind: 'list', pattern: null };
    if (!LIST_PATTERN.test(pattern)) {
      return fail(
        `\`${shown(pattern)}\` is not a list pattern: use letters, digits, \`_\`, \`-\` and the wildcards \`*\` and \`?\` (at most 128), e.g. \`c-7f*\`.`,
        null,
        usage,
      );
    }
    return { kind: 'list', pattern };
  }

  if (verb === 'undo') {
    const first = args.positionals[0];
    if (first === undefined) {
      return fail('`undo` needs the backup id a restore printed, e.g. `undo bk_01HV3…`.', null, usage);
    }
    const extra = extraWords(verb, args, text, 1);
    if (extra !== null) return extra;
    const raw = first.text.replace(/^backup:/i, '');
    let backupId: string;
    try {
      backupId = assertBackupId(raw);
    } catch (err) {
      if (!isRecoveryError(err)) throw err;
      return fail(
        `\`${shown(raw)}\` is not a backup id: they look like \`bk_…\` (the restore result shows it).`,
        null,
        usage,
      );
    }
    const reason = parseReason(verb, args.flags.reason, text, opts.reason);
    if ('error' in reason) return reason.error;
    return { kind: 'undo', backupId, reason: reason.reason };
  }

  const extra = extraWords(verb, args, text, 1);
  if (extra !== null) return extra;
  const idResult = conversationId(verb, args.positionals[0], opts);
  if ('error' in idResult) return idResult.error;
  const id = idResult.id;

  switch (verb) {
    case 'inspect':
    case 'validate':
      return { kind: verb, id };
    case 'export': {
      const raw = args.flags.tier;
      if (raw === undefined) return { kind: 'export', id, tier: 'redis' };
      const tier = TIERS.find((t) => t === raw.trim().toLowerCase());
      if (tier !== undefined) return { kind: 'export', id, tier };
      const guess = closest(raw.trim(), TIERS) ?? SOURCE_ALIASES[raw.trim().toLowerCase()] ?? null;
      return fail(
        `Unknown tier \`${shown(raw)}\`: use redis, postgres or s3.`,
        guess === null ? null : `${SLASH_COMMAND} export ${id} --tier ${guess}`,
        usage,
      );
    }
    case 'unlock': {
      const reason = parseReason(verb, args.flags.reason, text, opts.reason);
      if ('error' in reason) return reason.error;
      return { kind: 'unlock', id, reason: reason.reason };
    }
    case 'replay': {
      const raw = args.flags['from-step'];
      if (raw === undefined) {
        return fail(
          '`replay` needs `--from-step <N>`: the first step Zeus should run again.',
          `${SLASH_COMMAND} replay ${id} --from-step 1${reasonTail(args)}`,
          usage,
        );
      }
      const fromStep = parseStep(raw);
      if (fromStep === null) {
        return fail(
          `\`--from-step\` must be a whole number, 1 or more (got \`${shown(raw)}\`).`,
          `${SLASH_COMMAND} replay ${id} --from-step 1${reasonTail(args)}`,
          usage,
        );
      }
      const reason = parseReason(verb, args.flags.reason, text, opts.reason);
      if ('error' in reason) return reason.error;
      return { kind: 'replay', id, fromStep, reason: reason.reason };
    }
    case 'diff':
    case 'restore': {
      const raw = args.flags.from;
      if (raw === undefined) {
        return fail(
          `\`${verb}\` needs \`--from ${SOURCE_TEXT}\`.`,
          `${SLASH_COMMAND} ${verb} ${id} --from postgres${verb === 'restore' ? reasonTail(args) : ''}`,
          usage,
        );
      }
      const parsed = slackSource(raw);
      if ('message' in parsed) {
        const fix =
          parsed.guess === null
            ? null
            : `${SLASH_COMMAND} ${verb} ${id} --from ${parsed.guess}${verb === 'restore' ? reasonTail(args) : ''}`;
        return fail(parsed.message, fix, usage);
      }
      if (verb === 'diff') return { kind: 'diff', id, source: parsed.source };
      const reason = parseReason(verb, args.flags.reason, text, opts.reason);
      if ('error' in reason) return reason.error;
      return { kind: 'restore', id, source: parsed.source, reason: reason.reason };
    }
    default:
      return assertNever(verb, 'verb');
  }
}

function unknownVerb(first: Token, text: string, opts: GrammarOptions): CommandError {
  // No verb, so no one usage line: the fix and a pointer to help, not the whole table.
  const usage = '';
  if (first.kind === 'flag') {
    return fail(
      `Start with a command (\`inspect\`, \`restore\`, … or \`help\`), not \`--${shown(first.name)}\`.`,
      null,
      usage,
    );
  }
  const word = first.text;
  const guess = closest(word, [...VERBS, 'help'] as const);
  if (guess !== null) {
    const fixed = `${text.slice(0, first.start)}${guess}${text.slice(first.end)}`;
    // The corrected command may still miss something (`restroe c-1`): offer its full fix.
    const reparsed = guess === 'help' ? null : parseCommand(fixed, opts);
    const suggestion =
      reparsed?.kind === 'error' && reparsed.suggestion !== null ? reparsed.suggestion : suggest(fixed);
    return fail(`\`${shown(word)}\` is not a command; did you mean \`${guess}\`?`, suggestion, usage);
  }
  if (/[0-9_-]/.test(word) && word.length <= 128 && opts.idPattern.test(word)) {
    return fail(
      `\`${shown(word)}\` is not a command; to look at a conversation start with \`inspect\`.`,
      suggest(text, [{ start: first.start, end: first.start, replacement: 'inspect ' }]),
      usage,
    );
  }
  return fail(`\`${shown(word)}\` is not a command.`, `${SLASH_COMMAND} help`, usage);
}

function unclosedQuote(unclosed: UnclosedQuote, first: Token | undefined, text: string): CommandError {
  const head = first?.kind === 'word' ? first.text.toLowerCase() : '';
  const verb = VERBS.find((v) => v === head);
  const from = text.slice(unclosed.start);
  return fail(
    `Unclosed quote: the \`${unclosed.quote === '"' ? '"' : "'"}\` before \`${shown(from.slice(1, 30))}\` is never closed. Close it at the end of the text, or leave the quotes out.`,
    suggest(text, [{ start: text.length, end: text.length, replacement: unclosed.quote }]),
    verb === undefined ? '' : verbUsage(verb),
  );
}

/**
 * Parses the text after `/zeus-recover`. Never throws for user input: every mistake comes back
 * as a `CommandError` whose message says what is wrong and whose suggestion is a fixed command.
 */
export function parseCommand(text: string, opts: GrammarOptions): ParsedCommand | CommandError {
  if (text.length > MAX_COMMAND_LENGTH) {
    return fail(
      `The command is ${text.length} characters long; the limit is ${MAX_COMMAND_LENGTH} (a \`--reason\` holds up to ${REASON_MAX_LENGTH}: link to the incident doc for more).`,
      null,
      '',
    );
  }
  const normalised = normaliseText(text);
  const { tokens, unclosed } = scanCommand(normalised);
  const first = tokens[0];
  if (unclosed !== null) return unclosedQuote(unclosed, first, normalised);
  if (first === undefined) return { kind: 'modal' };
  const head = first.kind === 'word' ? first.text.toLowerCase() : `--${first.name}`;
  if (HELP_WORDS.has(head)) return { kind: 'help' };
  if (head === 'breaker-reset') return parseBreakerReset(tokens.slice(1), normalised);
  const bulk = parseBulkCommand(head, tokens.slice(1), normalised);
  if (bulk !== null) return bulk;
  const verb = VERBS.find((v) => v === head);
  if (verb === undefined) return unknownVerb(first, normalised, opts);
  return parseVerb(verb, tokens.slice(1), normalised, opts);
}
