import type { types } from '@slack/bolt';
import {
  CONTEXT_ELEMENTS_MAX,
  clip,
  FALLBACK_TEXT_MAX,
  HEADER_TEXT_MAX,
  MESSAGE_BLOCKS_MAX,
  MRKDWN_TEXT_MAX,
  SECTION_FIELD_TEXT_MAX,
  SECTION_FIELDS_MAX,
  type TruncateOptions,
  truncate,
} from './limits.js';

// Bolt re-exports @slack/types as a namespace; going through it keeps us on the version Bolt uses.
export type KnownBlock = types.KnownBlock;
export type AnyBlock = types.AnyBlock;
export type ModalView = types.ModalView;
export type Button = types.Button;
export type InputBlock = types.InputBlock;
export type SectionBlock = types.SectionBlock;
export type ContextBlock = types.ContextBlock;
export type HeaderBlock = types.HeaderBlock;
export type DividerBlock = types.DividerBlock;
export type ActionsBlock = types.ActionsBlock;
export type MrkdwnElement = types.MrkdwnElement;
export type PlainTextElement = types.PlainTextElement;
export type PlainTextOption = types.PlainTextOption;

/** What every message view returns: `text` is what notifications and screen readers get. */
export interface SlackMessage {
  text: string;
  blocks: KnownBlock[];
}

/** `respond()` and `response_url` honour `response_type`; only the user who ran the command sees it. */
export interface EphemeralMessage extends SlackMessage {
  response_type: 'ephemeral';
}

export const mrkdwn = (text: string): MrkdwnElement => ({ type: 'mrkdwn', text });
export const plain = (text: string): PlainTextElement => ({ type: 'plain_text', text, emoji: true });

// Slack rejects empty text objects (`invalid_blocks`), so an empty string becomes a dash.
const nonEmpty = (text: string): string => (text.trim() === '' ? '—' : text);

export function header(text: string): HeaderBlock {
  return { type: 'header', text: plain(clip(nonEmpty(text), HEADER_TEXT_MAX)) };
}

export function section(text: string, opts: TruncateOptions = {}): SectionBlock {
  return { type: 'section', text: mrkdwn(truncate(nonEmpty(text), MRKDWN_TEXT_MAX, opts)) };
}

/** Two-column key/value layout; Slack shows at most 10 fields of 2000 characters each. */
export function fieldsSection(fields: readonly string[], opts: TruncateOptions = {}): SectionBlock {
  return {
    type: 'section',
    fields: fields
      .slice(0, SECTION_FIELDS_MAX)
      .map((f) => mrkdwn(truncate(nonEmpty(f), SECTION_FIELD_TEXT_MAX, opts))),
  };
}

export function context(...texts: readonly string[]): ContextBlock {
  const shown = texts.filter((t) => t.trim() !== '').slice(0, CONTEXT_ELEMENTS_MAX);
  return {
    type: 'context',
    elements: (shown.length > 0 ? shown : ['—']).map((t) => mrkdwn(truncate(t, MRKDWN_TEXT_MAX))),
  };
}

export const divider = (): DividerBlock => ({ type: 'divider' });

/**
 * `text` is mrkdwn too — Slack parses mentions in it and notifications show it — so callers pass
 * it already escaped, exactly like block text.
 *
 * Final guard for every message: views are built to stay far below the block limit, but if one
 * ever overflows, people see that something was left out instead of Slack refusing the post.
 */
export function message(text: string, blocks: KnownBlock[]): SlackMessage {
  let shown = blocks;
  if (blocks.length > MESSAGE_BLOCKS_MAX) {
    const omitted = blocks.length - (MESSAGE_BLOCKS_MAX - 1);
    shown = [...blocks.slice(0, MESSAGE_BLOCKS_MAX - 1), context(`…and ${omitted} more blocks not shown.`)];
  }
  return { text: truncate(nonEmpty(text), FALLBACK_TEXT_MAX), blocks: shown };
}

export function ephemeral(msg: SlackMessage): EphemeralMessage {
  return { ...msg, response_type: 'ephemeral' };
}
