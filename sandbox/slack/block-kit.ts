/**
 * The one Block Kit check: what Slack refuses with `invalid_blocks` / `invalid_arguments` (and
 * posts nothing). The local Slack runs every message and view the bot sends through it, so a
 * payload Slack would refuse is refused in the demo and the end-to-end tests too, and the view
 * tests run every view through it directly. Limits are Slack's published ones
 * (api.slack.com/reference/block-kit), as the views' own limits module records them.
 */
import {
  ACTIONS_ELEMENTS_MAX,
  BUTTON_TEXT_MAX,
  BUTTON_VALUE_MAX,
  CONFIRM_BUTTON_MAX,
  CONFIRM_TEXT_MAX,
  CONFIRM_TITLE_MAX,
  CONTEXT_ELEMENTS_MAX,
  HEADER_TEXT_MAX,
  ID_MAX,
  INPUT_HINT_MAX,
  INPUT_LABEL_MAX,
  MESSAGE_BLOCKS_MAX,
  MESSAGE_TEXT_MAX,
  MODAL_BLOCKS_MAX,
  MODAL_CLOSE_MAX,
  MODAL_SUBMIT_MAX,
  MODAL_TITLE_MAX,
  MRKDWN_TEXT_MAX,
  OPTION_TEXT_MAX,
  OPTION_VALUE_MAX,
  PLACEHOLDER_MAX,
  PLAIN_TEXT_INPUT_MAX,
  PRIVATE_METADATA_MAX,
  SECTION_FIELD_TEXT_MAX,
  SECTION_FIELDS_MAX,
  SECTION_TEXT_MAX,
  STATIC_SELECT_OPTIONS_MAX,
} from '../../src/views/limits.js';

export interface LimitViolation {
  /** Where in the payload, e.g. `blocks[3].text.text`. */
  path: string;
  rule: string;
  max: number;
  actual: number;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

/** Block types Slack knows; any other is refused. */
const KNOWN_BLOCKS = new Set([
  'section',
  'header',
  'context',
  'divider',
  'actions',
  'input',
  'image',
  'rich_text',
  'file',
  'video',
  'markdown',
]);

class Checker {
  readonly violations: LimitViolation[] = [];

  constructor(readonly surface: 'message' | 'modal') {}

  /** A structural refusal (wrong type, missing part): no length involved. */
  refuse(path: string, rule: string): void {
    this.violations.push({ path, rule, max: 0, actual: 1 });
  }

  max(path: string, rule: string, value: number | null, max: number): void {
    if (value !== null && value > max) this.violations.push({ path, rule, max, actual: value });
  }

  /** Text objects must have 1..max characters; some places take plain_text only. */
  text(path: string, rule: string, t: unknown, max: number, required = true, plainOnly = false): void {
    if (t === undefined && !required) return;
    const s = isObj(t) ? str(t.text) : null;
    if (s === null || s.length === 0) {
      this.violations.push({ path, rule: `${rule} (missing or empty)`, max, actual: 0 });
      return;
    }
    if (isObj(t) && t.type !== 'plain_text' && (plainOnly || t.type !== 'mrkdwn'))
      this.refuse(`${path}.type`, `${rule} must be ${plainOnly ? 'plain_text' : 'a text object'}`);
    this.max(`${path}.text`, rule, s.length, max);
  }

  id(path: string, rule: string, v: unknown): void {
    const s = str(v);
    if (s !== null) this.max(path, rule, s.length, ID_MAX);
  }

  confirm(path: string, c: unknown): void {
    if (!isObj(c)) return;
    this.text(`${path}.title`, 'confirm title', c.title, CONFIRM_TITLE_MAX, false);
    this.text(`${path}.text`, 'confirm text', c.text, CONFIRM_TEXT_MAX);
    this.text(`${path}.confirm`, 'confirm button', c.confirm, CONFIRM_BUTTON_MAX, false);
    this.text(`${path}.deny`, 'confirm deny button', c.deny, CONFIRM_BUTTON_MAX, false);
  }

  element(path: string, e: unknown): void {
    if (!isObj(e)) {
      this.refuse(path, 'element is not an object');
      return;
    }
    this.id(`${path}.action_id`, 'action_id', e.action_id);
    this.confirm(`${path}.confirm`, e.confirm);
    this.text(`${path}.placeholder`, 'placeholder', e.placeholder, PLACEHOLDER_MAX, false);
    switch (e.type) {
      case 'button':
        this.text(`${path}.text`, 'button text', e.text, BUTTON_TEXT_MAX, true, true);
        this.max(`${path}.value`, 'button value', str(e.value)?.length ?? null, BUTTON_VALUE_MAX);
        if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger')
          this.refuse(`${path}.style`, 'button style must be primary or danger');
        break;
      case 'static_select': {
        const options = arr(e.options);
        this.max(`${path}.options`, 'static_select options', options.length, STATIC_SELECT_OPTIONS_MAX);
        const values = new Set<string>();
        options.forEach((o, i) => {
          if (!isObj(o)) return;
          this.text(`${path}.options[${i}].text`, 'option text', o.text, OPTION_TEXT_MAX);
          const v = str(o.value);
          this.max(`${path}.options[${i}].value`, 'option value', v?.length ?? null, OPTION_VALUE_MAX);
          if (v !== null) values.add(v);
        });
        // Slack refuses an initial option that is not one of the options.
        const initial = isObj(e.initial_option) ? str(e.initial_option.value) : null;
        if (initial !== null && !values.has(initial)) {
          this.violations.push({
            path: `${path}.initial_option`,
            rule: 'initial_option not among options',
            max: 0,
            actual: 1,
          });
        }
        break;
      }
      case 'plain_text_input': {
        const maxLength = typeof e.max_length === 'number' ? e.max_length : PLAIN_TEXT_INPUT_MAX;
        this.max(
          `${path}.initial_value`,
          'plain_text_input initial_value',
          str(e.initial_value)?.length ?? null,
          maxLength,
        );
        break;
      }
    }
  }

  block(path: string, b: unknown, blockIds: Set<string>): void {
    if (!isObj(b) || typeof b.type !== 'string') {
      this.refuse(path, 'block is not an object with a type');
      return;
    }
    if (!KNOWN_BLOCKS.has(b.type)) this.refuse(`${path}.type`, `unknown block type ${b.type}`);
    const blockId = str(b.block_id);
    if (blockId !== null) {
      this.id(`${path}.block_id`, 'block_id', blockId);
      if (blockIds.has(blockId))
        this.violations.push({ path: `${path}.block_id`, rule: 'duplicate block_id', max: 1, actual: 2 });
      blockIds.add(blockId);
    }
    switch (b.type) {
      case 'section': {
        const fields = arr(b.fields);
        if (b.text === undefined && fields.length === 0) {
          this.violations.push({ path, rule: 'section needs text or fields', max: 0, actual: 0 });
        }
        this.text(`${path}.text`, 'section text', b.text, SECTION_TEXT_MAX, false);
        this.max(`${path}.fields`, 'section fields', fields.length, SECTION_FIELDS_MAX);
        for (const [i, f] of fields.entries()) {
          this.text(`${path}.fields[${i}]`, 'section field text', f, SECTION_FIELD_TEXT_MAX);
        }
        if (b.accessory !== undefined) this.element(`${path}.accessory`, b.accessory);
        break;
      }
      case 'header':
        this.text(`${path}.text`, 'header text', b.text, HEADER_TEXT_MAX, true, true);
        break;
      case 'context': {
        const elements = arr(b.elements);
        if (elements.length === 0)
          this.violations.push({ path, rule: 'context needs elements', max: 0, actual: 0 });
        this.max(`${path}.elements`, 'context elements', elements.length, CONTEXT_ELEMENTS_MAX);
        elements.forEach((e, i) => {
          if (isObj(e) && e.type !== 'image')
            this.text(`${path}.elements[${i}]`, 'context text', e, MRKDWN_TEXT_MAX);
        });
        break;
      }
      case 'actions': {
        const elements = arr(b.elements);
        if (elements.length === 0)
          this.violations.push({ path, rule: 'actions needs elements', max: 0, actual: 0 });
        this.max(`${path}.elements`, 'actions elements', elements.length, ACTIONS_ELEMENTS_MAX);
        const actionIds = new Set<string>();
        elements.forEach((e, i) => {
          this.element(`${path}.elements[${i}]`, e);
          const id = isObj(e) ? str(e.action_id) : null;
          if (id !== null && actionIds.has(id)) {
            this.violations.push({
              path: `${path}.elements[${i}].action_id`,
              rule: 'duplicate action_id',
              max: 1,
              actual: 2,
            });
          }
          if (id !== null) actionIds.add(id);
        });
        break;
      }
      case 'input':
        if (this.surface === 'message') this.refuse(path, 'input blocks belong in modals');
        this.text(`${path}.label`, 'input label', b.label, INPUT_LABEL_MAX, true, true);
        this.text(`${path}.hint`, 'input hint', b.hint, INPUT_HINT_MAX, false);
        this.element(`${path}.element`, b.element);
        break;
    }
  }

  blocks(blocks: unknown): void {
    if (!Array.isArray(blocks)) {
      this.refuse('blocks', 'blocks must be an array');
      return;
    }
    const list: unknown[] = blocks;
    this.max(
      'blocks',
      'blocks',
      list.length,
      this.surface === 'message' ? MESSAGE_BLOCKS_MAX : MODAL_BLOCKS_MAX,
    );
    const ids = new Set<string>();
    for (const [i, b] of list.entries()) this.block(`blocks[${i}]`, b, ids);
  }
}

/** Every way a message payload would be refused (or silently cut) by Slack; empty when fine. */
export function checkMessageLimits(msg: { text?: unknown; blocks?: unknown }): LimitViolation[] {
  const c = new Checker('message');
  const text = str(msg.text);
  if (text === null || text.trim() === '')
    c.violations.push({ path: 'text', rule: 'fallback text missing', max: 0, actual: 0 });
  else c.max('text', 'message text', text.length, MESSAGE_TEXT_MAX);
  c.blocks(msg.blocks ?? []);
  return c.violations;
}

export function checkModalLimits(modal: object): LimitViolation[] {
  const view = modal as Obj;
  const c = new Checker('modal');
  if (view.type !== 'modal') c.refuse('type', 'view type must be modal');
  c.text('title', 'modal title', view.title, MODAL_TITLE_MAX, true, true);
  c.text('submit', 'modal submit', view.submit, MODAL_SUBMIT_MAX, false, true);
  c.text('close', 'modal close', view.close, MODAL_CLOSE_MAX, false, true);
  c.id('callback_id', 'callback_id', view.callback_id);
  c.max(
    'private_metadata',
    'private_metadata',
    str(view.private_metadata)?.length ?? null,
    PRIVATE_METADATA_MAX,
  );
  const hasInput = arr(view.blocks).some((b) => isObj(b) && b.type === 'input');
  if (hasInput && view.submit === undefined)
    c.violations.push({ path: 'submit', rule: 'submit required with input blocks', max: 0, actual: 0 });
  c.blocks(view.blocks ?? []);
  return c.violations;
}

/** A Home tab (views.publish): type `home`, at most 100 blocks like a modal, no title or submit. */
export function checkHomeLimits(home: object): LimitViolation[] {
  const view = home as Obj;
  const c = new Checker('modal');
  if (view.type !== 'home') c.refuse('type', 'view type must be home');
  c.blocks(view.blocks ?? []);
  return c.violations;
}

/** A violation as one line of Slack's `response_metadata.messages` (`[ERROR] …`). */
export function describeViolation(v: LimitViolation): string {
  const size = v.max > 0 || v.actual > 1 ? ` (at most ${v.max}, is ${v.actual})` : '';
  return `[ERROR] ${v.path}: ${v.rule}${size}`;
}

/** views.publish's check, in Slack's `[ERROR] …` lines. */
export function checkHomeView(view: unknown): string[] {
  if (!isObj(view)) return ['[ERROR] view: must be an object'];
  return checkHomeLimits(view).map(describeViolation);
}

/** What the local Slack checks on chat.postMessage / chat.update: the blocks only, not the fallback text. */
export function checkBlocks(blocks: unknown, surface: 'message' | 'modal'): string[] {
  const c = new Checker(surface);
  c.blocks(blocks);
  return c.violations.map(describeViolation);
}

/** What the local Slack checks on views.open / update / push and on a view in a submission's ack. */
export function checkView(view: unknown): string[] {
  if (!isObj(view)) return ['[ERROR] view: must be an object'];
  return checkModalLimits(view).map(describeViolation);
}
