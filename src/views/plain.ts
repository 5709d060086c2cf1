/**
 * A plain-text approximation of what a person sees in Slack, for tests, the local sandbox and
 * reviewers: live mentions become `@U123` / `@channel`, escaped text shows literally (so an
 * escaped `&lt;!channel&gt;` reads `<!channel>` — visibly not a ping), bold/italic markers go.
 */

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);

function renderToken(inner: string): string {
  const [target = '', label] = inner.split('|', 2);
  if (target.startsWith('@')) return `@${target.slice(1)}`;
  if (target.startsWith('#')) return label ? `#${label}` : target;
  if (target.startsWith('!subteam^')) return label ?? `@${target.slice('!subteam^'.length)}`;
  if (target.startsWith('!date^')) return label ?? target;
  if (target.startsWith('!')) return `@${target.slice(1)}`;
  return label ? `${label} (${target})` : target;
}

export function mrkdwnToPlain(text: string): string {
  return text
    .replace(/<([^<>]*)>/g, (_m, inner: string) => renderToken(inner))
    .replace(/(^|[\s(])\*(\S(?:[^*\n]*?\S)?)\*(?=$|[\s.,;:!?)])/gm, '$1$2')
    .replace(/(^|[\s(])_(\S(?:[^_\n]*?\S)?)_(?=$|[\s.,;:!?)])/gm, '$1$2')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function textOf(t: unknown): string {
  if (!isObj(t)) return '';
  return t.type === 'mrkdwn' ? mrkdwnToPlain(str(t.text)) : str(t.text);
}

function elementText(e: unknown): string {
  if (!isObj(e)) return '';
  switch (e.type) {
    case 'button': {
      const style = e.style === 'primary' || e.style === 'danger' ? ` (${e.style})` : '';
      return `[${textOf(e.text)}]${style}`;
    }
    case 'static_select': {
      const initial = isObj(e.initial_option) ? textOf(e.initial_option.text) : '';
      const options = arr(e.options)
        .map((o) => (isObj(o) ? textOf(o.text) : ''))
        .join(' / ');
      return `[${initial || textOf(e.placeholder) || 'choose'} ▾] (${options})`;
    }
    case 'plain_text_input':
    case 'number_input': {
      const value = str(e.initial_value);
      const placeholder = textOf(e.placeholder);
      const shown = value || (placeholder ? `placeholder: ${placeholder}` : ' ');
      return `[${shown}]${e.multiline === true ? ' (multi-line)' : ''}`;
    }
    case 'image':
      return `[image: ${str(e.alt_text)}]`;
    default:
      return `[${str(e.type)}]`;
  }
}

function blockText(b: unknown): string {
  if (!isObj(b)) return '';
  switch (b.type) {
    case 'header':
      return `# ${textOf(b.text)}`;
    case 'section': {
      const parts = [textOf(b.text), ...arr(b.fields).map(textOf)].filter((p) => p !== '');
      if (b.accessory !== undefined) parts.push(elementText(b.accessory));
      return parts.join('\n');
    }
    case 'context':
      return arr(b.elements)
        .map((e) => (isObj(e) && e.type === 'image' ? elementText(e) : textOf(e)))
        .join('  ·  ');
    case 'divider':
      return '---';
    case 'actions':
      return arr(b.elements).map(elementText).join(' ');
    case 'input': {
      const optional = b.optional === true ? ' (optional)' : '';
      const hint = isObj(b.hint) ? `\n  ${textOf(b.hint)}` : '';
      return `${textOf(b.label)}${optional}: ${elementText(b.element)}${hint}`;
    }
    default:
      return `[${str(b.type)} block]`;
  }
}

/** Blocks, a message (`{ text, blocks }`) or a modal view, as the lines a reader would see. */
export function toPlainText(input: readonly unknown[] | object): string {
  if (Array.isArray(input)) return input.map(blockText).join('\n');
  const view = input as Obj;
  const body = arr(view.blocks).map(blockText).join('\n');
  if (view.type !== 'modal') return body;
  const buttons = [view.close, view.submit].filter(isObj).map((t) => `[${textOf(t)}]`);
  return [`== ${textOf(view.title)} ==`, body, buttons.join(' ')].filter((p) => p !== '').join('\n');
}
