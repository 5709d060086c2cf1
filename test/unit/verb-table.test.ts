import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CLI_VERBS, DESTRUCTIVE_VERBS, USAGE } from '../../src/cli/usage.js';
import { isCommandError, parseCommand, USAGE_LINES } from '../../src/commands/grammar.js';
import { compileIdPattern, DEFAULT_ID_PATTERN } from '../../src/recovery/ids.js';
import { SLASH_COMMAND } from '../../src/slack-ids.js';
import { VERB_TABLE, verbsFor } from '../../src/verb-table.js';

const opts = { idPattern: compileIdPattern(DEFAULT_ID_PATTERN) };
const src = join(import.meta.dirname, '..', '..', 'src');

describe('one verb table for both faces', () => {
  it("generates Slack's help: every Slack verb with its Slack syntax, no CLI-only verb", () => {
    const slack = verbsFor('slack');
    expect(USAGE_LINES.map((l) => l.syntax)).toEqual(
      slack.map((l) => (l.verb === '' ? SLASH_COMMAND : `${SLASH_COMMAND} ${l.syntax}`)),
    );
    const helpText = USAGE_LINES.map((l) => l.syntax).join('\n');
    expect(helpText).not.toMatch(/\bmigrate\b|\baudit verify\b|--out|file:/);
  });

  it('generates the CLI usage: every CLI verb with its CLI syntax and summary, no Slack-only one', () => {
    for (const line of verbsFor('cli')) {
      expect(USAGE).toContain(`  ${line.syntax}`);
      expect(USAGE).toContain(line.summary);
    }
    expect(USAGE).toContain('export <id> [--tier redis|postgres|s3] [--out <file>]');
    expect(USAGE).not.toContain('open the recovery form');
    expect(CLI_VERBS).toEqual([
      'inspect',
      'validate',
      'diff',
      'export',
      'list',
      'backups',
      'audit',
      'job',
      'jobs',
      'restore',
      'undo',
      'replay',
      'bulk-restore',
      'resume',
      'unlock',
      'migrate',
    ]);
    expect(DESTRUCTIVE_VERBS).toEqual(['restore', 'undo', 'replay', 'bulk-restore', 'resume', 'unlock']);
  });

  it('the faces differ only where the table says so', () => {
    const slack = new Map(verbsFor('slack').map((l) => [l.verb, l]));
    const cli = new Map(verbsFor('cli').map((l) => [l.verb, l]));
    expect(slack.get('inspect')?.syntax).toBe(cli.get('inspect')?.syntax);
    // Required in Slack as in the CLI: the approver reads it and the audit log keeps it.
    expect(slack.get('restore')?.syntax).toMatch(/ --reason <why>$/);
    expect(cli.get('restore')?.syntax).toBe('restore <id> --from <source>');
    expect(slack.has('migrate') || slack.has('audit')).toBe(false);
    expect(cli.has('') || cli.has('help')).toBe(false);
  });

  // A usage error shows each usage line inside a code span, where a backtick cannot be written
  // (it shows as a look-alike), and the CLI prints them as they are.
  it('writes syntax and summaries without backticks', () => {
    for (const face of ['slack', 'cli'] as const) {
      for (const line of verbsFor(face))
        expect(`${line.syntax} ${line.summary}`, line.verb).not.toContain('`');
    }
  });

  it('every verb Slack advertises parses in Slack, and the CLI-only ones are refused there', () => {
    for (const row of VERB_TABLE) {
      if (row.verb === '') continue;
      const parsed = parseCommand(`${row.verb} c-1`, opts);
      const refused = isCommandError(parsed) && /is not a command/.test(parsed.message);
      expect(refused, row.verb).toBe(row.slack === null);
    }
  });

  // `zeus-recover --help` imports these two natively (bin/zeus-recover.js strips their types): an
  // import of anything else would load it, or fail, before the usage is printed.
  it('keeps the usage module and the table leaves: usage imports only the table, the table nothing', () => {
    const imports = (file: string) =>
      [...readFileSync(join(src, file), 'utf8').matchAll(/^\s*import\b[^;]*?from\s+'([^']+)'/gm)].map(
        (m) => m[1],
      );
    expect(imports('cli/usage.ts')).toEqual(['../verb-table.js']);
    expect(imports('verb-table.ts')).toEqual([]);
  });
});
