/**
 * The part of Slack's Block Kit validation the sandbox repeats, so a view that Slack would refuse
 * with `invalid_blocks` is refused locally too instead of looking fine in the demo. Limits are
 * Slack's published ones (api.slack.com/reference/block-kit), written out here on purpose rather than
 * imported from the bot's views: the check must not agree with the bot by construction.
 */

type Json = Record<string, unknown>;
const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

const MESSAGE_BLOCKS_MAX = 50;
const VIEW_BLOCKS_MAX = 100;
const SECTION_TEXT_MAX = 3000;
const SECTION_FIELDS_MAX = 10;
const FIELD_TEXT_MAX = 2000;
const HEADER_TEXT_MAX = 150;
const ACTIONS_ELEMENTS_MAX = 25;
const CONTEXT_ELEMENTS_MAX = 10;
const BUTTON_TEXT_MAX = 75;
const BUTTON_VALUE_MAX = 2000;
const ID_MAX = 255;
const OPTIONS_MAX = 100;
const VIEW_TITLE_MAX = 24;
const PRIVATE_METADATA_MAX = 3000;

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

function textLength(t: unknown): number | null {
  if (!isJson(t) || (t.type !== 'mrkdwn' && t.type !== 'plain_text') || typeof t.text !== 'string')
    return null;
  return t.text.length;
}

function checkText(t: unknown, max: number, where: string, problems: string[], plainOnly = false): void {
  const len = textLength(t);
  if (len === null) problems.push(`${where}: must be a text object`);
  else if (len === 0) problems.push(`${where}: must not be empty`);
  else if (len > max) problems.push(`${where}: must be at most ${max} characters (is ${len})`);
  else if (plainOnly && isJson(t) && t.type !== 'plain_text') problems.push(`${where}: must be plain_text`);
}

function checkElement(el: unknown, where: string, problems: string[]): void {
  if (!isJson(el)) {
    problems.push(`${where}: must be an object`);
    return;
  }
  if (typeof el.action_id === 'string' && el.action_id.length > ID_MAX) {
    problems.push(`${where}.action_id: must be at most ${ID_MAX} characters`);
  }
  if (el.type === 'button') {
    checkText(el.text, BUTTON_TEXT_MAX, `${where}.text`, problems, true);
    if (typeof el.value === 'string' && el.value.length > BUTTON_VALUE_MAX) {
      problems.push(`${where}.value: must be at most ${BUTTON_VALUE_MAX} characters`);
    }
    if (el.style !== undefined && el.style !== 'primary' && el.style !== 'danger') {
      problems.push(`${where}.style: must be primary or danger`);
    }
  }
  if (el.type === 'static_select' && Array.isArray(el.options) && el.options.length > OPTIONS_MAX) {
    problems.push(`${where}.options: must have at most ${OPTIONS_MAX} items`);
  }
}

/** Problems in `blocks` as Slack words them (`[ERROR] …` lines); empty when Slack would accept them. */
export function checkBlocks(blocks: unknown, surface: 'message' | 'modal'): string[] {
  const problems: string[] = [];
  if (!Array.isArray(blocks)) return ['blocks: must be an array'];
  const max = surface === 'message' ? MESSAGE_BLOCKS_MAX : VIEW_BLOCKS_MAX;
  if (blocks.length > max) problems.push(`blocks: must have at most ${max} items (has ${blocks.length})`);
  blocks.forEach((block, i) => {
    const where = `blocks[${i}]`;
    if (!isJson(block) || typeof block.type !== 'string') {
      problems.push(`${where}: must be a block with a type`);
      return;
    }
    if (!KNOWN_BLOCKS.has(block.type)) problems.push(`${where}.type: unknown block type ${block.type}`);
    if (typeof block.block_id === 'string' && block.block_id.length > ID_MAX) {
      problems.push(`${where}.block_id: must be at most ${ID_MAX} characters`);
    }
    switch (block.type) {
      case 'section': {
        if (block.text === undefined && block.fields === undefined) {
          problems.push(`${where}: must have text or fields`);
        }
        if (block.text !== undefined) checkText(block.text, SECTION_TEXT_MAX, `${where}.text`, problems);
        if (block.fields !== undefined) {
          if (!Array.isArray(block.fields) || block.fields.length > SECTION_FIELDS_MAX) {
            problems.push(`${where}.fields: must have at most ${SECTION_FIELDS_MAX} items`);
          } else {
            block.fields.forEach((f, j) => {
              checkText(f, FIELD_TEXT_MAX, `${where}.fields[${j}]`, problems);
            });
          }
        }
        if (block.accessory !== undefined) checkElement(block.accessory, `${where}.accessory`, problems);
        break;
      }
      case 'header':
        checkText(block.text, HEADER_TEXT_MAX, `${where}.text`, problems, true);
        break;
      case 'context':
        if (!Array.isArray(block.elements) || block.elements.length === 0) {
          problems.push(`${where}.elements: must not be empty`);
        } else if (block.elements.length > CONTEXT_ELEMENTS_MAX) {
          problems.push(`${where}.elements: must have at most ${CONTEXT_ELEMENTS_MAX} items`);
        }
        break;
      case 'actions':
        if (!Array.isArray(block.elements) || block.elements.length === 0) {
          problems.push(`${where}.elements: must not be empty`);
        } else {
          if (block.elements.length > ACTIONS_ELEMENTS_MAX) {
            problems.push(`${where}.elements: must have at most ${ACTIONS_ELEMENTS_MAX} items`);
          }
          block.elements.forEach((el, j) => {
            checkElement(el, `${where}.elements[${j}]`, problems);
          });
        }
        break;
      case 'input':
        if (surface === 'message') problems.push(`${where}: input blocks belong in modals`);
        checkText(block.label, 2000, `${where}.label`, problems, true);
        checkElement(block.element, `${where}.element`, problems);
        break;
    }
  });
  return problems;
}

/** A modal view's own fields (title, buttons, metadata) plus its blocks. */
export function checkView(view: unknown): string[] {
  if (!isJson(view)) return ['view: must be an object'];
  const problems: string[] = [];
  if (view.type !== 'modal') problems.push('view.type: must be modal');
  checkText(view.title, VIEW_TITLE_MAX, 'view.title', problems, true);
  if (view.submit !== undefined) checkText(view.submit, VIEW_TITLE_MAX, 'view.submit', problems, true);
  if (view.close !== undefined) checkText(view.close, VIEW_TITLE_MAX, 'view.close', problems, true);
  const hasInput = Array.isArray(view.blocks) && view.blocks.some((b) => isJson(b) && b.type === 'input');
  if (hasInput && view.submit === undefined) problems.push('view.submit: required when the view has inputs');
  if (typeof view.private_metadata === 'string' && view.private_metadata.length > PRIVATE_METADATA_MAX) {
    problems.push(`view.private_metadata: must be at most ${PRIVATE_METADATA_MAX} characters`);
  }
  problems.push(...checkBlocks(view.blocks ?? [], 'modal'));
  return problems;
}
