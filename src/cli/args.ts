import { parseArgs } from 'node:util';

export class UsageError extends Error {
  override name = 'UsageError';
}

export const USAGE = `Usage: zeus-recover <command> [options]

Read-only
  inspect <id>                      every tier's copy, side by side, and the best source
  validate <id>                     schema, integrity and cross-tier agreement, with a verdict
  diff <id> --from <source>         what a restore from <source> would change in Redis
  export <id> [--tier redis|postgres|s3] [--out <file>]
                                    the stored bytes, unchanged (stdout unless --out)
  list [pattern] [--limit N] [--cursor C]
                                    active conversations in Redis (SCAN, never KEYS)
  audit verify                      check the audit log's hash chain

Destructive (need --yes and --reason; audited with your OS user)
  restore <id> --from <source>      source: postgres | s3 | backup:<backupId> | file:<path>
  undo <backupId>                   put back what a restore overwrote
  replay <id> --from-step N         ask Zeus to re-run steps N..last, then follow it to the end
                                    (needs ZEUS_API_URL and ZEUS_API_TOKEN)

Maintenance
  migrate                           create or update the bot's own Postgres schema

Options
  --json          machine-readable output
  --yes           confirm a destructive command
  --reason <text> why (recorded in the audit log)
  -h, --help      this text

Exit codes: 0 ok · 1 problems found or operation failed · 2 usage or configuration error
Configuration comes from the environment (REDIS_URL, DATABASE_URL, S3_*, …; see README).`;

export interface ParsedArgs {
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
  help: boolean;
}

export function parseCli(argv: string[]): ParsedArgs {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (err) {
    throw new UsageError(err instanceof Error ? err.message : String(err));
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
      help: { type: 'boolean', short: 'h' },
    },
  });
}
