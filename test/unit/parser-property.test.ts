import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  isCommandError,
  MAX_COMMAND_LENGTH,
  parseCommand,
  scanCommand,
  validateModalSubmission,
} from '../../src/commands/grammar.js';
import { compileIdPattern, DEFAULT_ID_PATTERN } from '../../src/recovery/ids.js';
import { SLASH_COMMAND } from '../../src/slack-ids.js';
import { VERBS } from '../../src/slack-verbs.js';

const opts = { idPattern: compileIdPattern(DEFAULT_ID_PATTERN) };

/** Pieces people (and attackers) put in a command, so random text often looks like one. */
const PIECES = [
  ...VERBS,
  'help',
  'restroe',
  'c-1',
  'c-7f3a9e',
  'bk_Q2x9LmP4vT7rN1sK8wYz',
  'backup:',
  'postgres',
  's3',
  'redis',
  'file:/etc/passwd',
  '--from',
  '--from=',
  '--reason',
  '--reason=',
  '--tier',
  '--from-step',
  '--from_step',
  '--FROM',
  '—from',
  '"',
  "'",
  '“',
  '”',
  '‘',
  '’',
  '`',
  '=',
  '*',
  '?',
  ' ',
  '  ',
  '\n',
  '\t',
  '\u00a0',
  '\u200b',
  '\u202e',
  '&amp;',
  '&lt;',
  '&gt;',
  '<!channel>',
  '<@U1>',
  '😀',
  '\ud800',
  '0',
  '3',
  '-1',
  '1e3',
  '0x10',
];
const commandLike = fc.array(fc.constantFrom(...PIECES), { maxLength: 40 }).map((parts) => parts.join(''));
const anyText = fc.oneof(
  commandLike,
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: fc.constantFrom('"', "'", ' ', 'a', '-', '='), maxLength: 2000 }),
);

describe('parseCommand, for any text', () => {
  it('never throws, and answers with a command or an error that is fit to show', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        const result = parseCommand(text, opts);
        if (!isCommandError(result)) return;
        expect(result.message.length).toBeGreaterThan(0);
        // User input is echoed shortened: a message never carries the whole of a long command.
        expect(result.message.length).toBeLessThan(800);
        if (result.suggestion !== null) {
          expect(result.suggestion.startsWith(`${SLASH_COMMAND} `)).toBe(true);
          expect(result.suggestion).not.toMatch(/[\n`]/);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('scans in linear work: at most two looks at each character, whatever the quotes', () => {
    fc.assert(
      fc.property(anyText, (text) => {
        expect(scanCommand(text).steps).toBeLessThanOrEqual(2 * text.length + 1);
      }),
      { numRuns: 3000 },
    );
  });

  it('doubling the text at most doubles the scan (plus one), up to the length cap', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('"', "'", ' ', 'a', '-', '='), maxLength: 2000 }),
        (text) => {
          const once = scanCommand(text).steps;
          const twice = scanCommand(`${text} ${text}`).steps;
          expect(twice).toBeLessThanOrEqual(2 * once + 2 * text.length + 2);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('refuses anything over the cap without scanning it', () => {
    fc.assert(
      fc.property(
        fc.string({ minLength: MAX_COMMAND_LENGTH + 1, maxLength: MAX_COMMAND_LENGTH + 50 }),
        (text) => {
          const result = parseCommand(text, opts);
          expect(isCommandError(result) && result.message).toMatch(/the limit is/);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('the modal form never throws either, whatever its fields hold', () => {
    const field = fc.option(anyText, { nil: undefined });
    fc.assert(
      fc.property(
        fc.record({
          conversation_id: field,
          action: fc.option(fc.constantFrom('inspect', 'restore', 'undo', 'replay', 'export', 'x'), {
            nil: undefined,
          }),
          source: field,
          backup_id: field,
          from_step: field,
          reason: field,
        }),
        (values) => {
          const result = validateModalSubmission(values, opts);
          if (!result.ok) expect(Object.keys(result.errors).length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 2000 },
    );
  });
});
