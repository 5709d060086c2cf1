import { describe, expect, it } from 'vitest';
import { checkMessageLimits } from '../../../sandbox/slack/block-kit.js';
import { ACTION } from '../../../src/slack-ids.js';
import { LIST_PAGE_SIZE, listView, nextPageValue, readNextPageValue } from '../../../src/views/list.js';
import { toPlainText } from '../../../src/views/plain.js';

function button(msg: { blocks: unknown[] }): { action_id: string; value: string } | undefined {
  for (const block of msg.blocks as { type: string; elements?: { action_id: string; value: string }[] }[]) {
    if (block.type === 'actions') return block.elements?.[0];
  }
  return undefined;
}

describe('list in Slack (private pages)', () => {
  it('shows a page privately with a Next page button carrying the pattern and the SCAN cursor', () => {
    const ids = Array.from({ length: LIST_PAGE_SIZE }, (_, i) => `c-7f${i}`);
    const msg = listView({ pattern: 'c-7f*', ids, cursor: '1536' }, { first: true });
    expect(msg.response_type).toBe('ephemeral');
    const text = toPlainText(msg);
    expect(text).toContain('Conversations in Redis matching `c-7f*`');
    for (const id of ids) expect(text).toContain(`\`${id}\``);
    expect(text).toContain('20 ids on this page; more on the next page');
    expect(text).toContain('Only you can see this');
    const next = button(msg);
    expect(next?.action_id).toBe(ACTION.listNextPage);
    expect(readNextPageValue(next?.value ?? '')).toEqual({ pattern: 'c-7f*', cursor: '1536' });
    expect(checkMessageLimits(msg)).toEqual([]);
  });

  it('ends the list without a button once SCAN is round (cursor 0)', () => {
    const msg = listView({ pattern: '*', ids: ['c-1', 'c-2'], cursor: '0' }, { first: false });
    expect(button(msg)).toBeUndefined();
    expect(toPlainText(msg)).toContain('2 ids on this page; end of the list');
    expect(toPlainText(msg)).toContain('(continued)');
  });

  it('says plainly when nothing matches, and when a later page finds no more', () => {
    expect(toPlainText(listView({ pattern: 'zz*', ids: [], cursor: '0' }, { first: true }))).toContain(
      'No conversation in Redis matching `zz*`.',
    );
    expect(toPlainText(listView({ pattern: '*', ids: [], cursor: '0' }, { first: false }))).toContain(
      'No more conversations in Redis: that was the last page.',
    );
  });

  it('keeps paging when a SCAN step found nothing but the cursor goes on', () => {
    const msg = listView({ pattern: 'c-*', ids: [], cursor: '77' }, { first: false });
    expect(toPlainText(msg)).toContain('None on this page; Redis has more to scan.');
    expect(readNextPageValue(button(msg)?.value ?? '')).toEqual({ pattern: 'c-*', cursor: '77' });
  });

  it('stays within Slack limits when SCAN hands back far more (and far longer) ids than asked', () => {
    const ids = Array.from({ length: 3000 }, (_, i) => `c-${'x'.repeat(120)}-${i}`);
    const msg = listView({ pattern: 'c-*', ids, cursor: '9' }, { first: true });
    expect(checkMessageLimits(msg)).toEqual([]);
    expect(toPlainText(msg)).toMatch(/more not shown: narrow the pattern/);
    expect(button(msg)).toBeDefined();
  });

  it('reads back only values it wrote', () => {
    expect(readNextPageValue(nextPageValue({ pattern: null, cursor: '5' }))).toEqual({
      pattern: null,
      cursor: '5',
    });
    for (const bad of [
      '',
      '5',
      'null',
      '{"p":"c-*"}',
      '{"p":3,"c":"5"}',
      '{"p":null,"c":""}',
      'x'.repeat(3000),
    ]) {
      expect(readNextPageValue(bad), bad).toBeNull();
    }
  });
});
