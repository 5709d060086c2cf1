// Imports only the verb table, itself import-free: `zeus-recover --help` loads these two files
// alone (natively on Node 24, no TypeScript loader; bin/zeus-recover.js strips both), so an SRE
// gets the usage in a fraction of a second.
import { type CliVerbWord, type FaceLine, type VerbGroup, verbsFor } from '../verb-table.js';

/** Where the summary column starts: long syntax puts its summary on the next line instead. */
const COLUMN = 36;

const HEADINGS: Record<VerbGroup, string> = {
  'read-only': 'Read-only',
  destructive: 'Destructive (need --yes and --reason; audited with your OS user)',
  maintenance: 'Maintenance',
};

function verbLines(line: FaceLine): string[] {
  const head = `  ${line.syntax}`;
  const out =
    head.length < COLUMN - 1
      ? [`${head.padEnd(COLUMN)}${line.summary}`]
      : [head, `${' '.repeat(COLUMN)}${line.summary}`];
  if (line.note !== null) out.push(`${' '.repeat(COLUMN)}${line.note}`);
  return out;
}

function groups(): string[] {
  const lines = verbsFor('cli');
  const out: string[] = [];
  for (const group of Object.keys(HEADINGS) as VerbGroup[]) {
    const inGroup = lines.filter((line) => line.group === group);
    if (inGroup.length === 0) continue;
    out.push('', HEADINGS[group], ...inGroup.flatMap(verbLines));
  }
  return out;
}

/** Verbs the CLI runs, from the verb table (`help` is also accepted as a verb). */
export const CLI_VERBS = verbsFor('cli').map((line) => line.verb) as readonly CliVerbWord[];
/** Verbs that change something and so need `--yes` and `--reason`. */
export const DESTRUCTIVE_VERBS: readonly string[] = verbsFor('cli')
  .filter((line) => line.group === 'destructive')
  .map((line) => line.verb);

/**
 * One verb's usage, for a command that was almost right: the line to type (destructive verbs
 * with the `--yes --reason` they need), what it does, and where the rest is.
 */
export function verbUsage(verb: string): string | null {
  const line = verbsFor('cli').find((l) => l.verb === verb);
  if (!line) return null;
  const confirm = line.group === 'destructive' ? ' --yes --reason "<why>"' : '';
  return [
    `Usage: zeus-recover ${line.syntax}${confirm}`,
    `       ${line.summary}`,
    ...(line.note === null ? [] : [`       ${line.note}`]),
    'Every command and option: zeus-recover --help',
  ].join('\n');
}

/** What `--help` prints: one verb's usage when a verb is named (`restore --help`, `help restore`), else all. */
export function helpFor(argv: readonly string[]): string {
  const verb = argv.find((a) => !a.startsWith('-') && a !== 'help');
  return (verb === undefined ? null : verbUsage(verb)) ?? USAGE;
}

export const USAGE = [
  'Usage: zeus-recover <command> [options]',
  ...groups(),
  '',
  'Options',
  '  --json          machine-readable output',
  '  --yes           confirm a destructive command',
  '  --reason <text> why (recorded in the audit log)',
  '  -h, --help      this text',
  '',
  'Exit codes: 0 ok · 1 problems found or operation failed · 2 usage or configuration error',
  '            3 outcome unknown: check Redis before anything else',
  'Configuration comes from the environment (REDIS_URL, DATABASE_URL, S3_*, …; see README).',
].join('\n');
