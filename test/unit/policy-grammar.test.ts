import { describe, expect, it } from 'vitest';
import { parseCommand } from '../../src/commands/parse-command.js';
import { DEFAULT_ID_PATTERN } from '../../src/recovery/ids.js';

const opts = { idPattern: new RegExp(DEFAULT_ID_PATTERN) };

describe('breaker-reset grammar', () => {
  it('takes the reason after --reason, or inline', () => {
    expect(parseCommand('breaker-reset --reason the Redis proxy is fixed', opts)).toEqual({
      kind: 'breaker-reset',
      reason: 'the Redis proxy is fixed',
    });
    expect(parseCommand('BREAKER-RESET --reason="fixed it"', opts)).toEqual({
      kind: 'breaker-reset',
      reason: 'fixed it',
    });
  });

  it('refuses a missing reason, words before it and other flags, with the usage', () => {
    for (const [text, said] of [
      ['breaker-reset', /takes only `--reason`.*not nothing/],
      ['breaker-reset now --reason x', /not `now`/],
      ['breaker-reset --reason', /needs a value/],
      ['breaker-reset --reason x --from postgres', /remove `--from`/],
    ] as const) {
      const parsed = parseCommand(text, opts);
      expect(parsed.kind).toBe('error');
      if (parsed.kind !== 'error') continue;
      expect(parsed.message).toMatch(said);
      expect(parsed.usage).toBe('/zeus-recover breaker-reset --reason <why>');
    }
  });
});
