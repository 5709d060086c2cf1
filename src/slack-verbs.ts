import { SLASH_COMMAND } from './slack-ids.js';
import { type SlackFlag, type SlackVerbWord, VERB_TABLE, type VerbRow, verbsFor } from './verb-table.js';
import type { ExportTier } from './workflow/command.js';

/**
 * The Slack face of the verb table (src/verb-table.ts): which verbs the grammar parses, the flags
 * each takes, and the usage lines help and errors show. The table owns the syntax, so help can
 * never drift from what the parser accepts, nor from the CLI's usage.
 */

/** Verbs with arguments, in the order a typo's closest match is looked for. */
export const VERBS = [
  'inspect',
  'validate',
  'diff',
  'restore',
  'undo',
  'export',
  'list',
  'replay',
  'unlock',
] as const;
export type Verb = (typeof VERBS)[number];
/** The bulk restore's verbs: parsed apart (commands/parse-bulk.ts), their flags are not a conversation's. */
export const BULK_VERBS = ['bulk-restore', 'job', 'jobs', 'resume'] as const;
export type BulkVerb = (typeof BULK_VERBS)[number];
/** The approval policies' verbs (commands/parse-policy.ts). */
export const POLICY_VERBS = ['breaker-reset'] as const;
export type PolicyVerb = (typeof POLICY_VERBS)[number];
// Every Slack verb of the table is parsed here (the bare form and help are words of their own).
const everySlackVerb: Exclude<SlackVerbWord, '' | 'help'> extends Verb | BulkVerb | PolicyVerb
  ? true
  : never = true;
void everySlackVerb;

export type FlagName = SlackFlag;
export const ALL_FLAGS: readonly FlagName[] = ['from', 'reason', 'tier', 'from-step'];
export const HELP_WORDS = new Set(['help', '-h', '--help', 'h', '?', 'usage']);
export const TIERS: readonly ExportTier[] = ['redis', 'postgres', 's3'];
export const SOURCE_TEXT = 'postgres|s3|backup:<id>';

export interface VerbSpec {
  syntax: string;
  summary: string;
  flags: readonly FlagName[];
}

function spec(verb: Verb): VerbSpec {
  const row = (VERB_TABLE as readonly VerbRow[]).find((r) => r.verb === verb);
  if (row?.slack == null) throw new Error(`The verb table has no Slack row for ${verb}`);
  return {
    syntax: row.slack.syntax ?? row.syntax,
    summary: row.slack.summary ?? row.summary,
    flags: row.slack.flags,
  };
}

export const SPECS: Record<Verb, VerbSpec> = Object.fromEntries(
  VERBS.map((verb) => [verb, spec(verb)]),
) as Record<Verb, VerbSpec>;

/** Help's lines, in the table's order: the bare command (the form), help, then every verb. */
export const USAGE_LINES: readonly { syntax: string; summary: string }[] = verbsFor('slack').map((line) => ({
  syntax: line.verb === '' ? SLASH_COMMAND : `${SLASH_COMMAND} ${line.syntax}`,
  summary: line.summary,
}));

export function usageText(): string {
  const width = Math.max(...USAGE_LINES.map((line) => line.syntax.length));
  return USAGE_LINES.map((line) => `${line.syntax.padEnd(width)}  ${line.summary}`).join('\n');
}

export function verbUsage(verb: Verb): string {
  return `${SLASH_COMMAND} ${SPECS[verb].syntax}`;
}
