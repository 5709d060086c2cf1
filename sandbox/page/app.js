/**
 * The sandbox page's controller: fetches the fake workspace's state, draws it with render.js,
 * and sends what the person does (commands, clicks, form submits) to the sandbox server, which
 * turns each into the signed request Slack would send the bot. The acting user is the one chosen
 * in the switch at the top right.
 *
 * All DOM is built from render.js virtual nodes (text nodes only) — never innerHTML.
 */
import {
  findAll,
  h,
  renderConfirm,
  renderMessageBody,
  renderModal,
  renderMrkdwn,
  textOf,
  toDom,
} from './render.js';

/** @typedef {Record<string, any>} Json */

const byId = (/** @type {string} */ id) => /** @type {HTMLElement} */ (document.getElementById(id));
const el = {
  messages: byId('messages'),
  composer: /** @type {HTMLFormElement} */ (byId('composer')),
  composerInput: /** @type {HTMLInputElement} */ (byId('composer-input')),
  suggestions: byId('suggestions'),
  userSwitch: byId('user-switch'),
  channelList: byId('channel-list'),
  channelName: byId('channel-name'),
  channelTopic: byId('channel-topic'),
  workspaceName: byId('workspace-name'),
  appStatus: byId('app-status'),
  threadPane: byId('thread-pane'),
  threadChannel: byId('thread-channel'),
  threadMessages: byId('thread-messages'),
  threadComposer: /** @type {HTMLFormElement} */ (byId('thread-composer')),
  threadInput: /** @type {HTMLInputElement} */ (byId('thread-input')),
  channelPane: byId('channel-pane'),
  homePane: byId('home-pane'),
  homeBlocks: byId('home-blocks'),
  homeLink: byId('app-home-link'),
  modalRoot: byId('modal-root'),
  confirmRoot: byId('confirm-root'),
  toast: byId('toast'),
};

const STORAGE_KEY = 'zeus-recover-sandbox.user';

const ui = {
  /** @type {Json | null} */
  data: null,
  /** @type {string} */
  user: localStorage.getItem(STORAGE_KEY) ?? '',
  /** @type {string | null} */
  channel: null,
  /** The app's Home tab is shown instead of a channel. */
  home: false,
  /** @type {string | null} */
  threadTs: null,
  /** @type {string | null} */
  modalKey: null,
  /** @type {string | null} */
  modalStatusKey: null,
  loading: false,
  again: false,
  forceScroll: true,
  /** @type {((answer: boolean) => void) | null} */
  confirmAnswer: null,
  /** @type {string | null} */
  pendingPermalink: location.pathname.startsWith('/archives/') ? location.pathname : null,
};

// ---------------------------------------------------------------------------------------------
// Talking to the sandbox

async function refresh() {
  if (ui.loading) {
    ui.again = true;
    return;
  }
  ui.loading = true;
  try {
    do {
      ui.again = false;
      const res = await fetch(`/ui/state?user=${encodeURIComponent(ui.user)}`, { cache: 'no-store' });
      if (!res.ok) throw new Error(`state: HTTP ${res.status}`);
      ui.data = await res.json();
      render();
    } while (ui.again);
  } catch (err) {
    showToast(
      `Lost contact with the sandbox (${err instanceof Error ? err.message : String(err)}). Retrying…`,
    );
  } finally {
    ui.loading = false;
  }
}

/** POSTs as the current user; the answer's `ok: false` is shown, not thrown. */
async function post(/** @type {string} */ path, /** @type {Json} */ body) {
  try {
    const res = await fetch(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: ui.user, ...body }),
    });
    const json = await res.json().catch(() => ({ ok: false, error: `HTTP ${res.status}` }));
    if (!res.ok) showToast(`The sandbox refused that: ${json.error ?? res.status}`);
    return json;
  } catch (err) {
    showToast(`Could not reach the sandbox: ${err instanceof Error ? err.message : String(err)}`);
    return { ok: false, error: 'network' };
  } finally {
    void refresh();
  }
}

let toastTimer = 0;
function showToast(/** @type {string} */ text) {
  el.toast.textContent = text;
  el.toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = window.setTimeout(() => {
    el.toast.hidden = true;
  }, 5000);
}

// ---------------------------------------------------------------------------------------------
// Rendering

function ctx() {
  const d = ui.data ?? {};
  /** @type {Record<string, { name: string }>} */
  const users = {};
  for (const u of d.users ?? []) users[u.id] = { name: u.name };
  /** @type {Record<string, { handle: string }>} */
  const usergroups = {};
  for (const g of d.usergroups ?? []) usergroups[g.id] = { handle: g.handle };
  /** @type {Record<string, { name: string }>} */
  const channels = {};
  for (const c of d.channels ?? []) channels[c.id] = { name: c.name };
  return { users, usergroups, channels };
}

function userById(/** @type {string} */ id) {
  return (ui.data?.users ?? []).find((/** @type {Json} */ u) => u.id === id);
}

function people() {
  return (ui.data?.users ?? []).filter((/** @type {Json} */ u) => !u.isBot);
}

function formatTime(/** @type {string} */ ts) {
  const date = new Date(Number(ts.split('.')[0]) * 1000);
  return date.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

function avatar(/** @type {Json | undefined} */ user) {
  const color = user?.isBot ? 'app' : String(user?.color ?? '').replace(/[^a-z]/g, '');
  const initial = (user?.realName ?? user?.name ?? '?').trim().charAt(0).toUpperCase() || '?';
  return h(
    'div',
    { class: `avatar avatar--${color}`, 'aria-hidden': 'true' },
    user?.id === 'USLACKBOT' ? '🤖' : initial,
  );
}

function authorHead(
  /** @type {Json | undefined} */ user,
  /** @type {string} */ ts,
  /** @type {boolean} */ edited,
) {
  return h(
    'div',
    { class: 'msg-head' },
    h('span', { class: 'msg-author' }, user?.realName ?? user?.name ?? 'unknown'),
    user?.isBot ? h('span', { class: 'msg-badge' }, 'APP') : null,
    h('span', { class: 'msg-time' }, formatTime(ts)),
    edited ? h('span', { class: 'msg-edited' }, '(edited)') : null,
  );
}

function fileCards(/** @type {Json[]} */ files) {
  if (!files || files.length === 0) return null;
  return h(
    'div',
    { class: 'files' },
    files.map((f) =>
      h(
        'a',
        {
          class: 'file-card',
          href: `${location.origin}/files/${encodeURIComponent(f.id)}`,
          download: f.name,
        },
        h('span', { class: 'file-icon' }, '📄'),
        h('span', {}, h('div', {}, f.name), h('div', { class: 'file-size' }, `${f.size} bytes`)),
      ),
    ),
  );
}

function rootSummary(/** @type {Json} */ root) {
  const text = textOf(renderMrkdwn(root.text ?? '', ctx())).split('\n')[0] ?? '';
  return text.length > 60 ? `${text.slice(0, 59)}…` : text;
}

/**
 * @param {Json} m a message
 * @param {{ inThread: boolean, replies?: Json[], root?: Json }} where
 */
function messageView(m, where) {
  const author = userById(m.user);
  const replies = where.replies ?? [];
  const last = replies.at(-1);
  return h(
    'div',
    {
      class: 'msg',
      'data-container-type': 'message',
      'data-channel': m.channel,
      'data-ts': m.ts,
      'data-thread-ts': m.threadTs ?? undefined,
    },
    avatar(author),
    h(
      'div',
      { class: 'msg-main' },
      authorHead(author, m.ts, m.edited),
      !where.inThread && m.threadTs && where.root
        ? h(
            'div',
            { class: 'msg-note' },
            'replied to a thread: ',
            h('button', { type: 'button', 'data-open-thread': m.threadTs }, rootSummary(where.root)),
          )
        : null,
      renderMessageBody(m, ctx()),
      fileCards(m.files),
      !where.inThread && replies.length > 0 && last
        ? h(
            'button',
            { type: 'button', class: 'thread-summary', 'data-open-thread': m.ts },
            h(
              'span',
              { class: 'thread-summary-count' },
              `${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}`,
            ),
            h('span', { class: 'thread-summary-last' }, `Last reply ${formatTime(last.ts)}`),
          )
        : null,
    ),
  );
}

function ephemeralView(/** @type {Json} */ e) {
  const author = userById(e.from === 'slackbot' ? 'USLACKBOT' : (ui.data?.bot ?? ''));
  return h(
    'div',
    { class: 'msg msg--ephemeral', 'data-container-type': 'ephemeral', 'data-id': e.id },
    avatar(author),
    h(
      'div',
      { class: 'msg-main' },
      h('div', { class: 'ephemeral-label' }, 'Only visible to you'),
      authorHead(author, e.ts, false),
      renderMessageBody(e, ctx()),
      h('div', { class: 'msg-note' }, h('button', { type: 'button', 'data-dismiss': e.id }, 'Dismiss')),
    ),
  );
}

/** Replaces a scrolling list, staying at the bottom if the reader was there. */
function fill(
  /** @type {HTMLElement} */ box,
  /** @type {import('./render.js').VNode[]} */ nodes,
  /** @type {boolean} */ force,
) {
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 120;
  const fragment = document.createDocumentFragment();
  for (const n of nodes) fragment.appendChild(toDom(n, document));
  box.replaceChildren(fragment);
  if (atBottom || force) box.scrollTop = box.scrollHeight;
}

const byTs = (/** @type {Json} */ a, /** @type {Json} */ b) => (a.ts < b.ts ? -1 : a.ts > b.ts ? 1 : 0);

function renderChannel() {
  const d = ui.data;
  if (!d) return;
  const channel = d.channels.find((/** @type {Json} */ c) => c.id === ui.channel) ?? d.channels[0];
  ui.channel = channel.id;
  el.channelName.textContent = `# ${channel.name}`;
  el.channelTopic.textContent = channel.topic ?? '';
  el.composerInput.placeholder = `Message #${channel.name} — or type /zeus-recover …`;
  document.title = `#${channel.name} · ${d.team.name} (Slack sandbox)`;

  /** @type {Json[]} */
  const inChannel = d.messages.filter((/** @type {Json} */ m) => m.channel === channel.id);
  const roots = new Map(inChannel.filter((m) => m.threadTs === null).map((m) => [m.ts, m]));
  const shown = [
    ...inChannel.filter((m) => m.threadTs === null || m.replyBroadcast).map((m) => ({ kind: 'message', m })),
    ...d.ephemerals
      .filter((/** @type {Json} */ e) => e.channel === channel.id && e.threadTs === null)
      .map((/** @type {Json} */ m) => ({ kind: 'ephemeral', m })),
  ].sort((a, b) => byTs(a.m, b.m));
  const nodes = shown.map(({ kind, m }) => {
    if (kind === 'ephemeral') return ephemeralView(m);
    const replies = m.threadTs === null ? inChannel.filter((r) => r.threadTs === m.ts) : [];
    return messageView(m, { inThread: false, replies, root: m.threadTs ? roots.get(m.threadTs) : undefined });
  });
  if (nodes.length === 0) nodes.push(h('div', { class: 'empty' }, 'No messages yet.'));
  fill(el.messages, nodes, ui.forceScroll);
  ui.forceScroll = false;
}

/** The app's Home tab as the bot last published it for the acting person (views.publish). */
function renderHome() {
  const d = ui.data;
  el.homePane.hidden = !ui.home;
  el.channelPane.hidden = ui.home;
  el.homeLink.setAttribute('aria-current', ui.home ? 'true' : 'false');
  if (!d || !ui.home) return;
  document.title = `zeus-recover Home · ${d.team.name} (Slack sandbox)`;
  const node = d.home
    ? renderMessageBody({ blocks: d.home.blocks }, ctx())
    : h('div', { class: 'empty' }, 'The app has not published a Home tab for you yet…');
  fill(el.homeBlocks, [node], false);
}

function renderThread() {
  const d = ui.data;
  const root =
    d && ui.threadTs
      ? d.messages.find((/** @type {Json} */ m) => m.ts === ui.threadTs && m.threadTs === null)
      : null;
  if (!d || !root) {
    el.threadPane.hidden = true;
    return;
  }
  const wasHidden = el.threadPane.hidden;
  el.threadPane.hidden = false;
  const channel = d.channels.find((/** @type {Json} */ c) => c.id === root.channel);
  el.threadChannel.textContent = `# ${channel?.name ?? root.channel}`;
  const replies = d.messages.filter((/** @type {Json} */ m) => m.threadTs === root.ts);
  const items = [
    ...replies.map((/** @type {Json} */ m) => ({ kind: 'message', m })),
    ...d.ephemerals
      .filter((/** @type {Json} */ e) => e.threadTs === root.ts)
      .map((/** @type {Json} */ m) => ({ kind: 'ephemeral', m })),
  ].sort((a, b) => byTs(a.m, b.m));
  fill(
    el.threadMessages,
    [
      messageView(root, { inThread: true }),
      h(
        'div',
        { class: 'thread-divider' },
        `${replies.length} ${replies.length === 1 ? 'reply' : 'replies'}`,
      ),
      ...items.map(({ kind, m }) =>
        kind === 'ephemeral' ? ephemeralView(m) : messageView(m, { inThread: true }),
      ),
    ],
    wasHidden,
  );
}

function renderChrome() {
  const d = ui.data;
  if (!d) return;
  el.workspaceName.textContent = d.team.name;
  el.appStatus.textContent = d.appConnected ? 'zeus-recover is connected' : 'zeus-recover is not connected';
  el.appStatus.classList.toggle('is-up', Boolean(d.appConnected));
  el.userSwitch.replaceChildren(
    ...people().map((/** @type {Json} */ u) =>
      toDom(
        h(
          'button',
          {
            type: 'button',
            class: 'user-option',
            'data-switch-user': u.id,
            'aria-pressed': u.id === ui.user ? 'true' : 'false',
            title: `Act as ${u.realName} (${u.title})`,
          },
          avatar(u),
          h('span', {}, u.realName),
          h('span', { class: 'user-option-role' }, `· ${u.title}`),
        ),
        document,
      ),
    ),
  );
  el.channelList.replaceChildren(
    ...d.channels.map((/** @type {Json} */ c) =>
      toDom(
        h(
          'li',
          {},
          h(
            'button',
            {
              type: 'button',
              'data-channel-id': c.id,
              'aria-current': c.id === ui.channel && !ui.home ? 'true' : 'false',
            },
            `# ${c.name}`,
          ),
        ),
        document,
      ),
    ),
  );
}

function applyModalStatus(
  /** @type {Record<string, string>} */ errors,
  /** @type {string | null} */ problem,
) {
  const modal = el.modalRoot.querySelector('.modal');
  if (!modal) return;
  for (const wrap of modal.querySelectorAll('.bk-input[data-block-id]')) {
    const blockId = /** @type {HTMLElement} */ (wrap).dataset.blockId ?? '';
    wrap.querySelector('.bk-error')?.remove();
    const message = errors[blockId];
    wrap.classList.toggle('bk-input--error', Boolean(message));
    const input = wrap.querySelector('[data-input]');
    if (message) {
      input?.setAttribute('aria-invalid', 'true');
      wrap.appendChild(toDom(h('div', { class: 'bk-error', role: 'alert' }, message), document));
    } else {
      input?.removeAttribute('aria-invalid');
    }
  }
  modal.querySelector('.modal-problem')?.remove();
  if (problem) {
    modal
      .querySelector('.modal-body')
      ?.prepend(toDom(h('div', { class: 'modal-problem', role: 'alert' }, problem), document));
  }
}

function renderModalLayer() {
  const m = ui.data?.modal;
  if (!m) {
    el.modalRoot.hidden = true;
    el.modalRoot.replaceChildren();
    ui.modalKey = null;
    return;
  }
  const key = `${m.id}|${m.hash}`;
  const statusKey = JSON.stringify([m.errors, m.problem]);
  if (key !== ui.modalKey) {
    // Rebuilt only when the view itself changes: a refresh must not wipe what is being typed.
    el.modalRoot.replaceChildren(
      toDom(renderModal(m.view, { errors: m.errors, problem: m.problem }, ctx()), document),
    );
    el.modalRoot.dataset.containerType = 'view';
    el.modalRoot.dataset.viewId = m.id;
    ui.modalKey = key;
    ui.modalStatusKey = statusKey;
    el.modalRoot.hidden = false;
    /** @type {HTMLElement | null} */ (el.modalRoot.querySelector('[data-input]'))?.focus();
  } else if (statusKey !== ui.modalStatusKey) {
    applyModalStatus(m.errors, m.problem);
    ui.modalStatusKey = statusKey;
  }
  el.modalRoot.hidden = false;
}

function render() {
  const d = ui.data;
  if (!d) return;
  if (d.me !== ui.user) {
    ui.user = d.me;
    localStorage.setItem(STORAGE_KEY, ui.user);
  }
  if (ui.pendingPermalink) openPermalink(ui.pendingPermalink);
  renderChrome();
  renderChannel();
  renderHome();
  renderThread();
  renderModalLayer();
}

function openPermalink(/** @type {string} */ path) {
  ui.pendingPermalink = null;
  const match = /^\/archives\/([^/]+)\/p(\d+)(\d{6})$/.exec(path);
  if (!match || !ui.data) return;
  const ts = `${match[2]}.${match[3]}`;
  const message = ui.data.messages.find((/** @type {Json} */ m) => m.channel === match[1] && m.ts === ts);
  ui.channel = match[1] ?? null;
  if (message) ui.threadTs = message.threadTs ?? message.ts;
  history.replaceState(null, '', '/');
}

// ---------------------------------------------------------------------------------------------
// What the person does

function containerOf(/** @type {Element} */ target) {
  const holder = /** @type {HTMLElement | null} */ (target.closest('[data-container-type]'));
  if (!holder) return null;
  const type = holder.dataset.containerType;
  if (type === 'view') return { type: 'view', viewId: holder.dataset.viewId };
  if (type === 'ephemeral') return { type: 'ephemeral', id: holder.dataset.id };
  return { type: 'message', channel: holder.dataset.channel, ts: holder.dataset.ts };
}

/** @returns {Promise<boolean>} */
function askConfirm(/** @type {Json} */ confirm) {
  el.confirmRoot.replaceChildren(toDom(renderConfirm(confirm, ctx()), document));
  el.confirmRoot.hidden = false;
  /** @type {HTMLElement | null} */ (el.confirmRoot.querySelector('[data-confirm-answer="yes"]'))?.focus();
  return new Promise((resolve) => {
    ui.confirmAnswer = (answer) => {
      ui.confirmAnswer = null;
      el.confirmRoot.hidden = true;
      el.confirmRoot.replaceChildren();
      resolve(answer);
    };
  });
}

async function clickButton(/** @type {HTMLButtonElement} */ button) {
  const container = containerOf(button);
  if (!container) return;
  const confirm = button.dataset.confirm ? JSON.parse(button.dataset.confirm) : null;
  if (confirm && !(await askConfirm(confirm))) return;
  button.classList.add('is-busy');
  button.disabled = true;
  try {
    await post('/ui/action', {
      container,
      blockId: button.dataset.blockId,
      actionId: button.dataset.actionId,
    });
  } finally {
    button.classList.remove('is-busy');
    button.disabled = false;
  }
}

/** The form's values as the sandbox needs them to build `view.state`, and Slack's own required-field check. */
function collectModal() {
  /** @type {Record<string, Record<string, Json>>} */
  const values = {};
  /** @type {Record<string, string>} */
  const problems = {};
  for (const wrap of el.modalRoot.querySelectorAll('.bk-input[data-block-id]')) {
    const w = /** @type {HTMLElement} */ (wrap);
    const blockId = w.dataset.blockId ?? '';
    const input = /** @type {HTMLElement | null} */ (w.querySelector('[data-input]'));
    if (!input) continue;
    const actionId = input.dataset.actionId ?? '';
    const type = input.dataset.input;
    /** @type {Json} */
    let entry;
    let empty;
    if (type === 'static_select') {
      const value = /** @type {HTMLSelectElement} */ (input).value;
      entry = { selected: value || null };
      empty = !value;
    } else if (type === 'radio_buttons') {
      const checked = /** @type {HTMLInputElement | null} */ (input.querySelector('input:checked'));
      entry = { selected: checked?.value ?? null };
      empty = !checked;
    } else if (type === 'checkboxes') {
      const checked = [...input.querySelectorAll('input:checked')].map(
        (i) => /** @type {HTMLInputElement} */ (i).value,
      );
      entry = { selected: checked };
      empty = checked.length === 0;
    } else {
      const field = /** @type {HTMLInputElement} */ (input);
      entry = { value: field.value };
      empty = field.value.trim() === '';
      if (type === 'number_input' && !field.validity.valid) {
        problems[blockId] = field.validity.badInput
          ? 'Enter a number.'
          : field.validationMessage || 'Enter a valid number.';
      }
    }
    values[blockId] = { [actionId]: entry };
    if (empty && w.dataset.optional !== 'true' && !problems[blockId])
      problems[blockId] = 'Please complete this required field.';
  }
  return { values, problems };
}

async function modalButton(/** @type {HTMLButtonElement} */ button) {
  const viewId = el.modalRoot.dataset.viewId;
  if (!viewId) return;
  if (button.dataset.modal === 'close') {
    await post('/ui/close', { viewId });
    return;
  }
  const { values, problems } = collectModal();
  if (Object.keys(problems).length > 0) {
    applyModalStatus(problems, null);
    ui.modalStatusKey = null;
    return;
  }
  button.disabled = true;
  button.classList.add('is-busy');
  try {
    await post('/ui/submit', { viewId, values });
  } finally {
    button.disabled = false;
    button.classList.remove('is-busy');
  }
}

function openThread(/** @type {string} */ ts) {
  ui.threadTs = ts;
  el.threadPane.hidden = true;
  renderThread();
}

function showSuggestions() {
  const value = el.composerInput.value;
  const tips = /** @type {Json[]} */ (ui.data?.tips ?? []);
  const matching = value.startsWith('/')
    ? tips.filter(
        (t) =>
          t.command.startsWith(value.trimEnd()) ||
          value.trim() === '/' ||
          t.command.includes(value.trim().slice(1)),
      )
    : [];
  if (matching.length === 0 || document.activeElement !== el.composerInput) {
    el.suggestions.hidden = true;
    return;
  }
  el.suggestions.replaceChildren(
    ...matching
      .slice(0, 8)
      .map((t) =>
        toDom(
          h(
            'button',
            { type: 'button', class: 'suggestion', 'data-suggestion': t.command },
            h('code', {}, t.command),
            h('span', { class: 'suggestion-note' }, t.note),
          ),
          document,
        ),
      ),
  );
  el.suggestions.hidden = false;
}

el.composer.addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = el.composerInput.value.trim();
  if (!text || !ui.channel) return;
  el.composerInput.value = '';
  el.suggestions.hidden = true;
  ui.forceScroll = true;
  const result = text.startsWith('/')
    ? await post('/ui/command', { channel: ui.channel, text })
    : await post('/ui/message', { channel: ui.channel, text });
  if (result.error === 'network') el.composerInput.value = text;
});

el.threadComposer.addEventListener('submit', async (event) => {
  event.preventDefault();
  const text = el.threadInput.value.trim();
  const root = ui.data?.messages.find((/** @type {Json} */ m) => m.ts === ui.threadTs);
  if (!text || !root) return;
  if (text.startsWith('/')) {
    showToast('Slash commands are typed in the channel box, not in a thread.');
    return;
  }
  el.threadInput.value = '';
  await post('/ui/message', { channel: root.channel, threadTs: root.ts, text });
});

el.composerInput.addEventListener('input', showSuggestions);
el.composerInput.addEventListener('focus', showSuggestions);
el.composerInput.addEventListener('blur', () =>
  setTimeout(() => {
    if (!el.suggestions.contains(document.activeElement)) el.suggestions.hidden = true;
  }, 150),
);

document.addEventListener('click', (event) => {
  const target = event.target instanceof Element ? event.target : null;
  if (!target) return;
  const answer = /** @type {HTMLElement | null} */ (target.closest('[data-confirm-answer]'));
  if (answer && ui.confirmAnswer) {
    ui.confirmAnswer(answer.dataset.confirmAnswer === 'yes');
    return;
  }
  const modalButtonEl = /** @type {HTMLButtonElement | null} */ (target.closest('button[data-modal]'));
  if (modalButtonEl) {
    void modalButton(modalButtonEl);
    return;
  }
  const actionButton = /** @type {HTMLButtonElement | null} */ (target.closest('button[data-kind="button"]'));
  if (actionButton) {
    void clickButton(actionButton);
    return;
  }
  const thread = /** @type {HTMLElement | null} */ (target.closest('[data-open-thread]'));
  if (thread) {
    openThread(thread.dataset.openThread ?? '');
    return;
  }
  const dismiss = /** @type {HTMLElement | null} */ (target.closest('[data-dismiss]'));
  if (dismiss) {
    void post('/ui/dismiss', { id: dismiss.dataset.dismiss });
    return;
  }
  const person = /** @type {HTMLElement | null} */ (target.closest('[data-switch-user]'));
  if (person) {
    ui.user = person.dataset.switchUser ?? ui.user;
    localStorage.setItem(STORAGE_KEY, ui.user);
    ui.modalKey = null;
    // Another person looking at the Home tab opens it for them (their own view of it).
    if (ui.home) void post('/ui/home', {});
    else void refresh();
    return;
  }
  if (target.closest('[data-app-home]')) {
    // As in Slack: opening the tab sends app_home_opened, and the app publishes it.
    ui.home = true;
    ui.threadTs = null;
    render();
    void post('/ui/home', {});
    return;
  }
  const channel = /** @type {HTMLElement | null} */ (target.closest('[data-channel-id]'));
  if (channel) {
    ui.home = false;
    ui.channel = channel.dataset.channelId ?? ui.channel;
    ui.threadTs = null;
    ui.forceScroll = true;
    render();
    return;
  }
  const suggestion = /** @type {HTMLElement | null} */ (target.closest('[data-suggestion]'));
  if (suggestion) {
    el.composerInput.value = suggestion.dataset.suggestion ?? '';
    el.suggestions.hidden = true;
    el.composerInput.focus();
  }
});

// A select in a message (not in a form) is an action of its own, as in Slack.
document.addEventListener('change', (event) => {
  const target = event.target instanceof HTMLSelectElement ? event.target : null;
  if (target?.dataset.kind !== 'select' || el.modalRoot.contains(target)) return;
  const container = containerOf(target);
  if (container) {
    void post('/ui/action', {
      container,
      blockId: target.dataset.blockId,
      actionId: target.dataset.actionId,
      selected: target.value,
    });
  }
});

document.addEventListener('keydown', (event) => {
  if (event.key !== 'Escape') return;
  if (ui.confirmAnswer) ui.confirmAnswer(false);
  else if (!el.modalRoot.hidden && el.modalRoot.dataset.viewId)
    void post('/ui/close', { viewId: el.modalRoot.dataset.viewId });
  else if (!el.suggestions.hidden) el.suggestions.hidden = true;
});

byId('thread-close').addEventListener('click', () => {
  ui.threadTs = null;
  renderThread();
});

// Live updates: the server says "something changed"; the page fetches the new state.
const events = new EventSource('/ui/events');
events.onmessage = () => void refresh();
setInterval(() => void refresh(), 5000);
void refresh();

// Exposed for debugging in the browser console only.
Object.assign(window, { sandbox: { ui, findAll } });
