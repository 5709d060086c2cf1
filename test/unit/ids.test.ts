import { describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { assertConversationId } from '../../src/recovery/ids.js';

describe('assertConversationId', () => {
  it.each(['c-7f3a9e', 'A', 'x_y-z', 'a'.repeat(128)])('accepts %s', (id) => {
    expect(assertConversationId(id)).toBe(id);
  });

  it.each([
    ['empty', ''],
    ['glob', '*'],
    ['path', '../x'],
    ['space', 'a b'],
    ['newline', 'a\nb'],
    ['trailing newline', 'abc\n'],
    ['quote', 'a"b'],
    ['single quote', "a'b"],
    ['129 chars', 'a'.repeat(129)],
    ['leading dash', '-abc'],
    ['colon', 'a:b'],
  ])('refuses %s', (_label, id) => {
    expect(() => assertConversationId(id)).toThrowError(
      expect.objectContaining({ code: ErrorCode.InvalidId }),
    );
  });

  it('refuses non-strings', () => {
    expect(() => assertConversationId(undefined)).toThrowError(
      expect.objectContaining({ code: ErrorCode.InvalidId }),
    );
  });
});
