import { isRecoveryError } from '../errors.js';
import { assertConversationId } from '../recovery/ids.js';
import { assertBackupId, parseRestoreSource, type RestoreSource } from '../recovery/sources.js';
import { SLASH_COMMAND } from './registry.js';

/**
 * The `/zeus-recover` text grammar and the modal's validation: pure functions, so every typo an
 * engineer can make on a phone at 3 a.m. is a unit test rather than a surprise in production.
 *
 * Every string in a `CommandError` or in modal errors is plain text with backtick code spans;
 * user input in it is shortened and stripped of newlines and backticks, but `&`, `<` and `>`
 * are NOT escaped — whoever puts it into mrkdwn escapes it (once).
 */

/** Slack has no files on the bot, so `file:` (a CLI-only source) can never come out of Slack. */
export type SlackRestoreSource = Exclude<RestoreSource, { kind: 'file' }>;
export type ExportTier = 'redis' | 'postgres' | 's3';

export type ParsedCommand =
  | { kind: 'help' }
  | { kind: 'modal' }
  | { kind: 'inspect'; id: string }
  | { kind: 'validate'; id: string }
  | { kind: 'diff'; id: string; source: SlackRestoreSource }
  | { kind: 'restore'; id: string; source: SlackRestoreSource; reason: string | null }
  | { kind: 'undo'; backupId: string; reason: string | null }
  | { kind: 'export'; id: string; tier: ExportTier }
  | { kind: 'list'; pattern: string | null }
  | { kind: 'replay'; id: string; fromStep: number; reason: string | null };

export interface CommandError {
  kind: 'error';
  /** What exactly is wrong, in one or two sentences. */
  message: string;
  /** The closest valid command, ready to copy (starts with `/zeus-recover`), or null. */
  suggestion: string | null;
  /** The usage line of the verb concerned, or the whole grammar when the verb is unknown. */
  usage: string;
}

export interface GrammarOptions {
  idPattern: RegExp;
}

export function isCommandError(value: ParsedCommand | CommandError): value is CommandError {
  return value.kind === 'error';
}

/** Longest run of user input echoed back in a message or suggestion. */
const MAX_ECHO = 80;
/** Reasons go into the audit log and into Slack messages; a paragraph is plenty. */
export const REASON_MAX_LENGTH = 1000;
/**
 * Checked before any other work on the text. The longest valid command is about 1,250
 * characters (a 128-character id, flags, a 1,000-character reason); Slack's own escaping of
 * `&`, `<`, `>` can triple parts of that. Beyond this it is not a command someone typed.
 */
export const MAX_COMMAND_LENGTH = 4000;
/** Same rule as the core's list (recovery/operations.ts), checked here to answer before any I/O. */
const LIST_PATTERN = /^[A-Za-z0-9_*?-]{1,128}$/;

const VERBS = ['inspect', 'validate', 'diff', 'restore', 'undo', 'export', 'list', 'replay'] as const;
type Verb = (typeof VERBS)[number];
type FlagName = 'from' | 'reason' | 'tier' | 'from-step';
const ALL_FLAGS: readonly FlagName[] = ['from', 'reason', 'tier', 'from-step'];
const HELP_WORDS = new Set(['help', '-h', '--help', 'h', '?', 'usage']);
const TIERS: readonly ExportTier[] = ['redis', 'postgres', 's3'];
const SOURCE_TEXT = 'postgres|s3|backup:<id>';

interface VerbSpec {
  syntax: string;
  summary: string;
  flags: readonly FlagName[];
}

const SPECS: Record<Verb, VerbSpec> = {
  inspect: {
    syntax: 'inspect <id>',
    summary: "every tier's copy side by side, and the best source",
    flags: [],
  },
  validate: { syntax: 'validate <id>', summary: 'schema, integrity and cross-tier agreement', flags: [] },
  diff: {
    syntax: 'diff <id> --from postgres|s3|backup:<backupId>',
    summary: 'what a restore would change in Redis',
    flags: ['from'],
  },
  restore: {
    syntax: 'restore <id> --from postgres|s3|backup:<backupId> [--reason <text>]',
    summary: 'overwrite Redis from a good copy (needs approval)',
    flags: ['from', 'reason'],
  },
  undo: {
    syntax: 'undo <backupId> [--reason <text>]',
    summary: 'put back what a restore overwrote (needs approval)',
    flags: ['reason'],
  },
  export: {
    syntax: 'export <id> [--tier redis|postgres|s3]',
    summary: 'the stored bytes as a file in the thread',
    flags: ['tier'],
  },
  list: { syntax: 'list [pattern]', summary: 'active conversations in Redis, e.g. `list c-7f*`', flags: [] },
  replay: {
    syntax: 'replay <id> --from-step <N> [--reason <text>]',
    summary: 'ask Zeus to replay from a step (needs approval)',
    flags: ['from-step', 'reason'],
  },
};

export const USAGE_LINES: readonly { syntax: string; summary: string }[] = [
  { syntax: SLASH_COMMAND, summary: 'open the recovery form' },
  { syntax: `${SLASH_COMMAND} help`, summary: 'this list' },
  ...VERBS.map((verb) => ({
    syntax: `${SLASH_COMMAND} ${SPECS[verb].syntax}`,
    summary: SPECS[verb].summary,
  })),
];

export function usageText(): string {
  const width = Math.max(...USAGE_LINES.map((line) => line.syntax.length));
  return USAGE_LINES.map((line) => `${line.syntax.padEnd(width)}  ${line.summary}`).join('\n');
}

function verbUsage(verb: Verb): string {
  return `${SLASH_COMMAND} ${SPECS[verb].syntax}`;
}

// ---------------------------------------------------------------------------------------------
// Normalisation and tokens

/**
 * Phones rewrite what people type: smart quotes, non-breaking and zero-width spaces, and iOS
 * "smart punctuation" turns `--from` into `—from`. Slack itself HTML-escapes `&`, `<`, `>` in
 * the command text even with should_escape off.
 */
export function normaliseText(text: string): string {
  return text
    .replace(/[\u200b-\u200d\u2060\ufeff]/g, '')
    .replace(/[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/g, ' ')
    .replace(/[\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb]/g, '"')
    .replace(/[\u2018\u2019\u201a\u201b\u2032]/g, "'")
    .replace(/(^|\s)[\u2012\u2013\u2014\u2015\u2212]+(?=[A-Za-z])/g, '$1--')
    .replace(/&(amp|lt|gt);/g, (_m, name: string) => (name === 'lt' ? '<' : name === 'gt' ? '>' : '&'));
}

export interface WordToken {
  kind: 'word';
  text: string;
  quoted: boolean;
  start: number;
  end: number;
}
export interface FlagToken {
  kind: 'flag';
  /** Lower-cased, `_` read as `-`. */
  name: string;
  /** The `=value` part, if written inline. */
  value: string | undefined;
  start: number;
  end: number;
}
export type Token = WordToken | FlagToken;

const FLAG_WORD = /^--([A-Za-z][A-Za-z_-]*)(?:=([\s\S]*))?$/;

function isSpace(ch: string): boolean {
  return /\s/.test(ch);
}

function flagName(raw: string): string {
  return raw.toLowerCase().replace(/_/g, '-');
}

/** An opening quote with no closing one: where it starts (the token) and which quote it is. */
interface UnclosedQuote {
  start: number;
  quote: string;
}

export interface Scan {
  tokens: Token[];
  unclosed: UnclosedQuote | null;
  /** Characters examined. Every position is examined at most twice, so this stays under 2n + 1. */
  steps: number;
}

/**
 * Splits on whitespace in one forward pass; `"…"` / `'…'` group words (also as `--flag="…"`).
 * A quote opens only at the start of a word (or of an inline flag value) and closes only
 * before whitespace or the end, so apostrophes inside words stay text. A quote that opens and
 * never closes stops the scan: guessing where it was meant to end is how a reason silently
 * swallowed the rest of a command (and how rescanning from every quote went quadratic).
 */
export function scanCommand(text: string): Scan {
  const tokens: Token[] = [];
  let steps = 0;
  let i = 0;
  const n = text.length;
  // From `from` on, the index of `quote` followed by whitespace or the end; -1 if none.
  const closingQuote = (from: number, quote: string): number => {
    for (let k = from; k < n; k++) {
      steps++;
      if (text.charAt(k) === quote && (k + 1 === n || isSpace(text.charAt(k + 1)))) return k;
    }
    return -1;
  };
  while (i < n) {
    steps++;
    const ch = text.charAt(i);
    if (isSpace(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (ch === '"' || ch === "'") {
      const close = closingQuote(i + 1, ch);
      if (close === -1) return { tokens, unclosed: { start, quote: ch }, steps };
      tokens.push({ kind: 'word', text: text.slice(i + 1, close), quoted: true, start, end: close + 1 });
      i = close + 1;
      continue;
    }
    let j = i + 1;
    while (j < n && !isSpace(text.charAt(j))) {
      steps++;
      j++;
    }
    const flag = FLAG_WORD.exec(text.slice(i, j));
    if (flag?.[1] === undefined) {
      tokens.push({ kind: 'word', text: text.slice(i, j), quoted: false, start, end: j });
      i = j;
      continue;
    }
    const value = flag[2];
    const quote = value?.charAt(0);
    if (value === undefined || (quote !== '"' && quote !== "'")) {
      tokens.push({ kind: 'flag', name: flagName(flag[1]), value, start, end: j });
      i = j;
      continue;
    }
    // `--flag="…"`: the value may run past this word, up to its closing quote.
    const valueStart = j - value.length + 1;
    const close = closingQuote(valueStart, quote);
    if (close === -1) return { tokens, unclosed: { start, quote }, steps };
    tokens.push({
      kind: 'flag',
      name: flagName(flag[1]),
      value: text.slice(valueStart, close),
      start,
      end: close + 1,
    });
    i = close + 1;
  }
  return { tokens, unclosed: null, steps };
}

// ---------------------------------------------------------------------------------------------
// Echo and suggestions

/** One line, safe inside a backtick code span: control characters and newlines become spaces. */
function oneLine(input: string): string {
  return input
    .replace(/[\s\p{Cc}]+/gu, ' ')
    .replace(/`/g, "'")
    .trim();
}

/** User input as it may appear inside a message: one line, no backticks, at most MAX_ECHO. */
function shown(input: string): string {
  const flat = oneLine(input);
  if (flat === '') return '(blank)';
  return flat.length > MAX_ECHO ? `${flat.slice(0, MAX_ECHO - 1)}…` : flat;
}

interface Edit {
  start: number;
  end: number;
  replacement: string;
}

/** The user's text with edits applied, as a one-line command; user input is clipped. */
function suggest(text: string, edits: readonly Edit[] = []): string {
  let out = text;
  for (const edit of [...edits].sort((a, b) => b.start - a.start)) {
    out = `${out.slice(0, edit.start)}${edit.replacement}${out.slice(edit.end)}`;
  }
  const args = oneLine(out);
  const clipped = args.length > MAX_ECHO + 40 ? `${args.slice(0, MAX_ECHO + 39)}…` : args;
  return `${SLASH_COMMAND} ${clipped}`;
}

function fail(message: string, suggestion: string | null, usage: string): CommandError {
  return { kind: 'error', message, suggestion, usage };
}

/** Optimal string alignment distance: a swapped pair (`inspcet`) counts as one edit. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a.charAt(i - 1) === b.charAt(j - 1) ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a.charAt(i - 1) === b.charAt(j - 2) && a.charAt(i - 2) === b.charAt(j - 1)) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      d[i * cols + j] = best;
    }
  }
  return at(rows - 1, cols - 1);
}

/** The candidate a typo most likely meant: close by edits, or the only one it is a prefix of. */
function closest<T extends string>(word: string, candidates: readonly T[]): T | null {
  const lower = word.toLowerCase();
  if (lower.length === 0 || lower.length > 40) return null;
  const limit = lower.length <= 4 ? 1 : 2;
  let best: T | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== null && bestDistance <= limit) return best;
  if (lower.length >= 3) {
    const prefixed = candidates.filter((candidate) => candidate.startsWith(lower));
    if (prefixed.length === 1 && prefixed[0] !== undefined) return prefixed[0];
  }
  return null;
}

// ---------------------------------------------------------------------------------------------
// Arguments

interface Args {
  positionals: WordToken[];
  flags: Partial<Record<FlagName, string>>;
}

function isFlagName(name: string): name is FlagName {
  return (ALL_FLAGS as readonly string[]).includes(name);
}

/** Consumes a flag's value at tokens[index]; returns the value and the index after it. */
function takeValue(
  flag: FlagToken,
  name: FlagName,
  tokens: readonly Token[],
  index: number,
  text: string,
): { value: string | null; next: number } {
  if (flag.value !== undefined) {
    return { value: flag.value, next: index };
  }
  if (name === 'reason') {
    // Free text up to the next --flag, with its spacing as typed (one quoted word: its inside).
    let last = index;
    while (last < tokens.length && tokens[last]?.kind === 'word') last++;
    const words = tokens.slice(index, last).filter((t): t is WordToken => t.kind === 'word');
    const first = words[0];
    const final = words[words.length - 1];
    if (first === undefined || final === undefined) return { value: null, next: index };
    const value = words.length === 1 && first.quoted ? first.text : text.slice(first.start, final.end);
    return { value, next: last };
  }
  const next = tokens[index];
  if (next?.kind !== 'word') return { value: null, next: index };
  return { value: next.text, next: index + 1 };
}

function flagNeedsValue(verb: Verb, flag: FlagToken, name: FlagName, text: string, args: Args): CommandError {
  const usage = verbUsage(verb);
  const first = args.positionals[0];
  const id = first === undefined ? '<id>' : shown(first.text);
  switch (name) {
    case 'from':
      return fail(
        `\`--from\` needs a source: ${SOURCE_TEXT}.`,
        `${SLASH_COMMAND} ${verb} ${id} --from postgres${reasonTail(args)}`,
        usage,
      );
    case 'tier':
      return fail(
        '`--tier` needs a tier: redis, postgres or s3.',
        `${SLASH_COMMAND} export ${id} --tier postgres`,
        usage,
      );
    case 'from-step':
      return fail(
        '`--from-step` needs a step number (1 or more).',
        `${SLASH_COMMAND} replay ${id} --from-step 1${reasonTail(args)}`,
        usage,
      );
    case 'reason':
      return fail(
        '`--reason` needs some text, e.g. `--reason "Redis lost it after the failover"`.',
        suggest(text, [{ start: flag.end, end: flag.end, replacement: ' "<why>"' }]),
        usage,
      );
  }
}

function reasonTail(args: Args): string {
  const reason = args.flags.reason?.trim();
  if (reason === undefined || reason === '') return '';
  return ` --reason ${shown(reason)}`;
}

function collectArgs(verb: Verb, tokens: readonly Token[], text: string): Args | CommandError {
  const spec = SPECS[verb];
  const usage = verbUsage(verb);
  const args: Args = { positionals: [], flags: {} };
  let index = 0;
  while (index < tokens.length) {
    const token = tokens[index];
    index++;
    if (token === undefined) break;
    if (token.kind === 'word') {
      args.positionals.push(token);
      continue;
    }
    const name = token.name;
    if (isFlagName(name) && spec.flags.includes(name)) {
      if (args.flags[name] !== undefined) {
        return fail(`\`--${name}\` is given twice; give it once.`, null, usage);
      }
      const taken = takeValue(token, name, tokens, index, text);
      if (taken.value === null || taken.value.trim() === '') {
        return flagNeedsValue(verb, token, name, text, args);
      }
      args.flags[name] = taken.value;
      index = taken.next;
      continue;
    }
    return unknownFlag(verb, token, tokens, index, text);
  }
  return args;
}

function unknownFlag(
  verb: Verb,
  flag: FlagToken,
  tokens: readonly Token[],
  index: number,
  text: string,
): CommandError {
  const spec = SPECS[verb];
  const usage = verbUsage(verb);
  const name = flag.name;
  const next = tokens[index];
  const valueToken = flag.value === undefined && next?.kind === 'word' ? next : undefined;
  const value = flag.value ?? valueToken?.text;
  const end = valueToken?.end ?? flag.end;
  if (verb === 'replay' && name === 'from' && value !== undefined && /^\d+$/.test(value)) {
    return fail(
      '`replay` takes `--from-step <N>`, not `--from`.',
      suggest(text, [{ start: flag.start, end, replacement: `--from-step ${value}` }]),
      usage,
    );
  }
  if (isFlagName(name)) {
    // Valid elsewhere: say so and offer the command without it.
    const valueEnd = name === 'reason' ? reasonEnd(tokens, index, flag) : end;
    const allowed = spec.flags.length === 0 ? 'no options' : spec.flags.map((f) => `\`--${f}\``).join(', ');
    return fail(
      `\`${verb}\` does not take \`--${name}\` (it takes ${allowed}).`,
      suggest(text, [{ start: flag.start, end: valueEnd, replacement: '' }]),
      usage,
    );
  }
  const guess = closest(name, spec.flags);
  const offered = spec.flags.length === 0 ? 'no options' : spec.flags.map((f) => `\`--${f}\``).join(', ');
  const inline = flag.value === undefined ? '' : `=${flag.value}`;
  return fail(
    `\`--${shown(name)}\` is not an option of \`${verb}\` (it takes ${offered}).`,
    guess === null
      ? null
      : suggest(text, [{ start: flag.start, end: flag.end, replacement: `--${guess}${inline}` }]),
    usage,
  );
}

function reasonEnd(tokens: readonly Token[], index: number, flag: FlagToken): number {
  if (flag.value !== undefined) return flag.end;
  let end = flag.end;
  for (let k = index; k < tokens.length; k++) {
    const token = tokens[k];
    if (token === undefined || token.kind !== 'word') break;
    end = token.end;
  }
  return end;
}

// ---------------------------------------------------------------------------------------------
// Values

function conversationId(
  verb: Verb,
  args: Args,
  opts: GrammarOptions,
): { id: string } | { error: CommandError } {
  const first = args.positionals[0];
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

type SourceResult = { source: SlackRestoreSource } | { message: string; guess: string | null };

const SOURCE_ALIASES: Record<string, string> = {
  pg: 'postgres',
  postgresql: 'postgres',
  psql: 'postgres',
  history: 'postgres',
  archive: 's3',
  aws: 's3',
};

function slackSource(raw: string): SourceResult {
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

function looksLikeSource(word: string): boolean {
  const lower = word.toLowerCase();
  return lower === 'postgres' || lower === 's3' || lower.startsWith('backup:') || lower in SOURCE_ALIASES;
}

function parseReason(verb: Verb, args: Args): { reason: string | null } | { error: CommandError } {
  const reason = args.flags.reason?.trim();
  if (reason === undefined || reason === '') return { reason: null };
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

/**
 * Words after the id that should not be there. When they look like a forgotten flag (`restore
 * c-1 postgres`, `replay c-1 5`) or a forgotten `--reason`, the suggestion writes the flag in.
 */
function extraWords(verb: Verb, args: Args, text: string, expected: number): CommandError | null {
  const extras = args.positionals.slice(expected);
  const first = extras[0];
  const last = extras[extras.length - 1];
  if (first === undefined || last === undefined) return null;
  const usage = verbUsage(verb);
  const span = { start: first.start, end: last.end };
  const extraText = text.slice(span.start, span.end);
  const words = extras.map((e) => e.text.toLowerCase());
  const spec = SPECS[verb];

  if (spec.flags.includes('from') && args.flags.from === undefined) {
    const at = words[0] === 'from' ? 1 : 0;
    const candidate = extras[at];
    if (candidate !== undefined && looksLikeSource(candidate.text) && extras.length === at + 1) {
      const source = SOURCE_ALIASES[candidate.text.toLowerCase()] ?? candidate.text;
      return fail(
        `\`${verb}\` needs \`--from ${SOURCE_TEXT}\`; write \`--from\` before \`${shown(candidate.text)}\`.`,
        suggest(text, [{ ...span, replacement: `--from ${source}` }]),
        usage,
      );
    }
  }
  if (
    verb === 'replay' &&
    args.flags['from-step'] === undefined &&
    extras.length === 1 &&
    parseStep(first.text) !== null
  ) {
    return fail(
      '`replay` needs `--from-step <N>`; write `--from-step` before the number.',
      suggest(text, [{ ...span, replacement: `--from-step ${first.text}` }]),
      usage,
    );
  }
  if (verb === 'export' && args.flags.tier === undefined && extras.length === 1) {
    const tier = TIERS.find((t) => t === first.text.toLowerCase());
    if (tier !== undefined) {
      return fail(
        '`export` takes the tier as `--tier redis|postgres|s3`.',
        suggest(text, [{ ...span, replacement: `--tier ${tier}` }]),
        usage,
      );
    }
  }
  if (spec.flags.includes('reason') && args.flags.reason === undefined && expected > 0) {
    return fail(
      `Unexpected text \`${shown(extraText)}\`; put free text after \`--reason\`.`,
      suggest(text, [{ ...span, replacement: `--reason ${extraText}` }]),
      usage,
    );
  }
  const what = expected === 0 ? 'no arguments' : expected === 1 ? 'one argument' : `${expected} arguments`;
  return fail(
    `\`${verb}\` takes ${what}; \`${shown(extraText)}\` is extra.`,
    suggest(text, [{ start: span.start, end: span.end, replacement: '' }]),
    usage,
  );
}

// ---------------------------------------------------------------------------------------------
// Verbs

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
    const reason = parseReason(verb, args);
    if ('error' in reason) return reason.error;
    return { kind: 'undo', backupId, reason: reason.reason };
  }

  const extra = extraWords(verb, args, text, 1);
  if (extra !== null) return extra;
  const idResult = conversationId(verb, args, opts);
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
      const reason = parseReason(verb, args);
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
      const reason = parseReason(verb, args);
      if ('error' in reason) return reason.error;
      return { kind: 'restore', id, source: parsed.source, reason: reason.reason };
    }
  }
}

function unknownVerb(first: Token, text: string, opts: GrammarOptions): CommandError {
  const usage = usageText();
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
    verb === undefined ? usageText() : verbUsage(verb),
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
      usageText(),
    );
  }
  const normalised = normaliseText(text);
  const { tokens, unclosed } = scanCommand(normalised);
  const first = tokens[0];
  if (unclosed !== null) return unclosedQuote(unclosed, first, normalised);
  if (first === undefined) return { kind: 'modal' };
  const head = first.kind === 'word' ? first.text.toLowerCase() : `--${first.name}`;
  if (HELP_WORDS.has(head)) return { kind: 'help' };
  const verb = VERBS.find((v) => v === head);
  if (verb === undefined) return unknownVerb(first, normalised, opts);
  return parseVerb(verb, tokens.slice(1), normalised, opts);
}

// ---------------------------------------------------------------------------------------------
// Modal

/** Block ids of the recovery form; errors for `response_action: "errors"` use the same keys. */
export const MODAL_BLOCK_IDS = {
  conversationId: 'conversation_id',
  action: 'action',
  source: 'source',
  backupId: 'backup_id',
  fromStep: 'from_step',
  reason: 'reason',
} as const;
export type ModalBlockId = (typeof MODAL_BLOCK_IDS)[keyof typeof MODAL_BLOCK_IDS];

/** Option values of the form's action select (list and help stay slash-only). */
export const MODAL_ACTIONS = ['inspect', 'validate', 'diff', 'restore', 'undo', 'export', 'replay'] as const;
export type ModalAction = (typeof MODAL_ACTIONS)[number];

/**
 * Option values of the form's source select. `backup` means "the id in the backup_id block";
 * `redis` is meaningful only for export (`backup:<id>` is accepted too).
 */
export const MODAL_SOURCES = ['postgres', 's3', 'backup', 'redis'] as const;

export type ModalValidation =
  | { ok: true; command: ParsedCommand }
  | { ok: false; errors: Record<string, string> };

const ID_RULE = 'Use 1–128 letters, digits, `_` or `-`, starting with a letter or digit (e.g. c-7f3a9e).';
const STEP_RULE = 'Enter the step to replay from: a whole number, 1 or more.';

/**
 * Checks a submitted form and lists every problem at once, each under the block that has it, so
 * Slack shows them next to the fields (`response_action: "errors"`).
 */
export function validateModalSubmission(
  values: Record<string, string | undefined>,
  opts: GrammarOptions,
): ModalValidation {
  const errors: Record<string, string> = {};
  const get = (block: ModalBlockId): string | undefined => {
    const value = values[block];
    if (value === undefined) return undefined;
    const clean = normaliseText(value).trim();
    return clean === '' ? undefined : clean;
  };

  const actionRaw = get(MODAL_BLOCK_IDS.action);
  const action = MODAL_ACTIONS.find((a) => a === actionRaw?.toLowerCase());
  if (actionRaw === undefined) errors[MODAL_BLOCK_IDS.action] = 'Choose an action.';
  else if (action === undefined) errors[MODAL_BLOCK_IDS.action] = 'Choose one of the listed actions.';

  let id: string | null = null;
  const idRaw = get(MODAL_BLOCK_IDS.conversationId);
  if (idRaw !== undefined && action !== 'undo') {
    try {
      id = assertConversationId(idRaw, opts.idPattern);
    } catch (err) {
      if (!isRecoveryError(err)) throw err;
      errors[MODAL_BLOCK_IDS.conversationId] = `That is not a conversation id. ${ID_RULE}`;
    }
  } else if (idRaw === undefined && action !== undefined && action !== 'undo') {
    errors[MODAL_BLOCK_IDS.conversationId] = 'Enter the conversation id, e.g. c-7f3a9e.';
  }

  let reason: string | null = get(MODAL_BLOCK_IDS.reason) ?? null;
  if (reason !== null && reason.length > REASON_MAX_LENGTH) {
    errors[MODAL_BLOCK_IDS.reason] =
      `Shorten the reason to ${REASON_MAX_LENGTH} characters or fewer (it is ${reason.length}).`;
    reason = null;
  }

  const backupId = (): string | null => {
    const raw = get(MODAL_BLOCK_IDS.backupId);
    if (raw === undefined) return null;
    try {
      return assertBackupId(raw.replace(/^backup:/i, ''));
    } catch (err) {
      if (!isRecoveryError(err)) throw err;
      errors[MODAL_BLOCK_IDS.backupId] =
        'That is not a backup id: they look like bk_… (the restore result shows it).';
      return null;
    }
  };

  let command: ParsedCommand | null = null;
  switch (action) {
    case undefined:
      break;
    case 'inspect':
    case 'validate':
      if (id !== null) command = { kind: action, id };
      break;
    case 'export': {
      const raw = get(MODAL_BLOCK_IDS.source)?.toLowerCase() ?? 'redis';
      const tier = TIERS.find((t) => t === raw);
      if (tier === undefined)
        errors[MODAL_BLOCK_IDS.source] = 'Export reads a tier: choose Redis, PostgreSQL or S3.';
      else if (id !== null) command = { kind: 'export', id, tier };
      break;
    }
    case 'diff':
    case 'restore': {
      const raw = get(MODAL_BLOCK_IDS.source);
      let source: SlackRestoreSource | null = null;
      if (raw === undefined) {
        errors[MODAL_BLOCK_IDS.source] =
          action === 'restore' ? 'Choose where to restore from.' : 'Choose which copy to compare with Redis.';
      } else if (raw.toLowerCase() === 'backup') {
        const bk = backupId();
        if (bk !== null) source = { kind: 'backup', backupId: bk };
        else if (errors[MODAL_BLOCK_IDS.backupId] === undefined) {
          errors[MODAL_BLOCK_IDS.backupId] =
            'Enter the backup id to restore from (bk_…, shown in the restore result).';
        }
      } else {
        const parsed = slackSource(raw);
        if ('source' in parsed) source = parsed.source;
        else if (raw.toLowerCase() === 'redis') {
          errors[MODAL_BLOCK_IDS.source] =
            'Redis is what a restore overwrites: choose PostgreSQL, S3 or a backup.';
        } else errors[MODAL_BLOCK_IDS.source] = 'Choose PostgreSQL, S3 or a backup.';
      }
      if (id !== null && source !== null) {
        command = action === 'diff' ? { kind: 'diff', id, source } : { kind: 'restore', id, source, reason };
      }
      break;
    }
    case 'undo': {
      const bk = backupId();
      if (bk === null && errors[MODAL_BLOCK_IDS.backupId] === undefined) {
        errors[MODAL_BLOCK_IDS.backupId] = 'Enter the backup id to undo (bk_…, shown in the restore result).';
      }
      if (bk !== null) command = { kind: 'undo', backupId: bk, reason };
      break;
    }
    case 'replay': {
      const raw = get(MODAL_BLOCK_IDS.fromStep);
      const fromStep = raw === undefined ? null : parseStep(raw);
      if (fromStep === null) errors[MODAL_BLOCK_IDS.fromStep] = STEP_RULE;
      else if (id !== null) command = { kind: 'replay', id, fromStep, reason };
      break;
    }
  }

  if (Object.keys(errors).length > 0 || command === null) {
    if (Object.keys(errors).length === 0) errors[MODAL_BLOCK_IDS.action] = 'Choose an action.';
    return { ok: false, errors };
  }
  return { ok: true, command };
}
