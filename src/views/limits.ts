/**
 * Block Kit limits (Slack's Block Kit reference, api.slack.com/reference/block-kit: the
 * per-message and per-element ones the views touch). Slack answers a violation with `invalid_blocks` and posts nothing, which at
 * 3 a.m. means a silent incident thread — so views truncate visibly and tests check every view.
 */
import { code } from './escape.js';

export const MESSAGE_BLOCKS_MAX = 50;
export const MODAL_BLOCKS_MAX = 100;
export const SECTION_TEXT_MAX = 3000;
export const MRKDWN_TEXT_MAX = 3000;
export const SECTION_FIELDS_MAX = 10;
export const SECTION_FIELD_TEXT_MAX = 2000;
export const HEADER_TEXT_MAX = 150;
export const BUTTON_TEXT_MAX = 75;
export const BUTTON_VALUE_MAX = 2000;
export const ID_MAX = 255;
export const STATIC_SELECT_OPTIONS_MAX = 100;
export const OPTION_TEXT_MAX = 75;
export const OPTION_VALUE_MAX = 150;
export const ACTIONS_ELEMENTS_MAX = 25;
export const CONTEXT_ELEMENTS_MAX = 10;
export const MODAL_TITLE_MAX = 24;
export const MODAL_SUBMIT_MAX = 24;
export const MODAL_CLOSE_MAX = 24;
export const PRIVATE_METADATA_MAX = 3000;
export const CONFIRM_TITLE_MAX = 100;
export const CONFIRM_TEXT_MAX = 300;
export const CONFIRM_BUTTON_MAX = 30;
export const INPUT_LABEL_MAX = 2000;
export const INPUT_HINT_MAX = 2000;
export const PLACEHOLDER_MAX = 150;
export const PLAIN_TEXT_INPUT_MAX = 3000;
/** Slack truncates message text beyond this; `chat.update` may refuse long text earlier. */
export const MESSAGE_TEXT_MAX = 40_000;
/** Our own budget for the fallback `text`: a notification, not a document. */
export const FALLBACK_TEXT_MAX = 3000;

export interface TruncateOptions {
  /** The CLI command that shows everything, named in the truncation note. */
  cli?: string | undefined;
}

function truncationNote(more: number, cli: string | undefined): string {
  const where = cli ? ` — see the CLI: ${code(cli)}` : '';
  return `… (truncated, ${more.toLocaleString('en-US')} more characters${where})`;
}

/** Where to cut mrkdwn at or before `limit` without leaving half an entity, token or emoji. */
function safeCut(text: string, limit: number, markup: boolean): number {
  let cut = Math.max(0, Math.min(limit, text.length));
  const unit = text.charCodeAt(cut - 1);
  if (unit >= 0xd800 && unit <= 0xdbff) cut -= 1;
  if (markup) {
    // `&amp;` cut to `&am` would show as garbage.
    const amp = text.lastIndexOf('&', cut - 1);
    if (amp >= 0 && cut - amp < 10 && !text.slice(amp, cut).includes(';')) cut = amp;
    // Our own `<@U…>` / `<!subteam^…>` tokens; escaped user text holds no raw `<`.
    const lt = text.lastIndexOf('<', cut - 1);
    if (lt >= 0 && !text.slice(lt, cut).includes('>')) cut = lt;
  }
  // A cut at a line or word break reads better, if that costs little.
  const nl = text.lastIndexOf('\n', cut);
  if (nl > cut * 0.8) return nl;
  const sp = text.lastIndexOf(' ', cut);
  if (sp > cut * 0.9) return sp;
  return cut;
}

/** Closes a code span or block left open by the cut, so it does not swallow the note. */
function closeOpenCode(kept: string): string {
  const fences = kept.split('```').length - 1;
  if (fences % 2 === 1) return `${kept}\n\`\`\``;
  const ticks = kept.replace(/```/g, '').split('`').length - 1;
  return ticks % 2 === 1 ? `${kept}\`` : kept;
}

/**
 * Shortens mrkdwn to at most `max` characters, saying that it did and how much is missing, so
 * nobody mistakes a cut report for the whole one.
 */
export function truncate(text: string, max: number, opts: TruncateOptions = {}): string {
  if (text.length <= max) return text;
  // Sized for the longest possible count; the real note is never longer.
  const reserve = truncationNote(text.length, opts.cli).length + 5;
  if (reserve >= max) return clip(text, max, { markup: true });
  const kept = text.slice(0, safeCut(text, max - reserve, true)).trimEnd();
  return `${closeOpenCode(kept)}\n${truncationNote(text.length - kept.length, opts.cli)}`;
}

/**
 * For short labels (headers, buttons, options) where a note does not fit: just an ellipsis.
 * `markup` for mrkdwn (keeps entities and `<…>` tokens whole); plain text has neither.
 */
export function clip(text: string, max: number, opts: { markup?: boolean } = {}): string {
  if (text.length <= max) return text;
  if (max <= 1) return text.slice(0, Math.max(0, max));
  return `${text.slice(0, safeCut(text, max - 1, opts.markup ?? false)).trimEnd()}…`;
}
