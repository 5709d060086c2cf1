import { parseArgs } from 'node:util';
import { errorMessage } from '../errors.js';

export class UsageError extends Error {
  override name = 'UsageError';
}

import type { CliVerbWord } from '../verb-table.js';
import { CLI_VERBS } from './usage.js';

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

export function parseCli(argv: string[]): ParsedArgs {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError(errorMessage(err));
  }
  const { values, positionals } = parsed;
  const [command = 'help', ...rest] = positionals;
  let limit: number | undefined;
  if (values.limit !== undefined) {
    limit = Number(values.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 1000)
      throw new UsageError('--limit must be a whole number from 1 to 1000');
  }
  let fromStep: number | undefined;
  const rawStep = values['from-step'];
  if (rawStep !== undefined) {
    if (!/^\d{1,9}$/.test(rawStep.trim()))
      throw new UsageError('--from-step must be a whole number, 1 or more');
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
  return parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
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
    },
  });
}
