import { parseJsonObject } from '../json-value.js';
import type { ListResult } from '../recovery/operations.js';
import { ACTION, SLASH_COMMAND } from '../slack-ids.js';
import { code } from './escape.js';
import { plural } from './format.js';
import { BUTTON_VALUE_MAX, MESSAGE_BLOCKS_MAX, MRKDWN_TEXT_MAX } from './limits.js';
import { context, type EphemeralMessage, ephemeral, type KnownBlock, message, section } from './slack.js';

/**
 * `list` in Slack: a private page of conversation ids, with a "Next page" button while Redis's
 * SCAN has more. Private because it names no conversation, so there is no thread to post it in,
 * and a channel of ids helps nobody but the person looking.
 */

/** Ids a page asks for: a phone screen's worth. SCAN may hand back a few more; they are shown. */
export const LIST_PAGE_SIZE = 20;

/** Private answers to a Next page click the app will not act on (plain text: the error view escapes it). */
export const LIST_REFUSALS = {
  notAPage: {
    message: 'That button does not carry a list page this app made, so nothing was listed.',
    hint: `Run \`${SLASH_COMMAND} list\` again.`,
  },
  outsideIncident: { message: 'list works only in incident channels.' },
} as const;

/** What the Next page button carries: the pattern and the SCAN cursor to go on from. */
export interface ListPageRequest {
  pattern: string | null;
  cursor: string;
}

// The button's value is written and read here only, so its format cannot drift between the two.
export function nextPageValue(page: ListPageRequest): string {
  return JSON.stringify({ p: page.pattern, c: page.cursor });
}

/** The button's value back, or null when it is not one this view wrote. */
export function readNextPageValue(value: string): ListPageRequest | null {
  const parsed = parseJsonObject(value, BUTTON_VALUE_MAX);
  if (parsed === null) return null;
  const { p, c } = parsed;
  if (typeof c !== 'string' || c === '' || !(p === null || typeof p === 'string')) return null;
  return { pattern: p, cursor: c };
}

/** The ids as code spans, one per line, in as few sections as Slack's text limit allows. */
function idSections(ids: readonly string[], room: number): { blocks: KnownBlock[]; shown: number } {
  const blocks: KnownBlock[] = [];
  let lines: string[] = [];
  let length = 0;
  let shown = 0;
  for (const id of ids) {
    const item = code(id);
    if (length + item.length + 1 > MRKDWN_TEXT_MAX && lines.length > 0) {
      if (blocks.length + 1 >= room) break;
      blocks.push(section(lines.join('\n')));
      lines = [];
      length = 0;
    }
    lines.push(item);
    length += item.length + 1;
    shown++;
  }
  if (lines.length > 0) blocks.push(section(lines.join('\n')));
  return { blocks, shown };
}

/**
 * One page: `first` for the command's own answer, false for a page a button asked for. The cursor
 * `'0'` means SCAN went all the way round: the end of the list.
 */
export function listView(result: ListResult, opts: { first: boolean }): EphemeralMessage {
  const what = result.pattern === '*' ? 'in Redis' : `in Redis matching ${code(result.pattern)}`;
  const more = result.cursor !== '0';
  if (result.ids.length === 0 && !more) {
    const none = opts.first
      ? `No conversation ${what}.`
      : `No more conversations ${what}: that was the last page.`;
    return ephemeral(message(none, [section(none), context('Only you can see this.')]));
  }
  const title = `*Conversations ${what}*${opts.first ? '' : ' (continued)'}`;
  // Title, footer and the button's block stay; the rest is room for ids.
  const { blocks: idBlocks, shown } = idSections(result.ids, MESSAGE_BLOCKS_MAX - 3);
  const left = result.ids.length - shown;
  const count = `${plural(shown, 'id')} on this page${left > 0 ? ` (${left} more not shown: narrow the pattern)` : ''}`;
  const blocks: KnownBlock[] = [section(title), ...idBlocks];
  if (result.ids.length === 0) blocks.push(section('None on this page; Redis has more to scan.'));
  blocks.push(
    context(
      `${count}; ${more ? 'more on the next page' : 'end of the list'}. Look at one with ${code(`${SLASH_COMMAND} inspect <id>`)}. Only you can see this.`,
    ),
  );
  if (more) {
    blocks.push({
      type: 'actions',
      elements: [
        {
          type: 'button',
          action_id: ACTION.listNextPage,
          text: { type: 'plain_text', text: 'Next page' },
          value: nextPageValue({
            pattern: result.pattern === '*' ? null : result.pattern,
            cursor: result.cursor,
          }),
        },
      ],
    });
  }
  return ephemeral(message(`Conversations ${what}: ${count}.`, blocks));
}
