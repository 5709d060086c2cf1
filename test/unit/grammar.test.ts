import { describe, expect, it } from 'vitest';
import {
  type CommandError,
  editDistance,
  isCommandError,
  MAX_COMMAND_LENGTH,
  normaliseText,
  type ParsedCommand,
  parseCommand,
  scanCommand,
  validateModalSubmission,
} from '../../src/commands/grammar.js';
import type { NeedsReason } from '../../src/commands/modal-validation.js';
import { compileIdPattern, DEFAULT_ID_PATTERN } from '../../src/recovery/ids.js';
import { MODAL_BLOCK_IDS, REASON_MAX_LENGTH, SLASH_COMMAND } from '../../src/slack-ids.js';
import { usageText } from '../../src/slack-verbs.js';

const opts = { idPattern: compileIdPattern(DEFAULT_ID_PATTERN) };
const BK = 'bk_01HV3ABCDEFG';

function parse(text: string): ParsedCommand | CommandError {
  return parseCommand(text, opts);
}

function parseOk(text: string): ParsedCommand {
  const result = parse(text);
  if (isCommandError(result))
    throw new Error(`expected ${JSON.stringify(text)} to parse, got: ${result.message}`);
  return result;
}

function parseErr(text: string): CommandError {
  const result = parse(text);
  if (!isCommandError(result))
    throw new Error(`expected ${JSON.stringify(text)} to fail, got ${JSON.stringify(result)}`);
  return result;
}

describe('parseCommand: every verb', () => {
  it.each<[string, ParsedCommand]>([
    ['', { kind: 'modal' }],
    ['   ', { kind: 'modal' }],
    ['help', { kind: 'help' }],
    ['--help', { kind: 'help' }],
    ['HELP me', { kind: 'help' }],
    ['inspect c-7f3a9e', { kind: 'inspect', id: 'c-7f3a9e' }],
    ['validate c-7f3a9e', { kind: 'validate', id: 'c-7f3a9e' }],
    ['diff c-1 --from s3', { kind: 'diff', id: 'c-1', source: { kind: 'tier', tier: 's3' } }],
    [`diff c-1 --from backup:${BK}`, { kind: 'diff', id: 'c-1', source: { kind: 'backup', backupId: BK } }],
    [
      'restore c-1 --from postgres --reason redis lost it',
      { kind: 'restore', id: 'c-1', source: { kind: 'tier', tier: 'postgres' }, reason: 'redis lost it' },
    ],
    [`undo backup:${BK} --reason wrong copy`, { kind: 'undo', backupId: BK, reason: 'wrong copy' }],
    ['export c-1', { kind: 'export', id: 'c-1', tier: 'redis' }],
    ['export c-1 --tier postgres', { kind: 'export', id: 'c-1', tier: 'postgres' }],
    ['export c-1 --tier=S3', { kind: 'export', id: 'c-1', tier: 's3' }],
    ['list', { kind: 'list', pattern: null }],
    ['list c-7f*', { kind: 'list', pattern: 'c-7f*' }],
    [
      'replay c-1 --from-step=12 --reason tool timed out',
      { kind: 'replay', id: 'c-1', fromStep: 12, reason: 'tool timed out' },
    ],
  ])('%j', (text, expected) => {
    expect(parse(text)).toEqual(expected);
  });

  it('reads verbs and tiers case-insensitively (phones capitalise the first word)', () => {
    expect(parseOk('Inspect c-1')).toEqual({ kind: 'inspect', id: 'c-1' });
    expect(parseOk('RESTORE c-1 --FROM Postgres --reason x')).toMatchObject({
      kind: 'restore',
      source: { tier: 'postgres' },
    });
  });

  it('keeps ids and backup ids case-sensitive', () => {
    expect(parseOk('inspect C-AbC')).toEqual({ kind: 'inspect', id: 'C-AbC' });
    expect(parseOk('restore c-1 --from BACKUP:bk_AbCdEfGh12 --reason x')).toMatchObject({
      source: { kind: 'backup', backupId: 'bk_AbCdEfGh12' },
    });
  });

  it('accepts a quoted id', () => {
    expect(parseOk('inspect "c-1"')).toEqual({ kind: 'inspect', id: 'c-1' });
  });

  it('honours a custom id pattern', () => {
    const strict = { idPattern: /^c-[0-9a-f]{6}$/ };
    expect(parseCommand('inspect c-7f3a9e', strict)).toEqual({ kind: 'inspect', id: 'c-7f3a9e' });
    expect(parseCommand('inspect x-1', strict)).toMatchObject({ kind: 'error' });
  });
});

describe('parseCommand: hostile ids', () => {
  it.each([
    ['glob', 'inspect *'],
    ['path', 'inspect ../x'],
    ['space (quoted)', 'inspect "a b"'],
    ['newline inside quotes', 'inspect "a\nb"'],
    ['quote', 'inspect a"b'],
    ['single quote', "inspect a'b"],
    ['129 chars', `inspect ${'a'.repeat(129)}`],
    ['empty (quoted)', 'inspect ""'],
    ['leading dash', 'validate -abc'],
    ['colon', 'restore a:b --from s3'],
    ['redis glob in export', 'export c-* --tier redis'],
  ])('refuses %s', (_label, text) => {
    const err = parseErr(text);
    expect(err.message).toMatch(/conversation id/);
    expect(err.usage).toContain(SLASH_COMMAND);
  });

  it('refuses a newline splitting the id as an extra word', () => {
    const err = parseErr('inspect a\nb');
    expect(err.message).toContain('`b` is extra');
    expect(err.suggestion).toBe('/zeus-recover inspect a');
  });

  it('accepts 128 characters', () => {
    expect(parseOk(`inspect ${'a'.repeat(128)}`)).toEqual({ kind: 'inspect', id: 'a'.repeat(128) });
  });

  it('refuses a missing id with what to type', () => {
    const err = parseErr('inspect');
    expect(err.message).toBe('`inspect` needs a conversation id, e.g. `inspect c-7f3a9e`.');
    expect(err.usage).toBe('/zeus-recover inspect <id>');
  });

  it('refuses hostile backup ids and list patterns', () => {
    expect(parseErr('undo ../../etc').message).toContain('is not a backup id');
    expect(parseErr('undo c-1').message).toContain('is not a backup id');
    expect(parseErr('diff c-1 --from backup:*').message).toContain('is not a backup id');
    expect(parseErr('list ../x').message).toContain('is not a list pattern');
    expect(parseErr('list a b').message).toContain('extra');
  });

  it('never echoes more than ~80 characters of input, nor its newlines or backticks', () => {
    const long = `${'`'.repeat(50)}\n${'x'.repeat(500)}`;
    for (const text of [
      long,
      `inspect ${long}`,
      `restore c-1 --from ${long}`,
      `restore c-1 --from s3 ${long}`,
      `restroe c-1 --from s3 --reason ${'y'.repeat(400)}`,
      `list ${long}`,
      `undo ${long}`,
    ]) {
      const err = parseErr(text);
      expect(err.message.length, text.slice(0, 20)).toBeLessThan(280);
      expect(err.message).not.toContain('\n');
      expect(err.message).not.toMatch(/x{90}/);
      if (err.suggestion !== null) {
        expect(err.suggestion.length).toBeLessThan(160);
        expect(err.suggestion).not.toContain('`');
        expect(err.suggestion).not.toContain('\n');
      }
    }
  });

  it('decodes the &amp; &lt; &gt; Slack sends, so the reason is what was typed', () => {
    expect(parseOk('restore c-1 --from s3 --reason a &lt;b&gt; &amp;amp; c')).toMatchObject({
      reason: 'a <b> &amp; c',
    });
  });
});

describe('parseCommand: a reason is required for restore, undo and replay', () => {
  it.each([
    ['restore c-1 --from postgres', '/zeus-recover restore c-1 --from postgres --reason "<why>"'],
    [`undo ${BK}`, `/zeus-recover undo ${BK} --reason "<why>"`],
    ['replay c-1 --from-step 3', '/zeus-recover replay c-1 --from-step 3 --reason "<why>"'],
  ])('refuses %s without one, with the fix and the one usage line', (text, fix) => {
    const err = parseErr(text);
    expect(err.message).toMatch(/^`(restore|undo|replay)` needs a reason/);
    expect(err.suggestion).toBe(fix);
    expect(err.usage.split('\n')).toHaveLength(1);
    expect(err.usage).toMatch(/--reason <why>$/);
  });

  it('takes a reason given outside the text (the reason form), the typed one first', () => {
    expect(parseCommand('restore c-1 --from s3', { ...opts, reason: 'from the form' })).toMatchObject({
      kind: 'restore',
      reason: 'from the form',
    });
    expect(parseCommand('restore c-1 --from s3 --reason typed', { ...opts, reason: 'form' })).toMatchObject({
      reason: 'typed',
    });
  });

  it('reads a command pasted as a code span (`list c-7f*`) without look-alike quotes in the answer', () => {
    expect(parseOk('`list c-7f*`')).toEqual({ kind: 'list', pattern: 'c-7f*' });
    expect(parseOk('list `c-7f*`')).toEqual({ kind: 'list', pattern: 'c-7f*' });
    const err = parseErr('`lsit c-7f*`');
    expect(err.suggestion).toBe('/zeus-recover list c-7f*');
    expect(err.message).not.toContain("'");
  });

  it('says an unclosed quote is unclosed instead of reading it as the reason', () => {
    const err = parseErr('restore c-1 --from postgres --reason "lost in');
    expect(err.message).toContain('Unclosed quote');
    expect(err.suggestion).toBe('/zeus-recover restore c-1 --from postgres --reason "lost in"');
  });
});

describe('parseCommand: typos and missing arguments', () => {
  it.each([
    ['inspcet c-1', 'inspect', '/zeus-recover inspect c-1'],
    ['insepct c-1', 'inspect', '/zeus-recover inspect c-1'],
    ['valdiate c-1', 'validate', '/zeus-recover validate c-1'],
    ['restroe c-1 --from s3 --reason lost', 'restore', '/zeus-recover restore c-1 --from s3 --reason lost'],
    ['exprot c-1 --tier s3', 'export', '/zeus-recover export c-1 --tier s3'],
    ['lst c-*', 'list', '/zeus-recover list c-*'],
    ['undp bk_12345678 --reason x', 'undo', '/zeus-recover undo bk_12345678 --reason x'],
    ['replya c-1 --from-step 2 --reason x', 'replay', '/zeus-recover replay c-1 --from-step 2 --reason x'],
    ['hlep', 'help', '/zeus-recover help'],
    ['insp c-1', 'inspect', '/zeus-recover inspect c-1'],
  ])('%s → %s', (text, verb, suggestion) => {
    const err = parseErr(text);
    expect(err.message).toContain(`did you mean \`${verb}\``);
    expect(err.suggestion).toBe(suggestion);
    // No verb was typed, so no one usage line: never the whole padded table (phone-readable).
    expect(err.usage).toBe('');
  });

  it('completes a corrected verb that still misses a flag', () => {
    expect(parseErr('restroe c-1').suggestion).toBe(
      '/zeus-recover restore c-1 --from postgres --reason "<why>"',
    );
  });

  it('offers inspect for a bare conversation id', () => {
    expect(parseErr('c-7f3a9e').suggestion).toBe('/zeus-recover inspect c-7f3a9e');
  });

  it('points to help when nothing is close', () => {
    const err = parseErr('frobnicate c-1');
    expect(err.message).toBe('`frobnicate` is not a command.');
    expect(err.suggestion).toBe('/zeus-recover help');
  });

  it('refuses a flag in place of the verb', () => {
    expect(parseErr('--from s3').message).toContain('Start with a command');
  });

  it.each([
    [
      'restore c-1',
      '`restore` needs `--from postgres|s3|backup:<id>`.',
      '/zeus-recover restore c-1 --from postgres --reason "<why>"',
    ],
    [
      'restore c-1 --reason redis flushed',
      '`restore` needs `--from postgres|s3|backup:<id>`.',
      '/zeus-recover restore c-1 --from postgres --reason redis flushed',
    ],
    ['diff c-1', '`diff` needs `--from postgres|s3|backup:<id>`.', '/zeus-recover diff c-1 --from postgres'],
    [
      'replay c-1',
      '`replay` needs `--from-step <N>`: the first step Zeus should run again.',
      '/zeus-recover replay c-1 --from-step 1 --reason "<why>"',
    ],
  ])('missing flag: %s', (text, message, suggestion) => {
    const err = parseErr(text);
    expect(err.message).toBe(message);
    expect(err.suggestion).toBe(suggestion);
  });

  it.each([
    ['restore c-1 postgres', '/zeus-recover restore c-1 --from postgres'],
    ['restore c-1 from s3', '/zeus-recover restore c-1 --from s3'],
    ['restore c-1 pg', '/zeus-recover restore c-1 --from postgres'],
    ['replay c-1 4', '/zeus-recover replay c-1 --from-step 4'],
    ['replay c-1 --from 4', '/zeus-recover replay c-1 --from-step 4'],
    ['export c-1 s3', '/zeus-recover export c-1 --tier s3'],
    ['restore c-1 --form s3', '/zeus-recover restore c-1 --from s3'],
    ['restore c-1 --from postgress', '/zeus-recover restore c-1 --from postgres --reason "<why>"'],
    ['export c-1 --tier pg', '/zeus-recover export c-1 --tier postgres'],
    ['restore c-1 --from s3 redis flushed', '/zeus-recover restore c-1 --from s3 --reason redis flushed'],
    ['inspect c-1 --from s3', '/zeus-recover inspect c-1'],
    ['inspect c-1 --reason just looking', '/zeus-recover inspect c-1'],
    ['inspect c-1 c-2', '/zeus-recover inspect c-1'],
  ])('forgotten or wrong flag: %s', (text, suggestion) => {
    expect(parseErr(text).suggestion).toBe(suggestion);
  });

  it('refuses file: sources in Slack, and Redis as a source', () => {
    const file = parseErr('restore c-1 --from file:/tmp/c-1.json');
    expect(file.message).toContain('no local files');
    expect(file.suggestion).toBeNull();
    expect(parseErr('restore c-1 --from redis').message).toContain('Redis is what a restore overwrites');
  });

  it.each([
    ['--from without a value', 'restore c-1 --from', '`--from` needs a source'],
    ['--from followed by a flag', 'restore c-1 --from --reason x', '`--from` needs a source'],
    ['empty --reason', 'restore c-1 --from s3 --reason', '`--reason` needs some text'],
    ['blank quoted --reason', 'restore c-1 --from s3 --reason "  "', '`--reason` needs some text'],
    ['--tier without a value', 'export c-1 --tier', '`--tier` needs a tier'],
    ['--from-step without a value', 'replay c-1 --from-step', '`--from-step` needs a step number'],
    ['step 0', 'replay c-1 --from-step 0', 'must be a whole number, 1 or more'],
    ['step -1', 'replay c-1 --from-step=-1', 'must be a whole number, 1 or more'],
    ['step 2.5', 'replay c-1 --from-step 2.5', 'must be a whole number, 1 or more'],
    ['step 1e3', 'replay c-1 --from-step 1e3', 'must be a whole number, 1 or more'],
    ['duplicate flag', 'restore c-1 --from s3 --from postgres', 'given twice'],
    ['undo without id', 'undo', '`undo` needs the backup id'],
    ['unknown option', 'restore c-1 --from s3 --force', '`--force` is not an option of `restore`'],
  ])('%s', (_label, text, message) => {
    expect(parseErr(text).message).toContain(message);
  });

  it('caps the reason length', () => {
    const err = parseErr(`restore c-1 --from s3 --reason ${'r'.repeat(REASON_MAX_LENGTH + 1)}`);
    expect(err.message).toContain(`under ${REASON_MAX_LENGTH}`);
  });
});

describe('parseCommand: phone input and --reason forms', () => {
  it('normalises smart quotes, non-breaking and zero-width spaces, and em-dash flags', () => {
    expect(normaliseText('“a” ‘b’\u00a0c\u200bd —from')).toBe(`"a" 'b' cd --from`);
    expect(parseOk('restore\u00a0c-1\u00a0—from\u00a0postgres\u00a0—reason “db lost it”')).toEqual({
      kind: 'restore',
      id: 'c-1',
      source: { kind: 'tier', tier: 'postgres' },
      reason: 'db lost it',
    });
    expect(parseOk('restore c-1 –from s3 –reason x')).toMatchObject({ source: { tier: 's3' } });
  });

  it.each([
    [
      'free text to the end',
      'restore c-1 --from s3 --reason Redis lost it after failover',
      'Redis lost it after failover',
    ],
    ['free text until the next flag', 'restore c-1 --reason Redis lost it --from s3', 'Redis lost it'],
    ['double-quoted', 'restore c-1 --from s3 --reason "Redis lost it"', 'Redis lost it'],
    ['smart-quoted', 'restore c-1 --from s3 --reason “Redis lost it”', 'Redis lost it'],
    ['single-quoted', "restore c-1 --from s3 --reason 'Redis lost it'", 'Redis lost it'],
    ['inline =', 'restore c-1 --from=s3 --reason=failover', 'failover'],
    ['inline quoted', 'restore c-1 --reason="Redis lost it" --from=s3', 'Redis lost it'],
    [
      'quoted with a flag inside',
      'restore c-1 --from s3 --reason "after --force failed"',
      'after --force failed',
    ],
    ['apostrophes', 'restore c-1 --from s3 --reason it’s gone, Redis’ fault', "it's gone, Redis' fault"],
    ['quotes inside free text', 'restore c-1 --from s3 --reason the "good" copy', 'the "good" copy'],
    ['multi-line', 'restore c-1 --from s3 --reason line one\nline two', 'line one\nline two'],
    ['trimmed', 'restore c-1 --from s3 --reason    spaced   out   ', 'spaced   out'],
  ])('--reason %s', (_label, text, reason) => {
    expect(parseOk(text)).toMatchObject({ kind: 'restore', id: 'c-1', reason });
  });

  it('reads --from=value and --from value alike', () => {
    expect(parseOk('diff c-1 --from=postgres')).toEqual(parseOk('diff c-1 --from postgres'));
    expect(parseOk(`diff c-1 --from=backup:${BK}`)).toEqual(parseOk(`diff c-1 --from backup:${BK}`));
  });

  it('reads --from_step as --from-step', () => {
    expect(parseOk('replay c-1 --from_step 2 --reason x')).toMatchObject({ fromStep: 2 });
  });
});

describe('parseCommand: quotes and length, without guessing', () => {
  it.each([
    ['double', 'restore c-1 --from s3 --reason "lost in', '"'],
    ['single', "restore c-1 --from s3 --reason 'cause Redis died", "'"],
    ['inline', 'restore c-1 --from s3 --reason="lost in', '"'],
    ['as the id', 'inspect "c-1', '"'],
  ])('an unclosed %s quote is an error that says so, and offers it closed', (_label, text, quote) => {
    const err = parseErr(text);
    expect(err.message).toMatch(/^Unclosed quote/);
    expect(err.suggestion).toBe(`${SLASH_COMMAND} ${text}${quote}`);
    expect(parseOk(`${text}${quote}`).kind).not.toBe('error');
  });

  it('refuses a command over MAX_COMMAND_LENGTH before reading it', () => {
    const text = `restore c-1 --from s3 --reason ${'"a '.repeat(MAX_COMMAND_LENGTH)}`;
    const err = parseErr(text);
    expect(err.message).toContain(`the limit is ${MAX_COMMAND_LENGTH}`);
    expect(parseErr(`inspect ${'a'.repeat(MAX_COMMAND_LENGTH)}`).message).toContain('the limit is');
  });

  it('scans quote-heavy text in one pass: at most two looks at each character', () => {
    // The shapes that made the old scanner rescan to the end from every quote.
    for (const unit of ['"a ', '" ', '\'x" ', '--reason="a ', 'a" ']) {
      for (const size of [100, 1000, MAX_COMMAND_LENGTH]) {
        const text = unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
        expect(scanCommand(text).steps).toBeLessThanOrEqual(2 * text.length + 1);
      }
    }
  });
});

describe('usageText', () => {
  it('lists every verb once, one per line', () => {
    const text = usageText();
    for (const verb of [
      'help',
      'inspect',
      'validate',
      'diff',
      'restore',
      'undo',
      'export',
      'list',
      'replay',
    ]) {
      expect(text).toMatch(new RegExp(`^/zeus-recover ${verb}\\b`, 'm'));
    }
    expect(text).toContain('--from postgres|s3|backup:<backupId>');
    expect(text).not.toContain('file:');
  });
});

describe('editDistance', () => {
  it('counts a transposition as one edit', () => {
    expect(editDistance('inspcet', 'inspect')).toBe(1);
    expect(editDistance('restroe', 'restore')).toBe(1);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('kitten', 'sitting')).toBe(3);
  });
});

describe('validateModalSubmission', () => {
  const B = MODAL_BLOCK_IDS;
  const submit = (values: Record<string, string | undefined>) => validateModalSubmission(values, opts);

  it('uses the block ids Slack errors are keyed by', () => {
    expect(B).toEqual({
      conversationId: 'conversation_id',
      action: 'action',
      source: 'source',
      backupId: 'backup_id',
      fromStep: 'from_step',
    });
  });

  it.each<[string, Record<string, string | undefined>, ParsedCommand | NeedsReason]>([
    ['inspect', { conversation_id: 'c-1', action: 'inspect' }, { kind: 'inspect', id: 'c-1' }],
    [
      'validate, id padded by a phone',
      { conversation_id: '\u00a0c-1 ', action: 'validate' },
      { kind: 'validate', id: 'c-1' },
    ],
    [
      'diff',
      { conversation_id: 'c-1', action: 'diff', source: 's3' },
      { kind: 'diff', id: 'c-1', source: { kind: 'tier', tier: 's3' } },
    ],
    [
      'restore from postgres, its reason asked next',
      { conversation_id: 'c-1', action: 'restore', source: 'postgres' },
      {
        kind: 'needs_reason',
        command: { kind: 'restore', id: 'c-1', source: { kind: 'tier', tier: 'postgres' } },
      },
    ],
    [
      'restore from a backup',
      { conversation_id: 'c-1', action: 'restore', source: 'backup', backup_id: BK },
      {
        kind: 'needs_reason',
        command: { kind: 'restore', id: 'c-1', source: { kind: 'backup', backupId: BK } },
      },
    ],
    [
      'undo (no conversation id needed)',
      { action: 'undo', backup_id: BK },
      { kind: 'needs_reason', command: { kind: 'undo', backupId: BK } },
    ],
    [
      'export defaults to redis',
      { conversation_id: 'c-1', action: 'export' },
      { kind: 'export', id: 'c-1', tier: 'redis' },
    ],
    [
      'export from s3',
      { conversation_id: 'c-1', action: 'export', source: 's3' },
      { kind: 'export', id: 'c-1', tier: 's3' },
    ],
    [
      'replay',
      { conversation_id: 'c-1', action: 'replay', from_step: '3' },
      { kind: 'needs_reason', command: { kind: 'replay', id: 'c-1', fromStep: 3 } },
    ],
  ])('accepts %s', (_label, values, command) => {
    expect(submit(values)).toEqual({ ok: true, command });
  });

  it.each<[string, Record<string, string | undefined>, Record<string, RegExp>]>([
    ['nothing chosen', {}, { action: /Choose an action/ }],
    ['unknown action', { conversation_id: 'c-1', action: 'drop' }, { action: /listed actions/ }],
    ['missing id', { action: 'inspect' }, { conversation_id: /Enter the conversation id/ }],
    [
      'hostile id',
      { action: 'inspect', conversation_id: '../x' },
      { conversation_id: /1–128 letters, digits/ },
    ],
    [
      'glob id',
      { action: 'restore', conversation_id: '*', source: 's3' },
      { conversation_id: /not a conversation id/ },
    ],
    [
      'restore without a source',
      { action: 'restore', conversation_id: 'c-1' },
      { source: /^Choose where to restore from\.$/ },
    ],
    ['diff without a source', { action: 'diff', conversation_id: 'c-1' }, { source: /compare with Redis/ }],
    [
      'restore from redis',
      { action: 'restore', conversation_id: 'c-1', source: 'redis' },
      { source: /overwrites/ },
    ],
    [
      'restore from a file',
      { action: 'restore', conversation_id: 'c-1', source: 'file:/x' },
      { source: /PostgreSQL, S3 or a backup/ },
    ],
    [
      'backup without an id',
      { action: 'restore', conversation_id: 'c-1', source: 'backup' },
      { backup_id: /Enter the backup id/ },
    ],
    [
      'backup with a bad id',
      { action: 'restore', conversation_id: 'c-1', source: 'backup', backup_id: 'nope' },
      { backup_id: /not a backup id/ },
    ],
    ['undo without a backup id', { action: 'undo' }, { backup_id: /Enter the backup id to undo/ }],
    [
      'export from a backup',
      { action: 'export', conversation_id: 'c-1', source: 'backup' },
      { source: /Export reads a tier/ },
    ],
    ['replay without a step', { action: 'replay', conversation_id: 'c-1' }, { from_step: /1 or more/ }],
    [
      'replay from step 0',
      { action: 'replay', conversation_id: 'c-1', from_step: '0' },
      { from_step: /1 or more/ },
    ],
    [
      'replay from step x',
      { action: 'replay', conversation_id: 'c-1', from_step: 'two' },
      { from_step: /1 or more/ },
    ],
    [
      'every problem at once',
      {
        action: 'replay',
        conversation_id: 'a b',
        from_step: '-2',
      },
      { conversation_id: /not a conversation id/, from_step: /1 or more/ },
    ],
  ])('refuses %s', (_label, values, expected) => {
    const result = submit(values);
    if (result.ok) throw new Error(`expected errors, got ${JSON.stringify(result.command)}`);
    expect(Object.keys(result.errors).sort()).toEqual(Object.keys(expected).sort());
    for (const [block, pattern] of Object.entries(expected)) {
      expect(result.errors[block]).toMatch(pattern);
    }
  });

  it('never echoes the submitted id back', () => {
    const result = submit({ action: 'inspect', conversation_id: `<!channel> ${'x'.repeat(300)}` });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.conversation_id).not.toContain('<!channel>');
  });
});
