import { SLASH_COMMAND } from '../slack-ids.js';
import { ALL_FLAGS, type FlagName, SOURCE_TEXT, SPECS, TIERS, type Verb, verbUsage } from '../slack-verbs.js';
import type { CommandError } from './parsed-command.js';
import { closest, fail, shown, suggest } from './suggestions.js';
import type { FlagToken, Token, WordToken } from './tokenizer.js';
import { looksLikeSource, parseStep, SOURCE_ALIASES } from './values.js';

/**
 * The words and flags after a verb: which flag takes which value, and what to say when they do
 * not fit (a flag of another verb, a forgotten flag before its value, an extra word).
 */

/** A verb's arguments once collected: its positional words and the value of each flag. */
export interface Args {
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
    default:
      // bulk-restore's flags are collected by parse-bulk.ts; no conversation verb offers them.
      return fail(`\`--${name}\` needs a value.`, null, usage);
  }
}

/** The reason as typed, or a placeholder: a suggestion without one would only be refused next. */
export function reasonTail(args: Args): string {
  const reason = args.flags.reason?.trim();
  if (reason === undefined || reason === '') return ' --reason "<why>"';
  return ` --reason ${shown(reason)}`;
}

export function collectArgs(verb: Verb, tokens: readonly Token[], text: string): Args | CommandError {
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

/**
 * Words after the id that should not be there. When they look like a forgotten flag (`restore
 * c-1 postgres`, `replay c-1 5`) or a forgotten `--reason`, the suggestion writes the flag in.
 */
export function extraWords(verb: Verb, args: Args, text: string, expected: number): CommandError | null {
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
