import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/commands/parse-command.js';
import { DEFAULT_ID_PATTERN } from '../../src/recovery/ids.js';
import { usageText } from '../../src/slack-verbs.js';

const opts = { idPattern: new RegExp(DEFAULT_ID_PATTERN) };

describe('unlock grammar (Slack)', () => {
  it('takes an id and a reason', () => {
    expect(parseCommand('unlock c-7f3a9e --reason INC-12 holder pod hangs', opts)).toEqual({
      kind: 'unlock',
      id: 'c-7f3a9e',
      reason: 'INC-12 holder pod hangs',
    });
  });

  it('refuses a missing reason or id with the fix and the usage; a typo is matched', () => {
    const noReason = parseCommand('unlock c-7f3a9e', opts);
    expect(noReason).toMatchObject({
      kind: 'error',
      message: expect.stringMatching(/`unlock` needs a reason/),
      suggestion: '/zeus-recover unlock c-7f3a9e --reason "<why>"',
      usage: '/zeus-recover unlock <id> --reason <why>',
    });
    expect(parseCommand('unlock --reason x', opts)).toMatchObject({ kind: 'error' });
    expect(parseCommand('unlok c-7f3a9e --reason x', opts)).toMatchObject({
      kind: 'error',
      suggestion: expect.stringContaining('unlock c-7f3a9e'),
    });
  });

  it('is in the help, as needing approval', () => {
    expect(usageText()).toMatch(/\/zeus-recover unlock <id> --reason <why> +break a stuck .*needs approval/);
  });
});
