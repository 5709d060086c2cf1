import { describe, expect, it } from 'vitest';
import { checkMessageLimits, checkModalLimits } from '../../../sandbox/slack/block-kit.js';
import { clip, MESSAGE_BLOCKS_MAX, SECTION_TEXT_MAX, truncate } from '../../../src/views/index.js';

const section = (text: string) => ({ type: 'section', text: { type: 'mrkdwn', text } });
const button = (over: Record<string, unknown> = {}) => ({
  type: 'button',
  action_id: 'a',
  text: { type: 'plain_text', text: 'Go' },
  value: 'v',
  ...over,
});
const rules = (violations: Array<{ rule: string }>) => violations.map((v) => v.rule);

describe('truncate', () => {
  it('leaves text that fits alone', () => {
    expect(truncate('short', 10)).toBe('short');
  });

  it('stays within the limit and says how much it cut', () => {
    const text = 'word '.repeat(2000);
    const out = truncate(text, SECTION_TEXT_MAX);
    expect(out.length).toBeLessThanOrEqual(SECTION_TEXT_MAX);
    const match = /\n… \(truncated, ([\d,]+) more characters\)$/.exec(out);
    expect(match).not.toBeNull();
    const kept = out.slice(0, match?.index);
    expect(kept.length + Number(match?.[1]?.replace(/,/g, ''))).toBe(text.length);
  });

  it('names the CLI command that shows everything', () => {
    const out = truncate('x'.repeat(5000), 3000, { cli: 'zeus-recover inspect c-1' });
    expect(out).toMatch(/— see the CLI: `zeus-recover inspect c-1`\)$/);
  });

  it('escapes a hostile CLI hint', () => {
    const out = truncate('x'.repeat(5000), 3000, { cli: 'zeus-recover inspect <!channel>`' });
    expect(out).not.toContain('<!channel>');
    expect(out).toContain('&lt;!channel&gt;');
  });

  it('never cuts an entity, a mention or an emoji in half', () => {
    for (const unit of ['&amp;', '<@U0ABCDEF>', '😀', '&lt;!channel&gt;']) {
      for (let max = 200; max < 260; max++) {
        const out = truncate(unit.repeat(500), max);
        const body = out.slice(0, out.lastIndexOf('\n…'));
        expect(body, `${unit} at ${max}`).not.toMatch(/&[a-z]*$/);
        expect(body, `${unit} at ${max}`).not.toMatch(/<[^>]*$/);
        expect(body.charCodeAt(body.length - 1) & 0xfc00, `${unit} at ${max}`).not.toBe(0xd800);
      }
    }
  });

  it('closes a code block the cut left open, so the note stays readable', () => {
    const out = truncate(`\`\`\`\n${'line\n'.repeat(2000)}\`\`\``, 1000);
    expect(out.split('```').length % 2).toBe(1);
    expect(out).toMatch(/```\n… \(truncated/);
  });

  it('falls back to an ellipsis when the note itself would not fit', () => {
    const out = truncate('x'.repeat(100), 20);
    expect(out).toHaveLength(20);
    expect(out.endsWith('…')).toBe(true);
  });
});

describe('clip', () => {
  it('cuts plain labels with an ellipsis', () => {
    expect(clip('Approval needed: restore c-1 from postgres', 20)).toBe('Approval needed: re…');
    expect(clip('ok', 20)).toBe('ok');
  });

  it('treats < and & as plain characters unless asked', () => {
    expect(clip('<id> and more text', 10)).toBe('<id> and…');
  });
});

describe('checkMessageLimits', () => {
  it('accepts a valid message', () => {
    expect(checkMessageLimits({ text: 'hi', blocks: [section('hello')] })).toEqual([]);
  });

  it('finds every kind of violation', () => {
    const found = rules(
      checkMessageLimits({
        text: '',
        blocks: [
          section('x'.repeat(3001)),
          { type: 'section', fields: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'f' })) },
          { type: 'section', fields: [{ type: 'mrkdwn', text: 'x'.repeat(2001) }] },
          { type: 'section' },
          section(''),
          { type: 'header', text: { type: 'plain_text', text: 'x'.repeat(151) } },
          { type: 'context', elements: Array.from({ length: 11 }, () => ({ type: 'mrkdwn', text: 'c' })) },
          { type: 'context', elements: [{ type: 'mrkdwn', text: 'x'.repeat(3001) }] },
          {
            type: 'actions',
            block_id: 'b'.repeat(256),
            elements: [
              button({ text: { type: 'plain_text', text: 'x'.repeat(76) } }),
              button({ action_id: 'a'.repeat(256), value: 'v'.repeat(2001) }),
              button({ action_id: 'dup' }),
              button({ action_id: 'dup', confirm: { text: { type: 'plain_text', text: 'x'.repeat(301) } } }),
            ],
          },
          { type: 'actions', elements: Array.from({ length: 26 }, (_, i) => button({ action_id: `a${i}` })) },
          {
            type: 'actions',
            block_id: 'same',
            elements: [
              {
                type: 'static_select',
                action_id: 's',
                options: Array.from({ length: 101 }, (_, i) => ({
                  text: { type: 'plain_text', text: 'o' },
                  value: `${i}`,
                })),
              },
            ],
          },
          { type: 'divider', block_id: 'same' },
        ],
      }),
    );
    expect(rules([])).toEqual([]);
    for (const rule of [
      'fallback text missing',
      'section text',
      'section fields',
      'section field text',
      'section needs text or fields',
      'section text (missing or empty)',
      'header text',
      'context elements',
      'context text',
      'block_id',
      'button text',
      'action_id',
      'button value',
      'duplicate action_id',
      'confirm text',
      'actions elements',
      'static_select options',
      'duplicate block_id',
    ]) {
      expect(found, rule).toContain(rule);
    }
  });

  it('counts blocks', () => {
    const blocks = Array.from({ length: MESSAGE_BLOCKS_MAX + 1 }, () => ({ type: 'divider' }));
    expect(rules(checkMessageLimits({ text: 't', blocks }))).toEqual(['blocks']);
  });

  it('flags message text Slack would cut', () => {
    expect(rules(checkMessageLimits({ text: 'x'.repeat(40_001), blocks: [] }))).toEqual(['message text']);
  });
});

describe('checkModalLimits', () => {
  const input = {
    type: 'input',
    block_id: 'i',
    label: { type: 'plain_text', text: 'L' },
    element: { type: 'plain_text_input', action_id: 'i' },
  };

  it('accepts a valid modal', () => {
    expect(
      checkModalLimits({
        type: 'modal',
        title: { type: 'plain_text', text: 'T' },
        submit: { type: 'plain_text', text: 'S' },
        blocks: [input],
      }),
    ).toEqual([]);
  });

  it('finds title, buttons, ids, metadata, block count and select problems', () => {
    const found = rules(
      checkModalLimits({
        type: 'modal',
        title: { type: 'plain_text', text: 'x'.repeat(25) },
        close: { type: 'plain_text', text: 'x'.repeat(25) },
        callback_id: 'c'.repeat(256),
        private_metadata: 'm'.repeat(3001),
        blocks: [
          input,
          {
            type: 'input',
            block_id: 'sel',
            label: { type: 'plain_text', text: 'S' },
            element: {
              type: 'static_select',
              action_id: 'sel',
              options: [{ text: { type: 'plain_text', text: 'x'.repeat(76) }, value: 'a' }],
              initial_option: { text: { type: 'plain_text', text: 'b' }, value: 'b' },
            },
          },
          ...Array.from({ length: 100 }, () => ({ type: 'divider' })),
        ],
      }),
    );
    for (const rule of [
      'modal title',
      'modal close',
      'callback_id',
      'private_metadata',
      'submit required with input blocks',
      'option text',
      'initial_option not among options',
      'blocks',
    ]) {
      expect(found, rule).toContain(rule);
    }
    expect(
      rules(
        checkModalLimits({
          type: 'modal',
          title: { type: 'plain_text', text: 'T' },
          submit: { type: 'plain_text', text: 'x'.repeat(25) },
          blocks: [],
        }),
      ),
    ).toEqual(['modal submit']);
  });
});
