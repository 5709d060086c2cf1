/**
 * Block Kit and mrkdwn rendering for the local Slack sandbox page.
 *
 * Everything here returns a tiny virtual DOM (`{ tag, attrs, children }` and strings) instead of
 * touching `document`: the page turns it into real nodes with `toDom`, which only ever uses
 * createElement / createTextNode / setAttribute, and the unit tests read it directly in Node.
 * No HTML string is ever built, so text from a message (which may quote what a user typed) can
 * never become markup.
 *
 * Plain ES module without a build step, loaded by the page as is; types in render.d.ts.
 */

/**
 * @typedef {{ tag: string, attrs: Record<string, string>, children: VNode[] }} VElement
 * @typedef {VElement | string} VNode
 * @typedef {{ name: string }} NamedUser
 * @typedef {{
 *   users?: Record<string, NamedUser>,
 *   usergroups?: Record<string, { handle: string }>,
 *   channels?: Record<string, { name: string }>,
 * }} RenderContext
 * @typedef {Record<string, any>} Json
 */

// ---------------------------------------------------------------------------------------------
// Virtual nodes

/**
 * @param {string} tag
 * @param {Record<string, string | number | boolean | null | undefined>} [attrs]
 * @param {...(VNode | VNode[] | null | undefined | false)} children
 * @returns {VElement}
 */
export function h(tag, attrs = {}, ...children) {
  /** @type {Record<string, string>} */
  const clean = {};
  for (const [key, value] of Object.entries(attrs)) {
    if (value === null || value === undefined || value === false) continue;
    clean[key] = value === true ? '' : String(value);
  }
  /** @type {VNode[]} */
  const flat = [];
  const add = (/** @type {unknown} */ c) => {
    if (c === null || c === undefined || c === false || c === '') return;
    if (Array.isArray(c)) c.forEach(add);
    else if (typeof c === 'string') flat.push(c);
    else if (typeof c === 'object') flat.push(/** @type {VElement} */ (c));
    else flat.push(String(c));
  };
  children.forEach(add);
  return { tag, attrs: clean, children: flat };
}

/** Text content of a virtual node, as a reader (or a test) sees it. */
export function textOf(/** @type {VNode | VNode[]} */ node) {
  if (Array.isArray(node)) return node.map(textOf).join('');
  if (typeof node === 'string') return node;
  if (node.tag === 'br') return '\n';
  return node.children.map(textOf).join('');
}

/** Depth-first search for elements matching a predicate (tests and the page use it). */
export function findAll(/** @type {VNode | VNode[]} */ node, /** @type {(e: VElement) => boolean} */ test) {
  /** @type {VElement[]} */
  const out = [];
  const walk = (/** @type {VNode} */ n) => {
    if (typeof n === 'string') return;
    if (test(n)) out.push(n);
    n.children.forEach(walk);
  };
  (Array.isArray(node) ? node : [node]).forEach(walk);
  return out;
}

const SAFE_URL = /^(https?:\/\/|mailto:)/i;
const ALLOWED_TAGS = new Set([
  'a',
  'blockquote',
  'br',
  'button',
  'code',
  'del',
  'div',
  'em',
  'fieldset',
  'h1',
  'h2',
  'h3',
  'hr',
  'input',
  'label',
  'legend',
  'li',
  'ol',
  'option',
  'optgroup',
  'p',
  'pre',
  'section',
  'select',
  'span',
  'strong',
  'textarea',
  'ul',
]);

/**
 * Real DOM nodes from a virtual node. Text goes through createTextNode only; event-handler
 * attributes and non-http(s) links are dropped even if a bug ever produced them.
 * @param {VNode} node
 * @param {Document} doc
 * @returns {Node}
 */
export function toDom(node, doc) {
  if (typeof node === 'string') return doc.createTextNode(node);
  const tag = ALLOWED_TAGS.has(node.tag) ? node.tag : 'span';
  const el = doc.createElement(tag);
  for (const [key, value] of Object.entries(node.attrs)) {
    if (/^on/i.test(key) || key === 'style' || key === 'srcdoc') continue;
    if (
      (key === 'href' || key === 'src' || key === 'action' || key === 'formaction') &&
      !SAFE_URL.test(value)
    )
      continue;
    el.setAttribute(key, value);
  }
  for (const child of node.children) el.appendChild(toDom(child, doc));
  return el;
}

// ---------------------------------------------------------------------------------------------
// mrkdwn

/**
 * @typedef {{ t: 'text', v: string }
 *   | { t: 'code', v: string }
 *   | { t: 'pre', v: string }
 *   | { t: 'b' | 'i' | 's' | 'quote', c: MdNode[] }
 *   | { t: 'user', id: string, label: string | null }
 *   | { t: 'channel', id: string, label: string | null }
 *   | { t: 'usergroup', id: string, label: string | null }
 *   | { t: 'special', name: string }
 *   | { t: 'date', fallback: string }
 *   | { t: 'link', url: string, label: string | null }} MdNode
 */

/** Slack escapes only these three; everything else in message text is literal. */
export function decodeEntities(/** @type {string} */ text) {
  return text.replace(/&(lt|gt|amp);/g, (_m, name) => (name === 'lt' ? '<' : name === 'gt' ? '>' : '&'));
}

const EMOJI = /** @type {Record<string, string>} */ ({
  white_check_mark: '✅',
  heavy_check_mark: '✔️',
  x: '❌',
  warning: '⚠️',
  rotating_light: '🚨',
  hourglass_flowing_sand: '⏳',
  hourglass: '⌛',
  mag: '🔍',
  lock: '🔒',
  thumbsup: '👍',
  '+1': '👍',
  tada: '🎉',
  eyes: '👀',
  information_source: 'ℹ️',
  no_entry: '⛔',
  arrows_counterclockwise: '🔄',
  thread: '🧵',
  stethoscope: '🩺',
  ring_buoy: '🛟',
  fire: '🔥',
  rocket: '🚀',
});

/** `:warning:` → ⚠️ for the shortcodes apps commonly use; unknown ones stay as typed. */
export function emojify(/** @type {string} */ text) {
  return text.replace(/:([a-z0-9_+-]{1,40}):/g, (m, name) => EMOJI[name] ?? m);
}

/** @returns {MdNode} */
function angleToken(/** @type {string} */ inner) {
  const bar = inner.indexOf('|');
  const target = bar < 0 ? inner : inner.slice(0, bar);
  const label = bar < 0 ? null : decodeEntities(inner.slice(bar + 1));
  if (target.startsWith('@')) return { t: 'user', id: target.slice(1), label };
  if (target.startsWith('#')) return { t: 'channel', id: target.slice(1), label };
  if (target.startsWith('!subteam^')) return { t: 'usergroup', id: target.slice('!subteam^'.length), label };
  if (target.startsWith('!date^')) return { t: 'date', fallback: label ?? target };
  if (target.startsWith('!')) return { t: 'special', name: label ?? target.slice(1) };
  return { t: 'link', url: decodeEntities(target), label };
}

// Private-use characters stand in for code spans and <…> tokens while emphasis is matched, so
// `*bold with `code` inside*` works and nothing inside a token is ever read as emphasis.
const PH_FIRST = 0xe000;
const PH_LAST = 0xf8ff;
const placeholder = (/** @type {number} */ i) => String.fromCharCode(PH_FIRST + i);

// Slack's rule: a marker opens after a non-word character and before a non-space, and closes
// after a non-space and before a non-word character (so snake_case_names stay as they are).
const EMPHASIS = [
  { t: /** @type {const} */ ('b'), re: /(^|[^\p{L}\p{N}*])\*(?=\S)([^*\n]*?[^\s*])\*(?=$|[^\p{L}\p{N}*])/u },
  { t: /** @type {const} */ ('i'), re: /(^|[^\p{L}\p{N}_])_(?=\S)([^_\n]*?[^\s_])_(?=$|[^\p{L}\p{N}_])/u },
  { t: /** @type {const} */ ('s'), re: /(^|[^\p{L}\p{N}~])~(?=\S)([^~\n]*?[^\s~])~(?=$|[^\p{L}\p{N}~])/u },
];

/**
 * @param {string} s text with placeholders
 * @param {MdNode[]} atoms what the placeholders stand for
 * @returns {MdNode[]}
 */
function expand(s, atoms) {
  /** @type {MdNode[]} */
  const out = [];
  let text = '';
  for (const ch of s) {
    const code = ch.charCodeAt(0);
    const atom = code >= PH_FIRST && code <= PH_LAST ? atoms[code - PH_FIRST] : undefined;
    if (atom) {
      if (text) out.push({ t: 'text', v: decodeEntities(text) });
      text = '';
      out.push(atom);
    } else {
      text += ch;
    }
  }
  if (text) out.push({ t: 'text', v: decodeEntities(text) });
  return out;
}

/**
 * @param {string} s
 * @param {MdNode[]} atoms
 * @returns {MdNode[]}
 */
function emphasis(s, atoms) {
  /** @type {{ t: 'b' | 'i' | 's', m: RegExpExecArray } | null} */
  let first = null;
  for (const { t, re } of EMPHASIS) {
    const m = re.exec(s);
    if (m && (first === null || m.index + (m[1] ?? '').length < first.m.index + (first.m[1] ?? '').length)) {
      first = { t, m };
    }
  }
  if (first === null) return expand(s, atoms);
  const { t, m } = first;
  const start = m.index + (m[1] ?? '').length;
  const end = m.index + m[0].length;
  return [
    ...expand(s.slice(0, start), atoms),
    { t, c: emphasis(m[2] ?? '', atoms) },
    ...emphasis(s.slice(end), atoms),
  ];
}

/** @returns {MdNode[]} */
function inline(/** @type {string} */ text) {
  /** @type {MdNode[]} */
  const atoms = [];
  const hold = (/** @type {MdNode} */ atom) => {
    atoms.push(atom);
    return placeholder(atoms.length - 1);
  };
  // Stray private-use characters in the input must not be mistaken for placeholders.
  const safe = text.replace(/[\ue000-\uf8ff]/g, '\ufffd');
  const withCode = safe.replace(/`([^`\n]+)`/g, (_m, body) => hold({ t: 'code', v: decodeEntities(body) }));
  const withTokens = withCode.replace(/<([^<>\n]+)>/g, (_m, inner) => hold(angleToken(inner)));
  return emphasis(withTokens, atoms);
}

/**
 * Slack mrkdwn as a small tree: ``` blocks, `>` quotes, `code`, *bold*, _italic_, ~strike~,
 * <@U…> / <#C…> / <!subteam^…> / <!here> mentions, <url|label> links, &lt; &gt; &amp; entities.
 * @param {string} text
 * @returns {MdNode[]}
 */
export function parseMrkdwn(text) {
  /** @type {MdNode[]} */
  const out = [];
  const parts = String(text).split(/```([\s\S]*?)```/);
  parts.forEach((part, index) => {
    if (index % 2 === 1) {
      out.push({ t: 'pre', v: decodeEntities(part.replace(/^\n/, '').replace(/\n$/, '')) });
      return;
    }
    // A quote is a block of its own: the line break before and after it is its edge, not text.
    let lines = part.split('\n');
    // Text right after a ``` block starts on a new line; its first '' is that boundary.
    if (index > 0 && lines[0] === '') lines = lines.slice(1);
    if (index < parts.length - 1 && lines.at(-1) === '') lines = lines.slice(0, -1);
    /** @type {{ quote: boolean, lines: string[] }[]} */
    const runs = [];
    for (const line of lines) {
      const quote = line.startsWith('>');
      const content = quote ? line.replace(/^> ?/, '') : line;
      const last = runs.at(-1);
      if (last && last.quote === quote) last.lines.push(content);
      else runs.push({ quote, lines: [content] });
    }
    for (const run of runs) {
      const joined = run.lines.join('\n');
      if (run.quote) out.push({ t: 'quote', c: inline(joined) });
      else if (joined !== '') out.push(...inline(joined));
    }
  });
  return out;
}

/** @returns {VNode[]} */
function mdNodes(/** @type {MdNode[]} */ nodes, /** @type {RenderContext} */ ctx) {
  return nodes.map((n) => mdNode(n, ctx));
}

/** @returns {VNode} */
function mdNode(/** @type {MdNode} */ n, /** @type {RenderContext} */ ctx) {
  switch (n.t) {
    case 'text':
      return emojify(n.v);
    case 'code':
      return h('code', { class: 'md-code' }, n.v);
    case 'pre':
      return h('pre', { class: 'md-pre' }, n.v);
    case 'b':
      return h('strong', {}, mdNodes(n.c, ctx));
    case 'i':
      return h('em', {}, mdNodes(n.c, ctx));
    case 's':
      return h('del', {}, mdNodes(n.c, ctx));
    case 'quote':
      return h('blockquote', { class: 'md-quote' }, mdNodes(n.c, ctx));
    case 'user': {
      const name = ctx.users?.[n.id]?.name ?? n.label ?? n.id;
      return h('span', { class: 'md-mention', 'data-user-id': n.id }, `@${name}`);
    }
    case 'channel': {
      const name = ctx.channels?.[n.id]?.name ?? n.label ?? n.id;
      return h('span', { class: 'md-mention md-mention--channel' }, `#${name}`);
    }
    case 'usergroup': {
      const handle = ctx.usergroups?.[n.id]?.handle;
      const shown = handle ? `@${handle}` : (n.label ?? `@${n.id}`);
      return h(
        'span',
        { class: 'md-mention md-mention--group' },
        shown.startsWith('@') ? shown : `@${shown}`,
      );
    }
    case 'special':
      return h('span', { class: 'md-mention md-mention--special' }, `@${n.name}`);
    case 'date':
      return n.fallback;
    case 'link':
      if (SAFE_URL.test(n.url)) {
        return h(
          'a',
          { href: n.url, target: '_blank', rel: 'noopener noreferrer', class: 'md-link' },
          n.label ?? n.url,
        );
      }
      // Not a web link (javascript:, data:, …): shown as the text it is, never clickable.
      return h('span', { class: 'md-link md-link--inert' }, n.label ? `${n.label} (${n.url})` : n.url);
  }
}

/** mrkdwn text as virtual nodes. */
export function renderMrkdwn(/** @type {string} */ text, /** @type {RenderContext} */ ctx = {}) {
  return mdNodes(parseMrkdwn(text), ctx);
}

/**
 * A Block Kit text object: mrkdwn is parsed, plain_text is shown exactly as written (only
 * `:emoji:` codes become emoji when `emoji` is not false).
 * @returns {VNode[]}
 */
export function renderTextObject(/** @type {unknown} */ t, /** @type {RenderContext} */ ctx = {}) {
  if (!t || typeof t !== 'object') return [];
  const obj = /** @type {Json} */ (t);
  const text = typeof obj.text === 'string' ? obj.text : '';
  if (obj.type === 'mrkdwn') return obj.verbatim === true ? [decodeEntities(text)] : renderMrkdwn(text, ctx);
  return [obj.emoji === false ? text : emojify(text)];
}

/** The plain string of a text object (labels, titles, option texts). */
export function plainOf(/** @type {unknown} */ t) {
  return textOf(renderTextObject(t));
}

// ---------------------------------------------------------------------------------------------
// Block Kit

/** @returns {Json[]} */
function list(/** @type {unknown} */ v) {
  return Array.isArray(v) ? v.filter((x) => x && typeof x === 'object') : [];
}

const styleClass = (/** @type {unknown} */ style) =>
  style === 'primary'
    ? 'bk-button bk-button--primary'
    : style === 'danger'
      ? 'bk-button bk-button--danger'
      : 'bk-button';

/** Options of a select, flattening option groups. */
export function selectOptions(/** @type {Json} */ el) {
  return [...list(el.options), ...list(el.option_groups).flatMap((g) => list(g.options))];
}

/**
 * An interactive element. In messages, a click is sent with the element's ids; in modals,
 * inputs carry `data-input` so the page can collect `view.state`.
 * @param {Json} el
 * @param {string} blockId
 * @param {RenderContext & { inputId?: string, invalid?: boolean }} ctx
 * @returns {VNode}
 */
export function renderElement(el, blockId, ctx) {
  const ids = { 'data-block-id': blockId, 'data-action-id': String(el.action_id ?? '') };
  const placeholder = el.placeholder ? plainOf(el.placeholder) : undefined;
  const invalid = ctx.invalid ? 'true' : undefined;
  switch (el.type) {
    case 'button': {
      const confirm = el.confirm && typeof el.confirm === 'object' ? JSON.stringify(el.confirm) : undefined;
      return h(
        'button',
        {
          type: 'button',
          class: styleClass(el.style),
          'data-kind': 'button',
          'data-confirm': confirm,
          ...ids,
        },
        renderTextObject(el.text, ctx),
      );
    }
    case 'static_select': {
      const initial = el.initial_option?.value;
      return h(
        'select',
        {
          class: 'bk-select',
          'data-kind': 'select',
          'data-input': 'static_select',
          id: ctx.inputId,
          'aria-invalid': invalid,
          ...ids,
        },
        h('option', { value: '', selected: initial === undefined }, placeholder ?? 'Choose…'),
        list(el.option_groups).length > 0
          ? list(el.option_groups).map((g) =>
              h(
                'optgroup',
                { label: plainOf(g.label) },
                list(g.options).map((o) =>
                  h('option', { value: String(o.value), selected: o.value === initial }, plainOf(o.text)),
                ),
              ),
            )
          : list(el.options).map((o) =>
              h('option', { value: String(o.value), selected: o.value === initial }, plainOf(o.text)),
            ),
      );
    }
    case 'plain_text_input': {
      const common = {
        class: el.multiline ? 'bk-textarea' : 'bk-text-input',
        'data-input': 'plain_text_input',
        id: ctx.inputId,
        placeholder,
        maxlength: typeof el.max_length === 'number' ? el.max_length : undefined,
        'aria-invalid': invalid,
        ...ids,
      };
      const initial = typeof el.initial_value === 'string' ? el.initial_value : '';
      return el.multiline
        ? h('textarea', { ...common, rows: 4 }, initial)
        : h('input', { ...common, type: 'text', value: initial || undefined });
    }
    case 'number_input':
      return h('input', {
        type: 'number',
        class: 'bk-text-input bk-number-input',
        'data-input': 'number_input',
        id: ctx.inputId,
        min: el.min_value,
        max: el.max_value,
        step: el.is_decimal_allowed ? 'any' : '1',
        value: el.initial_value,
        placeholder,
        'aria-invalid': invalid,
        ...ids,
      });
    case 'datepicker':
      return h('input', {
        type: 'date',
        class: 'bk-text-input',
        'data-input': 'datepicker',
        id: ctx.inputId,
        value: el.initial_date,
        ...ids,
      });
    case 'radio_buttons':
    case 'checkboxes': {
      const kind = el.type === 'radio_buttons' ? 'radio' : 'checkbox';
      const chosen = new Set(
        el.type === 'radio_buttons'
          ? [el.initial_option?.value]
          : list(el.initial_options).map((o) => o.value),
      );
      return h(
        'div',
        { class: 'bk-choices', 'data-input': String(el.type), id: ctx.inputId, ...ids },
        list(el.options).map((o) =>
          h(
            'label',
            { class: 'bk-choice' },
            h('input', {
              type: kind,
              name: `${blockId}:${el.action_id}`,
              value: String(o.value),
              checked: chosen.has(o.value),
            }),
            ' ',
            renderTextObject(o.text, ctx),
          ),
        ),
      );
    }
    case 'image':
      return h('span', { class: 'bk-image-alt' }, `🖼 ${String(el.alt_text ?? 'image')}`);
    default:
      return h('span', { class: 'bk-unsupported' }, `[${String(el.type)} is not shown in the sandbox]`);
  }
}

/** @returns {VNode} */
function richTextElement(/** @type {Json} */ el, /** @type {RenderContext} */ ctx) {
  /** @type {VNode} */
  let node;
  switch (el.type) {
    case 'text':
      node = emojify(String(el.text ?? ''));
      break;
    case 'link':
      node = mdNode({ t: 'link', url: String(el.url ?? ''), label: el.text ? String(el.text) : null }, ctx);
      break;
    case 'user':
      node = mdNode({ t: 'user', id: String(el.user_id ?? ''), label: null }, ctx);
      break;
    case 'usergroup':
      node = mdNode({ t: 'usergroup', id: String(el.usergroup_id ?? ''), label: null }, ctx);
      break;
    case 'channel':
      node = mdNode({ t: 'channel', id: String(el.channel_id ?? ''), label: null }, ctx);
      break;
    case 'broadcast':
      node = mdNode({ t: 'special', name: String(el.range ?? 'here') }, ctx);
      break;
    case 'emoji':
      node = EMOJI[String(el.name)] ?? `:${String(el.name)}:`;
      break;
    default:
      node = '';
  }
  const style = el.style ?? {};
  if (style.code) node = h('code', { class: 'md-code' }, node);
  if (style.bold) node = h('strong', {}, node);
  if (style.italic) node = h('em', {}, node);
  if (style.strike) node = h('del', {}, node);
  return node;
}

/** @returns {VNode} */
function richText(/** @type {Json} */ block, /** @type {RenderContext} */ ctx) {
  const section = (/** @type {Json} */ s) => list(s.elements).map((e) => richTextElement(e, ctx));
  return h(
    'div',
    { class: 'bk-rich-text' },
    list(block.elements).map((part) => {
      switch (part.type) {
        case 'rich_text_preformatted':
          return h('pre', { class: 'md-pre' }, section(part));
        case 'rich_text_quote':
          return h('blockquote', { class: 'md-quote' }, section(part));
        case 'rich_text_list':
          return h(
            part.style === 'ordered' ? 'ol' : 'ul',
            { class: 'bk-list' },
            list(part.elements).map((item) => h('li', {}, section(item))),
          );
        default:
          return h('div', { class: 'bk-rich-section' }, section(part));
      }
    }),
  );
}

/**
 * One block. `ctx.errors` (modals): field errors by block id, shown under the input.
 * @param {Json} block
 * @param {RenderContext & { errors?: Record<string, string> }} ctx
 * @returns {VNode}
 */
export function renderBlock(block, ctx) {
  const blockId = String(block.block_id ?? '');
  switch (block.type) {
    case 'header':
      return h(
        'div',
        { class: 'bk-header', role: 'heading', 'aria-level': '3' },
        renderTextObject(block.text, ctx),
      );
    case 'section':
      return h(
        'div',
        { class: 'bk-section', 'data-block-id': blockId },
        h(
          'div',
          { class: 'bk-section-main' },
          block.text ? h('div', { class: 'bk-text' }, renderTextObject(block.text, ctx)) : null,
          list(block.fields).length > 0
            ? h(
                'div',
                { class: 'bk-fields' },
                list(block.fields).map((f) => h('div', { class: 'bk-field' }, renderTextObject(f, ctx))),
              )
            : null,
        ),
        block.accessory && typeof block.accessory === 'object'
          ? h('div', { class: 'bk-accessory' }, renderElement(block.accessory, blockId, ctx))
          : null,
      );
    case 'context':
      return h(
        'div',
        { class: 'bk-context' },
        list(block.elements).map((e) =>
          h(
            'span',
            { class: 'bk-context-item' },
            e.type === 'image' ? renderElement(e, blockId, ctx) : renderTextObject(e, ctx),
          ),
        ),
      );
    case 'divider':
      return h('hr', { class: 'bk-divider' });
    case 'actions':
      return h(
        'div',
        { class: 'bk-actions', 'data-block-id': blockId },
        list(block.elements).map((e) => renderElement(e, blockId, ctx)),
      );
    case 'image':
      return h('div', { class: 'bk-image' }, `🖼 ${String(block.alt_text ?? 'image')}`);
    case 'rich_text':
      return richText(block, ctx);
    case 'markdown':
      return h('div', { class: 'bk-text' }, renderMrkdwn(String(block.text ?? ''), ctx));
    case 'input': {
      const el = block.element && typeof block.element === 'object' ? block.element : {};
      const inputId = `input-${blockId}`;
      const error = ctx.errors?.[blockId];
      return h(
        'div',
        {
          class: error ? 'bk-input bk-input--error' : 'bk-input',
          'data-block-id': blockId,
          'data-optional': block.optional === true ? 'true' : 'false',
        },
        h(
          'label',
          { class: 'bk-label', for: inputId },
          plainOf(block.label),
          block.optional === true ? h('span', { class: 'bk-optional' }, ' (optional)') : null,
        ),
        renderElement(el, blockId, { ...ctx, inputId, invalid: Boolean(error) }),
        block.hint ? h('div', { class: 'bk-hint' }, renderTextObject(block.hint, ctx)) : null,
        error ? h('div', { class: 'bk-error', role: 'alert' }, error) : null,
      );
    }
    default:
      return h(
        'div',
        { class: 'bk-unsupported' },
        `[${String(block.type)} block is not shown in the sandbox]`,
      );
  }
}

/**
 * A message's body: its blocks, or its text as mrkdwn when it has none (Slack shows `text`
 * only as the notification fallback when there are blocks).
 * @param {{ text?: string, blocks?: Json[] | null }} message
 * @param {RenderContext} ctx
 * @returns {VNode}
 */
export function renderMessageBody(message, ctx = {}) {
  const blocks = Array.isArray(message.blocks) ? message.blocks : [];
  if (blocks.length > 0)
    return h(
      'div',
      { class: 'bk-blocks' },
      blocks.map((b) => renderBlock(b, ctx)),
    );
  return h(
    'div',
    { class: 'bk-blocks' },
    h('div', { class: 'bk-text' }, renderMrkdwn(message.text ?? '', ctx)),
  );
}

/**
 * A modal: title bar with ×, a problem banner (Slack's own, e.g. the app did not answer), the
 * blocks with inline field errors, and Close / Submit.
 * @param {Json} view
 * @param {{ errors?: Record<string, string>, problem?: string | null }} status
 * @param {RenderContext} ctx
 * @returns {VElement}
 */
export function renderModal(view, status = {}, ctx = {}) {
  const title = plainOf(view.title) || 'App';
  const errors = status.errors ?? {};
  return h(
    'div',
    {
      class: 'modal',
      role: 'dialog',
      'aria-modal': 'true',
      'aria-label': title,
      'data-view-id': String(view.id ?? ''),
    },
    h(
      'div',
      { class: 'modal-header' },
      h('h2', { class: 'modal-title' }, title),
      h('button', { type: 'button', class: 'modal-x', 'data-modal': 'close', 'aria-label': 'Close' }, '×'),
    ),
    h(
      'div',
      { class: 'modal-body' },
      status.problem ? h('div', { class: 'modal-problem', role: 'alert' }, status.problem) : null,
      list(view.blocks).map((b) => renderBlock(b, { ...ctx, errors })),
    ),
    h(
      'div',
      { class: 'modal-footer' },
      h(
        'button',
        { type: 'button', class: 'bk-button', 'data-modal': 'close' },
        view.close ? plainOf(view.close) : 'Cancel',
      ),
      view.submit
        ? h(
            'button',
            { type: 'button', class: 'bk-button bk-button--primary', 'data-modal': 'submit' },
            plainOf(view.submit),
          )
        : null,
    ),
  );
}

/**
 * The confirm dialog a button carries (`confirm`): Slack shows it before sending the click.
 * @param {Json} confirm
 * @param {RenderContext} ctx
 * @returns {VElement}
 */
export function renderConfirm(confirm, ctx = {}) {
  const title = plainOf(confirm.title) || 'Are you sure?';
  const yes = confirm.confirm ? plainOf(confirm.confirm) : 'Yes';
  const no = confirm.deny ? plainOf(confirm.deny) : 'Cancel';
  return h(
    'div',
    { class: 'modal modal--confirm', role: 'alertdialog', 'aria-modal': 'true', 'aria-label': title },
    h('div', { class: 'modal-header' }, h('h2', { class: 'modal-title' }, title)),
    h('div', { class: 'modal-body' }, h('div', { class: 'bk-text' }, renderTextObject(confirm.text, ctx))),
    h(
      'div',
      { class: 'modal-footer' },
      h('button', { type: 'button', class: 'bk-button', 'data-confirm-answer': 'no' }, no),
      h(
        'button',
        { type: 'button', class: styleClass(confirm.style ?? 'primary'), 'data-confirm-answer': 'yes' },
        yes,
      ),
    ),
  );
}
