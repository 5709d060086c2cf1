// No imports, on purpose: `zeus-recover --help` loads this file and cli/usage.ts alone (natively
// on Node 24, no TypeScript loader), so an SRE gets the usage in a fraction of a second.

/**
 * Every verb the product offers, in one table: the Slack help and the Slack grammar's flags
 * (slack-verbs.ts) and the CLI usage (cli/usage.ts) are generated from it, so adding a verb or
 * changing its syntax is one edit here and neither face can advertise what the other refuses.
 *
 * A face that does not offer a verb is `null`. `syntax` and `summary` are shared unless a face
 * writes its own (the faces differ where they really do: files and `--out` exist only in the CLI,
 * the form and the thread only in Slack). Syntax is written without the command's name.
 */

/** Flags the Slack grammar knows; the CLI's options are listed in cli/usage.ts and parsed by node:util. */
export type SlackFlag =
  | 'from'
  | 'reason'
  | 'tier'
  | 'from-step'
  // bulk-restore's selection and pacing
  | 'since'
  | 'until'
  | 'status'
  | 'match'
  | 'overwrite'
  | 'max-rate';

/** Which block of the CLI usage a verb appears in. */
export type VerbGroup = 'read-only' | 'destructive' | 'maintenance';

export interface FaceText {
  /** Overrides the row's syntax for this face. */
  readonly syntax?: string;
  /** Overrides the row's summary for this face. */
  readonly summary?: string;
}

export interface SlackFace extends FaceText {
  /** Flags the grammar accepts after this verb, in the order the usage shows them. */
  readonly flags: readonly SlackFlag[];
}

export interface CliFace extends FaceText {
  /** A second line under the summary (what the command needs besides its arguments). */
  readonly note?: string;
}

export interface VerbRow {
  /** The word typed first: `inspect`; '' for the bare command (the Slack form). */
  readonly verb: string;
  readonly group: VerbGroup;
  readonly syntax: string;
  readonly summary: string;
  readonly slack: SlackFace | null;
  readonly cli: CliFace | null;
}

const SLACK_SOURCE = 'postgres|s3|backup:<backupId>';

export const VERB_TABLE = [
  {
    verb: '',
    group: 'read-only',
    syntax: '',
    summary: 'open the recovery form',
    slack: { flags: [] },
    cli: null,
  },
  {
    verb: 'help',
    group: 'read-only',
    syntax: 'help',
    summary: 'this list',
    slack: { flags: [] },
    // The CLI's help is an option (-h, --help), listed with the options.
    cli: null,
  },
  {
    verb: 'inspect',
    group: 'read-only',
    syntax: 'inspect <id>',
    summary: "every tier's copy, side by side, and the best source",
    slack: { flags: [] },
    cli: {},
  },
  {
    verb: 'validate',
    group: 'read-only',
    syntax: 'validate <id>',
    summary: 'schema, integrity and cross-tier agreement, with a verdict',
    slack: { flags: [] },
    cli: {},
  },
  {
    verb: 'diff',
    group: 'read-only',
    syntax: 'diff <id> --from <source>',
    summary: 'what a restore from <source> would change in Redis',
    slack: {
      syntax: `diff <id> --from ${SLACK_SOURCE}`,
      summary: 'what a restore would change in Redis',
      flags: ['from'],
    },
    cli: {},
  },
  {
    verb: 'export',
    group: 'read-only',
    syntax: 'export <id> [--tier redis|postgres|s3]',
    summary: 'the stored bytes, unchanged',
    slack: { summary: 'the stored bytes as a file in the thread', flags: ['tier'] },
    cli: {
      syntax: 'export <id> [--tier redis|postgres|s3] [--out <file>]',
      summary: 'the stored bytes, unchanged (stdout unless --out)',
    },
  },
  {
    verb: 'list',
    group: 'read-only',
    syntax: 'list [pattern]',
    summary: 'active conversations in Redis (SCAN, never KEYS)',
    slack: { summary: 'active conversations in Redis, a page at a time (e.g. list c-7f*)', flags: [] },
    cli: { syntax: 'list [pattern] [--limit N] [--cursor C]' },
  },
  {
    verb: 'backups',
    group: 'read-only',
    syntax: 'backups <id>',
    summary: "a conversation's backups, newest first (the ids undo takes)",
    slack: null,
    cli: { syntax: 'backups <id> [--limit N]' },
  },
  {
    verb: 'audit',
    group: 'read-only',
    syntax: 'audit verify',
    summary: "check the audit log's hash chain",
    slack: null,
    cli: {},
  },
  {
    verb: 'job',
    group: 'read-only',
    syntax: 'job <jobId>',
    summary: "a bulk job's state and counts",
    slack: { summary: "a bulk job's state and counts, privately", flags: [] },
    cli: {},
  },
  {
    verb: 'jobs',
    group: 'read-only',
    syntax: 'jobs',
    summary: 'recent bulk jobs',
    slack: { summary: 'recent bulk jobs, privately', flags: [] },
    cli: {},
  },
  {
    verb: 'restore',
    group: 'destructive',
    syntax: 'restore <id> --from <source>',
    summary: 'source: postgres | s3 | backup:<backupId> | file:<path>',
    slack: {
      syntax: `restore <id> --from ${SLACK_SOURCE} --reason <why>`,
      summary: 'overwrite Redis from a good copy (needs approval)',
      flags: ['from', 'reason'],
    },
    cli: {},
  },
  {
    verb: 'undo',
    group: 'destructive',
    syntax: 'undo <backupId>',
    summary: 'put back what a restore overwrote',
    slack: {
      syntax: 'undo <backupId> --reason <why>',
      summary: 'put back what a restore overwrote (needs approval)',
      flags: ['reason'],
    },
    cli: {},
  },
  {
    verb: 'replay',
    group: 'destructive',
    syntax: 'replay <id> --from-step N',
    summary: 'ask Zeus to re-run steps N..last, then follow it to the end',
    slack: {
      syntax: 'replay <id> --from-step <N> --reason <why>',
      summary: 'ask Zeus to replay from a step (needs approval)',
      flags: ['from-step', 'reason'],
    },
    cli: { note: '(needs ZEUS_API_URL and ZEUS_API_TOKEN)' },
  },
  {
    verb: 'bulk-restore',
    group: 'destructive',
    syntax: 'bulk-restore --from postgres --since <duration|time>',
    summary: 'restore every conversation of a window on updated_at, as a job',
    slack: {
      syntax:
        'bulk-restore --from postgres --since <duration|time> [--until <time>] [--status S] [--match <glob>] [--overwrite] [--max-rate N] --reason <why>',
      summary: 'preview, then restore the whole window once approved, with progress and Cancel',
      flags: ['from', 'since', 'until', 'status', 'match', 'overwrite', 'max-rate', 'reason'],
    },
    cli: {
      note: '[--until <time>] [--status S] [--match <glob>] [--overwrite] [--max-rate N] [--dry-run] [--out <file>]',
    },
  },
  {
    verb: 'resume',
    group: 'destructive',
    syntax: 'resume <jobId>',
    summary: 'go on with a cancelled or failed bulk job from where it stopped',
    slack: {
      syntax: 'resume <jobId> --reason <why>',
      summary: 'go on with a cancelled or failed bulk job (its requester or an approver)',
      flags: ['reason'],
    },
    cli: {},
  },
  {
    verb: 'unlock',
    group: 'destructive',
    syntax: 'unlock <id>',
    summary: "break a conversation's lock, only if the holder inspect showed still has it (break-glass)",
    slack: {
      syntax: 'unlock <id> --reason <why>',
      summary:
        "break a stuck conversation's lock, only if the same holder still has it (break-glass, needs approval)",
      flags: ['reason'],
    },
    cli: {},
  },
  {
    verb: 'breaker-reset',
    group: 'maintenance',
    syntax: 'breaker-reset --reason <why>',
    summary: 'close the circuit breaker that stopped approvals (another person approves)',
    slack: { flags: ['reason'] },
    cli: null,
  },
  {
    verb: 'migrate',
    group: 'maintenance',
    syntax: 'migrate',
    summary: "create or update the bot's own Postgres schema",
    slack: null,
    cli: {},
  },
] as const satisfies readonly VerbRow[];

export type TableRow = (typeof VERB_TABLE)[number];
/** Verbs Slack offers, the bare form and help included. */
export type SlackVerbWord = Extract<TableRow, { slack: object }>['verb'];
/** Verbs the CLI offers. */
export type CliVerbWord = Extract<TableRow, { cli: object }>['verb'];

export interface FaceLine {
  verb: string;
  group: VerbGroup;
  syntax: string;
  summary: string;
  note: string | null;
}

/** The rows one face offers, in table order, with that face's syntax and summary. */
export function verbsFor(face: 'slack' | 'cli'): FaceLine[] {
  const lines: FaceLine[] = [];
  for (const row of VERB_TABLE as readonly VerbRow[]) {
    const own: CliFace | null = row[face];
    if (own === null) continue;
    lines.push({
      verb: row.verb,
      group: row.group,
      syntax: own.syntax ?? row.syntax,
      summary: own.summary ?? row.summary,
      note: own.note ?? null,
    });
  }
  return lines;
}
