import { describe, expect, it } from 'vitest';
import { formatFailures } from '../../src/cli/bulk-format.js';
import { cliCommand, cliHint } from '../../src/cli/format.js';

describe('CLI hints run as shown', () => {
  it('a Slack-written suggestion becomes the CLI line, destructive ones with --yes --reason', () => {
    expect(cliCommand('/zeus-recover restore c-1 --from postgres')).toBe(
      'zeus-recover restore c-1 --from postgres --yes --reason "…"',
    );
    expect(cliCommand('/zeus-recover export c-1')).toBe('zeus-recover export c-1');
    expect(cliHint('Run `inspect c-1` to see which tier has one.')).toBe(
      'Run `zeus-recover inspect c-1` to see which tier has one.',
    );
  });

  it('the rest of a long failure list is one command away, with the job id filled in', () => {
    const failures = [{ conversationId: 'c-1', outcome: 'failed', detail: null }];
    const text = formatFailures(failures, true, 'bj_abc');
    expect(text).toContain('zeus-recover job bj_abc --out bj_abc-not-restored.tsv');
    expect(text).not.toContain('<jobId>');
  });
});
