import { parseArgs } from 'node:util';
import { errorMessage } from '../errors.js';

import { type CliVerbWord, verbsFor } from '../verb-table.js';
import { closest } from './did-you-mean.js';
import { CLI_VERBS } from './usage.js';

/** A command line that cannot run as typed: exit 2, with the usage of `verb` when one is known. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(
    message: string,
    readonly verb?: string,
  ) {
    super(message);
  }
}

export { CLI_VERBS, DESTRUCTIVE_VERBS, USAGE } from './usage.js';

/** A verb the CLI runs (the verb table's CLI face); `help` is answered before any verb. */
export function isCliVerb(word: string): word is CliVerbWord {
  return (CLI_VERBS as readonly string[]).includes(word);
}

export interface ParsedArgs {
  /** The arguments as given, for the command line shown in the incident thread. */
  argv: readonly string[];
  command: string;
  positionals: string[];
  json: boolean;
  yes: boolean;
  reason: string | undefined;
  from: string | undefined;
  tier: string | undefined;
  out: string | undefined;
  limit: number | undefined;
  cursor: string | undefined;
  /** `--from-step`: a whole number; the range (1..n) is the core's to check. */
  fromStep: number | undefined;
  /** bulk-restore's flags, as typed; checked by the bulk command and the core's selection parser. */
  bulk: {
    since: string | undefined;
    until: string | undefined;
    status: string | undefined;
    match: string | undefined;
    maxRate: string | undefined;
    overwrite: boolean;
    dryRun: boolean;
  };
  help: boolean;
}

/** Every option the CLI knows; bulk-restore's are checked by the bulk command. */
const OPTIONS = {
  json: { type: 'boolean' },
  yes: { type: 'boolean', short: 'y' },
  reason: { type: 'string' },
  from: { type: 'string' },
  tier: { type: 'string' },
  out: { type: 'string', short: 'o' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  'from-step': { type: 'string' },
  since: { type: 'string' },
  until: { type: 'string' },
  status: { type: 'string' },
  match: { type: 'string' },
  'max-rate': { type: 'string' },
  overwrite: { type: 'boolean' },
  'dry-run': { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

const OPTION_NAMES = Object.keys(OPTIONS);

/** The first word of the command line that is a verb, for the usage shown with an error. */
function verbIn(argv: readonly string[]): string | undefined {
  return argv.find((a) => !a.startsWith('-') && isCliVerb(a));
}

/** node:util's parse errors, in one line with the fix (its own text explains `--` separators). */
function parseFailure(err: unknown, argv: readonly string[]): UsageError {
  const verb = verbIn(argv);
  const text = errorMessage(err);
  const unknown = /^Unknown option '(-{1,2}[^']*)'/.exec(text)?.[1];
  if (unknown !== undefined) {
    const name = unknown.replace(/^-+/, '').split('=')[0] ?? '';
    const near = closest(name, OPTION_NAMES);
    return new UsageError(`unknown option ${unknown}${near ? ` — did you mean --${near}?` : ''}`, verb);
  }
  const missing = /^Option '(-\w, )?(--[\w-]+) <value>' argument missing/.exec(text)?.[2];
  if (missing !== undefined) return new UsageError(`${missing} needs a value`, verb);
  const positional = /^Unexpected argument '([^']*)'/.exec(text)?.[1];
  if (positional !== undefined) return new UsageError(`unexpected argument "${positional}"`, verb);
  return new UsageError(text.split('. ')[0] ?? text, verb);
}

export function parseCli(argv: string[]): ParsedArgs {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw parseFailure(err, argv);
  }
  const { values, positionals } = parsed;
  const [command = 'help', ...rest] = positionals;
  let limit: number | undefined;
  if (values.limit !== undefined) {
    limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new UsageError('--limit must be a whole number from 1 to 1000', command);
  }
  let fromStep: number | undefined;
  const rawStep = values['from-step'];
  if (rawStep !== undefined) {
    if (!/^\d{1,9}$/.test(rawStep.trim()))
      throw new UsageError('--from-step must be a whole number, 1 or more', command);
    fromStep = Number(rawStep.trim());
  }
  return {
    argv,
    command,
    positionals: rest,
    json: values.json ?? false,
    yes: values.yes ?? false,
    reason: values.reason?.trim() || undefined,
    from: values.from,
    tier: values.tier,
    out: values.out,
    limit,
    cursor: values.cursor,
    fromStep,
    bulk: {
      since: values.since,
      until: values.until,
      status: values.status,
      match: values.match,
      maxRate: values['max-rate'],
      overwrite: values.overwrite ?? false,
      dryRun: values['dry-run'] ?? false,
    },
    help: values.help ?? false,
  };
}

function parse(argv: string[]) {
  return parseArgs({ args: argv, allowPositionals: true, strict: true, options: OPTIONS });
}

/**
 * What the verb table's syntax for this verb requires and the command line lacks (`<id>`,
 * `--from <source>`), checked before any connection is made; null when nothing is missing.
 * Bracketed parts are optional; literal words (`audit verify`) are the command's own to check.
 */
export function missingPart(args: ParsedArgs): string | null {
  const line = verbsFor('cli').find((l) => l.verb === args.command);
  if (!line) return null;
  const tokens = line.syntax
    .replace(/\[[^\]]*\]/g, ' ')
    .split(/\s+/)
    .filter(Boolean)
    .slice(1);
  let positionals = 0;
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] ?? '';
    if (token.startsWith('--')) {
      const value = tokens[i + 1];
      const takesValue = value !== undefined && !value.startsWith('--');
      if (takesValue) i++;
      const given = args.argv.some((a) => a === token || a.startsWith(`${token}=`));
      if (!given) return takesValue ? `${token} ${value}` : token;
    } else if (token.startsWith('<')) {
      positionals++;
      if (args.positionals.length < positionals) return token;
    }
  }
  return null;
}
