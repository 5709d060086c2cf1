import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { fileURLToPath } from 'node:url';
import { checkView } from './block-kit.js';
import { HttpError, isJson, readBody, sendJson } from './http.js';
import {
  appHomeOpenedBody,
  type BlockActionsInput,
  type BotResult,
  blockActionsBody,
  EVENT_HEADERS,
  escapeCommandText,
  postSigned,
  postToApp,
  SLACK_ACK_TIMEOUT_MS,
  slashCommandBody,
  type TeamInput,
  viewClosedBody,
  viewSubmissionBody,
} from './requests.js';
import { messageJson, postAsBot } from './web-api.js';
import {
  type EphemeralMessage,
  type Json,
  type OpenView,
  type ResponseTarget,
  type SandboxChannel,
  SLACKBOT_ID,
  type Workspace,
  withIds,
} from './workspace.js';

/**
 * The people's side of the local Slack: a Slack-like web page (`/`, `/ui/*`) whose commands,
 * clicks and submissions become the signed requests Slack would send to the app's Request URL,
 * and whose view follows the workspace as the app changes it through the Web API.
 */

export interface PageOptions {
  /** The app's signing secret: every request to the app is signed with it. */
  signingSecret: string;
  /** Slash commands the app registered (typing another one gets Slack's "not a valid command"). */
  commands: string[];
  /** Where index.html, app.js, render.js and style.css are; default: sandbox/page. */
  pageDir?: string;
  /** Commands the page suggests when someone types `/`. */
  tips?: { command: string; note: string }[];
}

const STATIC_FILES: Record<string, string> = {
  '/app.js': 'text/javascript; charset=utf-8',
  '/render.js': 'text/javascript; charset=utf-8',
  '/style.css': 'text/css; charset=utf-8',
};

// The page renders user-typed text; the policy is a second wall behind its text-only DOM building.
const PAGE_HEADERS = {
  'content-security-policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

function originHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

function defaultPageDir(): string {
  return fileURLToPath(new URL('../page/', import.meta.url));
}

/** Finds an interactive element by block_id and action_id in a list of blocks. */
function findElement(blocks: readonly Json[] | null, blockId: string, actionId: string): Json | undefined {
  const block = (blocks ?? []).find((b) => b.block_id === blockId);
  if (!block) return undefined;
  const candidates: unknown[] = [
    ...(Array.isArray(block.elements) ? block.elements : []),
    block.accessory,
    block.element,
  ];
  return candidates.find((e): e is Json => isJson(e) && e.action_id === actionId);
}

function optionsOf(element: Json): Json[] {
  const direct = Array.isArray(element.options) ? element.options.filter(isJson) : [];
  const grouped = Array.isArray(element.option_groups)
    ? element.option_groups
        .filter(isJson)
        .flatMap((g) => (Array.isArray(g.options) ? g.options.filter(isJson) : []))
    : [];
  return [...direct, ...grouped];
}

/** What the page sends for one input: a text value, or the value(s) of the chosen option(s). */
interface SubmittedInput {
  value?: string | null;
  selected?: string | string[] | null;
}

/** `view.state.values` as Slack builds it from the form: every input block, filled or not. */
export function buildStateValues(
  blocks: readonly Json[],
  submitted: Record<string, Record<string, SubmittedInput>>,
): Record<string, Record<string, Json>> {
  const values: Record<string, Record<string, Json>> = {};
  for (const block of blocks) {
    if (block.type !== 'input' || !isJson(block.element)) continue;
    const blockId = String(block.block_id);
    const element = block.element;
    const actionId = String(element.action_id);
    const input = submitted[blockId]?.[actionId] ?? {};
    const type = String(element.type);
    const options = optionsOf(element);
    const pick = (v: string): Json | undefined => options.find((o) => o.value === v);
    let state: Json;
    switch (type) {
      case 'static_select':
      case 'radio_buttons': {
        const chosen = typeof input.selected === 'string' ? (pick(input.selected) ?? null) : null;
        state = { type, selected_option: chosen };
        break;
      }
      case 'multi_static_select':
      case 'checkboxes': {
        const chosen = Array.isArray(input.selected) ? input.selected : [];
        state = { type, selected_options: chosen.map(pick).filter((o): o is Json => o !== undefined) };
        break;
      }
      case 'datepicker':
        state = { type, selected_date: input.value ? input.value : null };
        break;
      default: {
        // Slack sends null, not '', for an input left empty.
        const value = typeof input.value === 'string' && input.value !== '' ? input.value : null;
        state = { type, value };
      }
    }
    values[blockId] = { [actionId]: state };
  }
  return values;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

export class PeoplePage {
  readonly ws: Workspace;
  readonly #options: PageOptions;
  readonly #pageDir: string;
  /** The local Slack's own address, for the response URLs it hands out. */
  readonly #origin: () => string;
  readonly #streams = new Set<ServerResponse>();
  #appUrl: string | null = null;
  #pendingNotify: NodeJS.Timeout | null = null;
  #heartbeat: NodeJS.Timeout | null = null;

  constructor(ws: Workspace, options: PageOptions, origin: () => string) {
    this.ws = ws;
    this.#options = options;
    this.#origin = origin;
    this.#pageDir = options.pageDir ?? defaultPageDir();
    if (!existsSync(this.#pageDir)) throw new Error(`Sandbox page not found at ${this.#pageDir}`);
    this.ws.onChange(() => this.#notify());
    this.#heartbeat = setInterval(() => {
      for (const stream of this.#streams) stream.write(': keep-alive\n\n');
    }, 15_000);
    this.#heartbeat.unref();
  }

  /** The app's Request URL (e.g. `http://127.0.0.1:3000/slack/events`): commands and clicks go there. */
  connectApp(requestUrl: string): void {
    this.#appUrl = requestUrl;
    this.ws.changed();
  }

  stop(): void {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    if (this.#pendingNotify) clearTimeout(this.#pendingNotify);
    for (const stream of this.#streams) stream.end();
    this.#streams.clear();
  }

  /** Serves the page and its JSON API; false when the request is not the page's. */
  async handle(req: IncomingMessage, res: ServerResponse, url: URL): Promise<boolean> {
    const [, first = '', ...rest] = url.pathname.split('/');
    const name = decodeURIComponent(rest.join('/'));
    if (first === 'ui') {
      await this.#ui(req, res, name, url);
      return true;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') return false;
    if (first === 'files') {
      this.#download(res, name);
      return true;
    }
    if (url.pathname === '/' || first === 'archives') {
      await this.#static(res, 'index.html', 'text/html; charset=utf-8');
      return true;
    }
    const type = STATIC_FILES[url.pathname];
    if (type) {
      await this.#static(res, url.pathname.slice(1), type);
      return true;
    }
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return true;
    }
    return false;
  }

  get #team(): TeamInput {
    const o = this.ws.options;
    return { team_id: o.teamId, team_domain: o.teamDomain, api_app_id: o.appId };
  }

  #newResponseUrl(target: Omit<ResponseTarget, 'expiresAt'>): string {
    return `${this.#origin()}/response/${this.ws.newResponseTarget(target)}`;
  }

  #notify(): void {
    // Coalesces bursts (a restore posts several messages at once) into one page refresh.
    if (this.#pendingNotify) return;
    this.#pendingNotify = setTimeout(() => {
      this.#pendingNotify = null;
      for (const stream of this.#streams) stream.write(`data: ${this.ws.version}\n\n`);
    }, 30);
  }

  async #static(res: ServerResponse, file: string, type: string): Promise<void> {
    const body = await readFile(
      new URL(file, `file://${this.#pageDir.endsWith('/') ? this.#pageDir : `${this.#pageDir}/`}`),
    );
    res.writeHead(200, { 'content-type': type, ...PAGE_HEADERS });
    res.end(body);
  }

  #download(res: ServerResponse, id: string): void {
    const file = this.ws.file(id);
    if (!file?.completed || file.bytes === null) throw new HttpError(404, 'file not found');
    const safeName = file.filename.replace(/[^A-Za-z0-9._-]/g, '_');
    res.writeHead(200, {
      'content-type': 'application/octet-stream',
      'content-disposition': `attachment; filename="${safeName}"`,
      ...PAGE_HEADERS,
    });
    res.end(file.bytes);
  }

  async #ui(req: IncomingMessage, res: ServerResponse, name: string, url: URL): Promise<void> {
    if (req.method === 'GET' && name === 'state') {
      // A page opened for the first time has no one chosen yet: it acts as the first person.
      const asked = url.searchParams.get('user') || (this.ws.options.users.find((u) => !u.isBot)?.id ?? '');
      return sendJson(res, 200, this.#state(this.#person(asked)));
    }
    if (req.method === 'GET' && name === 'events') {
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
      });
      res.write(`retry: 1000\ndata: ${this.ws.version}\n\n`);
      this.#streams.add(res);
      req.on('close', () => this.#streams.delete(res));
      return;
    }
    if (req.method !== 'POST') throw new HttpError(405, 'method not allowed');
    // Only the page itself may act: JSON bodies cannot come from a cross-site form, and the Origin must be ours.
    const origin = req.headers.origin;
    if (origin !== undefined && originHost(origin) !== req.headers.host) {
      throw new HttpError(403, 'cross-origin request');
    }
    if (!(req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json')) {
      throw new HttpError(415, 'send JSON');
    }
    const raw = (await readBody(req)).toString('utf8');
    const body: unknown = raw === '' ? {} : JSON.parse(raw);
    if (!isJson(body)) throw new HttpError(400, 'send a JSON object');
    const user = this.#person(str(body.user) ?? '');
    switch (name) {
      case 'command':
        return sendJson(res, 200, await this.#command(user, str(body.channel) ?? '', str(body.text) ?? ''));
      case 'message':
        return sendJson(res, 200, this.#humanMessage(user, body));
      case 'action':
        return sendJson(res, 200, await this.#action(user, body));
      case 'submit':
        return sendJson(res, 200, await this.#submit(user, body));
      case 'close':
        return sendJson(res, 200, await this.#close(user, str(body.viewId) ?? ''));
      case 'dismiss':
        return sendJson(res, 200, { ok: this.ws.dismissEphemeral(user, str(body.id) ?? '') });
      case 'home':
        return sendJson(res, 200, await this.#openHome(user));
      default:
        throw new HttpError(404, 'not found');
    }
  }

  /** Opening the app's Home tab: Slack sends `app_home_opened` (JSON, signed); the app publishes the tab. */
  async #openHome(user: string): Promise<Json> {
    if (this.#appUrl === null) return { ok: false, error: 'the app is not running' };
    try {
      const res = await postToApp(this.#appUrl, appHomeOpenedBody({ user, ...this.#team }), {
        secret: this.#options.signingSecret,
        path: '',
        headers: EVENT_HEADERS,
        timeoutMs: SLACK_ACK_TIMEOUT_MS,
      });
      return { ok: res.status === 200 };
    } catch (err) {
      return { ok: false, error: err instanceof Error ? err.message : String(err) };
    }
  }

  /** The acting person (the page's user switch); only people, never the bot. */
  #person(id: string): string {
    const user = this.ws.options.users.find((u) => u.id === id && !u.isBot);
    if (!user) throw new HttpError(400, 'unknown user');
    return user.id;
  }

  #state(user: string): Json {
    const ws = this.ws;
    const o = ws.options;
    const stack = ws.viewStack(user);
    const top = stack.at(-1);
    return {
      version: ws.version,
      team: { id: o.teamId, name: o.teamName, domain: o.teamDomain },
      me: user,
      bot: o.bot.id,
      tips: this.#options.tips ?? [],
      appConnected: this.#appUrl !== null,
      commands: this.#options.commands,
      users: [
        o.bot,
        ...o.users,
        { id: SLACKBOT_ID, name: 'Slackbot', realName: 'Slackbot', title: '', isBot: true, color: '#1d9bd1' },
      ],
      usergroups: o.usergroups.map((g) => ({ id: g.id, handle: g.handle, name: g.name })),
      channels: o.channels,
      messages: ws.messages().map((m) => ({ ...m, edited: m.edits > 0 })),
      ephemerals: ws.ephemeralsFor(user).map((e) => ({ ...e })),
      home: ws.home(user) ?? null,
      modal: top
        ? {
            id: top.id,
            hash: top.hash,
            view: top.view,
            errors: top.errors,
            problem: top.problem,
            depth: stack.length,
          }
        : null,
    };
  }

  #slackbotSays(user: string, channel: string, threadTs: string | null, text: string): void {
    this.ws.addEphemeral({ user, channel, threadTs, from: 'slackbot', text, blocks: null });
  }

  /** How Slack words an app that failed to answer, for each way it can fail. */
  #failure(result: BotResult): string | null {
    if (result.kind === 'timeout') return 'operation_timeout';
    if (result.kind === 'unreachable') return 'dispatch_failed';
    return result.status === 200 ? null : 'dispatch_failed';
  }

  async #send(body: string): Promise<BotResult> {
    if (this.#appUrl === null) return { kind: 'unreachable', error: 'the app is not running' };
    return postSigned(this.#appUrl, this.#options.signingSecret, body);
  }

  async #command(user: string, channelId: string, typed: string): Promise<Json> {
    const channel = this.ws.channel(channelId);
    if (!channel) throw new HttpError(400, 'unknown channel');
    const match = /^(\/[^\s]+)(?:\s+([\s\S]*))?$/.exec(typed.trim());
    if (!match?.[1]) throw new HttpError(400, 'not a slash command');
    const command = match[1];
    const text = (match[2] ?? '').trim();
    if (!this.#options.commands.includes(command)) {
      this.#slackbotSays(
        user,
        channel.id,
        null,
        `\`${command}\` is not a valid command. In Slack, all messages that start with the "/" character are interpreted as commands.`,
      );
      return { ok: false, error: 'invalid_command' };
    }
    const person = this.ws.user(user);
    const responseTarget = this.ws.newResponseTarget({
      user,
      channel: channel.id,
      threadTs: null,
      original: null,
    });
    const responseUrl = `${this.#origin()}/response/${responseTarget}`;
    const body = slashCommandBody({
      ...this.#team,
      user_id: user,
      user_name: person?.name ?? user,
      channel_id: channel.id,
      channel_name: channel.name,
      command,
      text: escapeCommandText(text),
      response_url: responseUrl,
      trigger_id: this.ws.newTrigger(user),
    });
    const result = await this.#send(body);
    const failure = this.#failure(result);
    if (failure) {
      this.#slackbotSays(user, channel.id, null, `\`${command}\` failed with the error "${failure}"`);
      return { ok: false, error: failure };
    }
    // The ack's body is the command's first answer: private unless the app says in_channel.
    if (result.kind === 'answered' && isJson(result.json)) {
      const ack = result.json;
      const content = {
        text: str(ack.text) ?? '',
        blocks: Array.isArray(ack.blocks) ? withIds(ack.blocks) : null,
      };
      if (content.text !== '' || content.blocks !== null) {
        if (ack.response_type === 'in_channel') postAsBot(this.ws, channel.id, null, content);
        else {
          const shown = this.ws.addEphemeral({
            user,
            channel: channel.id,
            threadTs: null,
            from: 'app',
            ...content,
          });
          // Slack's response_url for a command: replace_original replaces this private answer.
          this.ws.setResponseOriginal(responseTarget, { kind: 'ephemeral', id: shown.id });
        }
      }
    } else if (result.kind === 'answered' && result.body.trim() !== '') {
      this.ws.addEphemeral({
        user,
        channel: channel.id,
        threadTs: null,
        from: 'app',
        text: result.body,
        blocks: null,
      });
    }
    return { ok: true };
  }

  #humanMessage(user: string, body: Json): Json {
    const channel = this.ws.channel(str(body.channel) ?? '');
    const text = (str(body.text) ?? '').trim();
    if (!channel || text === '') throw new HttpError(400, 'channel and text are required');
    const threadTs = str(body.threadTs) ?? null;
    if (threadTs !== null && !this.ws.message(channel.id, threadTs))
      throw new HttpError(400, 'unknown thread');
    // People type plain text; Slack stores it escaped, as the renderer expects.
    const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
    this.ws.addMessage({
      channel: channel.id,
      threadTs,
      user,
      botId: null,
      text: escaped,
      blocks: null,
      replyBroadcast: false,
      files: [],
    });
    return { ok: true };
  }

  async #action(user: string, body: Json): Promise<Json> {
    const where = isJson(body.container) ? body.container : {};
    const blockId = str(body.blockId) ?? '';
    const actionId = str(body.actionId) ?? '';
    const person = this.ws.user(user);
    /** What the click is on: the payload's fields that depend on where it happened. */
    let on: Omit<BlockActionsInput, 'user' | 'action_id' | 'element'>;
    let element: Json | undefined;
    let errorPlace: { channel: string; threadTs: string | null };

    if (where.type === 'view') {
      const open = this.ws.findView(str(where.viewId) ?? '');
      if (!open || open.user !== user) throw new HttpError(404, 'view not open');
      element = findElement(open.view.blocks as Json[], blockId, actionId);
      on = { channel: '', message_ts: '', view: { ...open.view, hash: open.hash }, response_url: null };
      const first = this.ws.options.channels[0];
      errorPlace = { channel: first?.id ?? '', threadTs: null };
    } else {
      let channel: SandboxChannel | undefined;
      let place: { ts: string; threadTs: string | null; original: ResponseTarget['original'] };
      let echoed: Json | undefined;
      if (where.type === 'ephemeral') {
        const eph: EphemeralMessage | undefined = this.ws.ephemeral(str(where.id) ?? '');
        if (!eph || eph.user !== user) throw new HttpError(404, 'message not found');
        channel = this.ws.channel(eph.channel);
        element = findElement(eph.blocks, blockId, actionId);
        place = { ts: eph.ts, threadTs: eph.threadTs, original: { kind: 'ephemeral', id: eph.id } };
      } else {
        channel = this.ws.channel(str(where.channel) ?? '');
        const message = channel ? this.ws.message(channel.id, str(where.ts) ?? '') : undefined;
        if (!message) throw new HttpError(404, 'message not found');
        element = findElement(message.blocks, blockId, actionId);
        place = { ts: message.ts, threadTs: message.threadTs, original: { kind: 'message', ts: message.ts } };
        echoed = messageJson(this.ws, message);
      }
      if (!channel) throw new HttpError(404, 'channel not found');
      on = {
        channel: { id: channel.id, name: channel.name },
        message_ts: place.ts,
        ...(place.threadTs === null ? {} : { thread_ts: place.threadTs }),
        ...(echoed === undefined ? { is_ephemeral: true } : { message: echoed }),
        response_url: this.#newResponseUrl({
          user,
          channel: channel.id,
          threadTs: place.threadTs,
          original: place.original,
        }),
      };
      errorPlace = { channel: channel.id, threadTs: place.threadTs };
    }
    if (!element) throw new HttpError(404, 'element not found');

    let selected: Json | null | undefined;
    if (element.type !== 'button') {
      const value = str(body.selected);
      selected = value === undefined ? null : (optionsOf(element).find((o) => o.value === value) ?? null);
    }
    const payload = blockActionsBody({
      ...this.#team,
      ...on,
      user: { id: user, name: person?.name ?? user },
      action_id: actionId,
      block_id: blockId,
      element,
      ...(selected === undefined ? {} : { selected_option: selected }),
      trigger_id: this.ws.newTrigger(user),
    });
    const failure = this.#failure(await this.#send(payload));
    if (failure) {
      const app = this.ws.options.bot.realName;
      this.#slackbotSays(
        user,
        errorPlace.channel,
        errorPlace.threadTs,
        `${app} did not handle that click (error "${failure}").`,
      );
      return { ok: false, error: failure };
    }
    return { ok: true };
  }

  async #submit(user: string, body: Json): Promise<Json> {
    const open = this.ws.findView(str(body.viewId) ?? '');
    if (!open || open.user !== user) throw new HttpError(404, 'view not open');
    const submitted = isJson(body.values)
      ? (body.values as Record<string, Record<string, SubmittedInput>>)
      : {};
    const blocks = Array.isArray(open.view.blocks) ? (open.view.blocks as Json[]) : [];
    const view: Json = {
      ...open.view,
      hash: open.hash,
      state: { values: buildStateValues(blocks, submitted) },
    };
    const person = this.ws.user(user);
    const result = await this.#send(
      viewSubmissionBody({
        ...this.#team,
        user: { id: user, name: person?.name ?? user },
        stored: view,
        trigger_id: this.ws.newTrigger(user),
      }),
    );
    if (this.#failure(result) || result.kind !== 'answered') {
      this.ws.setViewErrors(open, {}, 'We had some trouble connecting. Try again?');
      return { ok: false, error: this.#failure(result) };
    }
    const ack = isJson(result.json) ? result.json : {};
    return this.#applyViewAck(user, open, ack);
  }

  #applyViewAck(user: string, open: OpenView, ack: Json): Json {
    switch (ack.response_action) {
      case 'errors': {
        const errors: Record<string, string> = {};
        if (isJson(ack.errors)) for (const [k, v] of Object.entries(ack.errors)) errors[k] = String(v);
        this.ws.setViewErrors(open, errors, null);
        return { ok: true, closed: false, errors };
      }
      case 'update':
      case 'push': {
        const problems = checkView(ack.view);
        if (!isJson(ack.view) || problems.length > 0) {
          this.ws.setViewErrors(
            open,
            {},
            `The app answered with a view Slack refuses: ${problems[0] ?? 'no view'}`,
          );
          return { ok: false, error: 'invalid_view' };
        }
        if (ack.response_action === 'update') this.ws.updateView(open, ack.view);
        else if (this.ws.openView(user, ack.view, 'push') === 'push_limit_reached') {
          this.ws.setViewErrors(open, {}, 'The app tried to open a fourth view (push_limit_reached).');
        }
        return { ok: true, closed: false };
      }
      case 'clear':
        this.ws.closeView(user, open.id, true);
        return { ok: true, closed: true };
      default:
        this.ws.closeView(user, open.id);
        return { ok: true, closed: true };
    }
  }

  async #close(user: string, viewId: string): Promise<Json> {
    const open = this.ws.findView(viewId);
    if (!open || open.user !== user) return { ok: false, error: 'view not open' };
    this.ws.closeView(user, viewId);
    if (open.view.notify_on_close === true) {
      const person = this.ws.user(user);
      await this.#send(
        viewClosedBody({
          ...this.#team,
          user: { id: user, name: person?.name ?? user },
          view: open.view,
          cleared: false,
        }),
      );
    }
    return { ok: true };
  }
}
