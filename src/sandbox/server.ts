import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { checkBlocks, checkView } from './blocks-check.js';
import {
  type EphemeralMessage,
  type Json,
  type OpenView,
  randomId,
  SLACKBOT_ID,
  Workspace,
  type WorkspaceOptions,
  withIds,
} from './model.js';
import {
  type ActionContainer,
  type BotResult,
  blockActionsBody,
  postSigned,
  slashCommandBody,
  type TeamRef,
  viewClosedBody,
  viewSubmissionBody,
} from './requests.js';
import { callApi, decodeField, messageJson } from './webapi.js';

/**
 * The local Slack sandbox: one HTTP server that is, at once,
 *  - Slack's Web API for the bot (`/api/<method>`, `/upload/<file>`, `/response/<id>`), and
 *  - a Slack-like web page for people (`/`, `/ui/*`), whose clicks and commands it turns into the
 *    signed requests Slack would send to the bot's Request URL.
 * So the bot under demo or test runs exactly its production code path over HTTP.
 */

export interface SandboxOptions {
  workspace: WorkspaceOptions;
  /** What the bot authenticates with; anything else gets `invalid_auth`. */
  botToken: string;
  /** The app's signing secret: every request to the bot is signed with it. */
  signingSecret: string;
  /** Slash commands the app registered (typing another one gets Slack's "not a valid command"). */
  commands: string[];
  host?: string;
  /** 0 (default): any free port. */
  port?: number;
  /** Where index.html, app.js, render.js and style.css are; default: ./page next to this module. */
  pageDir?: string;
  /** Commands the page suggests when someone types `/`. */
  tips?: { command: string; note: string }[];
}

/** A response_url: where it was issued, and what it may still be used for. */
interface ResponseTarget {
  user: string;
  channel: string;
  threadTs: string | null;
  original: { kind: 'message'; ts: string } | { kind: 'ephemeral'; id: string } | null;
  uses: number;
  expiresAt: number;
}

/** Slack: a response_url works 5 times within 30 minutes. */
const RESPONSE_URL_USES = 5;
const RESPONSE_URL_TTL_MS = 30 * 60_000;
/** Slack's trigger_id expires 3 s after the interaction. */
const TRIGGER_TTL_MS = 3000;
const MAX_BODY = 20 * 1024 * 1024;

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

const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, 'body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

interface ParsedBody {
  args: Json;
  files: { filename: string; bytes: Buffer }[];
}

/** Form, JSON and multipart bodies, as @slack/web-api, Bolt's `respond` and the upload step send them. */
async function parseBody(raw: Buffer, contentType: string, query: URLSearchParams): Promise<ParsedBody> {
  const args: Json = {};
  const files: ParsedBody['files'] = [];
  for (const [key, value] of query) args[key] = decodeField(key, value);
  const type = contentType.toLowerCase();
  if (type.startsWith('multipart/form-data')) {
    const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
    for (const [key, value] of form) {
      if (typeof value === 'string') args[key] = decodeField(key, value);
      else files.push({ filename: value.name, bytes: Buffer.from(await value.arrayBuffer()) });
    }
  } else if (type.startsWith('application/json')) {
    if (raw.length > 0) {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      if (isJson(parsed)) Object.assign(args, parsed);
    }
  } else if (raw.length > 0) {
    for (const [key, value] of new URLSearchParams(raw.toString('utf8'))) args[key] = decodeField(key, value);
  }
  return { args, files };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

function originHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}

function defaultPageDir(): string {
  const here = fileURLToPath(new URL('./page/', import.meta.url));
  // When compiled to dist/, the page stays in the source tree.
  return existsSync(here) ? here : fileURLToPath(new URL('../../src/sandbox/page/', import.meta.url));
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

export class SlackSandbox {
  readonly ws: Workspace;
  readonly #options: SandboxOptions;
  readonly #server: Server;
  readonly #pageDir: string;
  readonly #triggers = new Map<string, { user: string; expiresAt: number; used: boolean }>();
  readonly #responses = new Map<string, ResponseTarget>();
  readonly #streams = new Set<ServerResponse>();
  #appUrl: string | null = null;
  #port = 0;
  #host: string;
  #pendingNotify: NodeJS.Timeout | null = null;
  #heartbeat: NodeJS.Timeout | null = null;

  private constructor(options: SandboxOptions) {
    this.#options = options;
    this.ws = new Workspace(options.workspace);
    this.#host = options.host ?? '127.0.0.1';
    this.#pageDir = options.pageDir ?? defaultPageDir();
    this.#server = createServer((req, res) => {
      this.#route(req, res).catch((err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        if (!res.headersSent)
          sendJson(res, status, { ok: false, error: err instanceof Error ? err.message : String(err) });
        else res.end();
      });
    });
    this.ws.onChange(() => this.#notify());
  }

  static async start(options: SandboxOptions): Promise<SlackSandbox> {
    const sandbox = new SlackSandbox(options);
    if (!existsSync(sandbox.#pageDir)) throw new Error(`Sandbox page not found at ${sandbox.#pageDir}`);
    await new Promise<void>((resolve, reject) => {
      sandbox.#server.once('error', reject);
      sandbox.#server.listen(options.port ?? 0, sandbox.#host, () => {
        sandbox.#server.off('error', reject);
        resolve();
      });
    });
    sandbox.#port = (sandbox.#server.address() as AddressInfo).port;
    sandbox.#heartbeat = setInterval(() => {
      for (const stream of sandbox.#streams) stream.write(': keep-alive\n\n');
    }, 15_000);
    sandbox.#heartbeat.unref();
    return sandbox;
  }

  get port(): number {
    return this.#port;
  }

  /** `http://127.0.0.1:PORT` — the page. */
  get url(): string {
    return `http://${this.#host.includes(':') ? `[${this.#host}]` : this.#host}:${this.#port}`;
  }

  /** What to give the bot as SLACK_API_URL. */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  /** The app's Request URL (e.g. `http://127.0.0.1:3000/slack/events`): commands and clicks go there. */
  connectApp(requestUrl: string): void {
    this.#appUrl = requestUrl;
    this.ws.changed();
  }

  async stop(): Promise<void> {
    if (this.#heartbeat) clearInterval(this.#heartbeat);
    if (this.#pendingNotify) clearTimeout(this.#pendingNotify);
    for (const stream of this.#streams) stream.end();
    this.#streams.clear();
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    this.#server.closeAllConnections();
    await closed;
  }

  get #team(): TeamRef {
    const o = this.ws.options;
    return { id: o.teamId, domain: o.teamDomain, appId: o.appId };
  }

  #notify(): void {
    // Coalesces bursts (a restore posts several messages at once) into one page refresh.
    if (this.#pendingNotify) return;
    this.#pendingNotify = setTimeout(() => {
      this.#pendingNotify = null;
      for (const stream of this.#streams) stream.write(`data: ${this.ws.version}\n\n`);
    }, 30);
  }

  #newTrigger(user: string): string {
    const id = `${Date.now()}.${Math.floor(Math.random() * 1e9)}.${randomId(12).toLowerCase()}`;
    this.#triggers.set(id, { user, expiresAt: Date.now() + TRIGGER_TTL_MS, used: false });
    return id;
  }

  #takeTrigger(triggerId: string): { user: string } | 'expired' | 'invalid' {
    const t = this.#triggers.get(triggerId);
    if (!t || t.used) return 'invalid';
    t.used = true;
    return Date.now() > t.expiresAt ? 'expired' : { user: t.user };
  }

  #newResponseUrl(target: Omit<ResponseTarget, 'uses' | 'expiresAt'>): string {
    const id = randomId(24);
    this.#responses.set(id, { ...target, uses: 0, expiresAt: Date.now() + RESPONSE_URL_TTL_MS });
    return `${this.url}/response/${id}`;
  }

  // ---------------------------------------------------------------------------------------------
  // Routing

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const [, first = '', ...rest] = url.pathname.split('/');
    const name = decodeURIComponent(rest.join('/'));
    if (req.method === 'POST' && first === 'api') return this.#api(req, res, name, url.searchParams);
    if (req.method === 'POST' && first === 'upload') return this.#upload(req, res, name, url.searchParams);
    if (req.method === 'POST' && first === 'response')
      return this.#responseUrl(req, res, name, url.searchParams);
    if (first === 'ui') return this.#ui(req, res, name, url);
    if (req.method !== 'GET' && req.method !== 'HEAD') throw new HttpError(405, 'method not allowed');
    if (first === 'files') return this.#download(res, name);
    if (url.pathname === '/' || first === 'archives')
      return this.#static(res, 'index.html', 'text/html; charset=utf-8');
    const type = STATIC_FILES[url.pathname];
    if (type) return this.#static(res, url.pathname.slice(1), type);
    if (url.pathname === '/favicon.ico') {
      res.writeHead(204).end();
      return;
    }
    throw new HttpError(404, 'not found');
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

  // ---------------------------------------------------------------------------------------------
  // Slack's side: Web API, upload URLs, response URLs

  async #api(
    req: IncomingMessage,
    res: ServerResponse,
    method: string,
    query: URLSearchParams,
  ): Promise<void> {
    const { args } = await parseBody(await readBody(req), req.headers['content-type'] ?? '', query);
    const header = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const token = header ?? str(args.token);
    delete args.token;
    if (method !== 'api.test' && token === undefined)
      return sendJson(res, 200, { ok: false, error: 'not_authed' });
    if (method !== 'api.test' && token !== this.#options.botToken) {
      return sendJson(res, 200, { ok: false, error: 'invalid_auth' });
    }
    const result = callApi(
      { ws: this.ws, origin: this.url, takeTrigger: (t) => this.#takeTrigger(t) },
      method,
      args,
    );
    sendJson(res, 200, result);
  }

  async #upload(
    req: IncomingMessage,
    res: ServerResponse,
    fileId: string,
    query: URLSearchParams,
  ): Promise<void> {
    const raw = await readBody(req);
    const file = this.ws.file(fileId);
    if (!file) throw new HttpError(404, 'file not found');
    const parsed = await parseBody(raw, req.headers['content-type'] ?? '', query);
    // The SDK sends the bytes as one multipart part; a plain body is accepted too.
    file.bytes = parsed.files[0]?.bytes ?? raw;
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${file.bytes.length}`);
  }

  async #responseUrl(
    req: IncomingMessage,
    res: ServerResponse,
    id: string,
    query: URLSearchParams,
  ): Promise<void> {
    const { args } = await parseBody(await readBody(req), req.headers['content-type'] ?? '', query);
    const target = this.#responses.get(id);
    if (!target || target.uses >= RESPONSE_URL_USES || Date.now() > target.expiresAt) {
      return sendJson(res, 404, { ok: false, error: 'used_url' });
    }
    target.uses++;
    if (args.blocks !== undefined) {
      const problems = checkBlocks(args.blocks, 'message');
      if (problems.length > 0)
        return sendJson(res, 400, { ok: false, error: 'invalid_blocks', messages: problems });
    }
    this.#deliverResponse(target, args);
    sendJson(res, 200, { ok: true });
  }

  /** A response_url body: replace or delete the original, post in the channel, or (default) ephemeral. */
  #deliverResponse(target: ResponseTarget, args: Json): void {
    const content = {
      text: str(args.text) ?? '',
      blocks: Array.isArray(args.blocks) ? withIds(args.blocks) : null,
    };
    const original = target.original;
    if (args.delete_original === true || args.delete_original === 'true') {
      if (original?.kind === 'message') this.ws.deleteMessage(target.channel, original.ts);
      if (original?.kind === 'ephemeral') this.ws.dismissEphemeral(target.user, original.id);
      return;
    }
    if ((args.replace_original === true || args.replace_original === 'true') && original) {
      if (original.kind === 'ephemeral') {
        this.ws.replaceEphemeral(original.id, content);
        return;
      }
      const message = this.ws.message(target.channel, original.ts);
      if (message) {
        message.text = content.text;
        message.blocks = content.blocks;
        message.edited = true;
        this.ws.changed();
        return;
      }
    }
    if (args.response_type === 'in_channel') {
      const bot = this.ws.options.bot;
      this.ws.addMessage({
        channel: target.channel,
        threadTs: target.threadTs,
        user: bot.id,
        botId: bot.botId,
        ...content,
        replyBroadcast: false,
        files: [],
      });
      return;
    }
    this.ws.addEphemeral({
      user: target.user,
      channel: target.channel,
      threadTs: target.threadTs,
      from: 'app',
      ...content,
    });
  }

  // ---------------------------------------------------------------------------------------------
  // The people's side: the page's JSON API

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
      default:
        throw new HttpError(404, 'not found');
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
      messages: ws.messages().map((m) => ({ ...m })),
      ephemerals: ws.ephemeralsFor(user).map((e) => ({ ...e })),
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
    const body = slashCommandBody({
      team: this.#team,
      user: { id: user, name: person?.name ?? user },
      channel: { id: channel.id, name: channel.name },
      command,
      text,
      responseUrl: this.#newResponseUrl({ user, channel: channel.id, threadTs: null, original: null }),
      triggerId: this.#newTrigger(user),
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
        if (ack.response_type === 'in_channel') {
          const bot = this.ws.options.bot;
          this.ws.addMessage({
            channel: channel.id,
            threadTs: null,
            user: bot.id,
            botId: bot.botId,
            ...content,
            replyBroadcast: false,
            files: [],
          });
        } else {
          this.ws.addEphemeral({ user, channel: channel.id, threadTs: null, from: 'app', ...content });
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
    const userRef = { id: user, name: person?.name ?? user };
    let container: ActionContainer;
    let element: Json | undefined;
    let responseUrl: string | null = null;
    let errorPlace: { channel: string; threadTs: string | null };

    if (where.type === 'view') {
      const open = this.ws.findView(str(where.viewId) ?? '');
      if (!open || open.user !== user) throw new HttpError(404, 'view not open');
      element = findElement(open.view.blocks as Json[], blockId, actionId);
      container = { type: 'view', view: { ...open.view, hash: open.hash } };
      const first = this.ws.options.channels[0];
      errorPlace = { channel: first?.id ?? '', threadTs: null };
    } else if (where.type === 'ephemeral') {
      const eph: EphemeralMessage | undefined = this.ws.ephemeral(str(where.id) ?? '');
      if (!eph || eph.user !== user) throw new HttpError(404, 'message not found');
      const channel = this.ws.channel(eph.channel);
      if (!channel) throw new HttpError(404, 'channel not found');
      element = findElement(eph.blocks, blockId, actionId);
      container = {
        type: 'ephemeral',
        channel: { id: channel.id, name: channel.name },
        messageTs: eph.ts,
        threadTs: eph.threadTs,
      };
      responseUrl = this.#newResponseUrl({
        user,
        channel: channel.id,
        threadTs: eph.threadTs,
        original: { kind: 'ephemeral', id: eph.id },
      });
      errorPlace = { channel: channel.id, threadTs: eph.threadTs };
    } else {
      const channel = this.ws.channel(str(where.channel) ?? '');
      const message = channel ? this.ws.message(channel.id, str(where.ts) ?? '') : undefined;
      if (!channel || !message) throw new HttpError(404, 'message not found');
      element = findElement(message.blocks, blockId, actionId);
      container = {
        type: 'message',
        channel: { id: channel.id, name: channel.name },
        message: messageJson(this.ws, message),
        threadTs: message.threadTs,
      };
      responseUrl = this.#newResponseUrl({
        user,
        channel: channel.id,
        threadTs: message.threadTs,
        original: { kind: 'message', ts: message.ts },
      });
      errorPlace = { channel: channel.id, threadTs: message.threadTs };
    }
    if (!element) throw new HttpError(404, 'element not found');

    let selectedOption: Json | null | undefined;
    if (element.type !== 'button') {
      const value = str(body.selected);
      selectedOption =
        value === undefined ? null : (optionsOf(element).find((o) => o.value === value) ?? null);
    }
    const payload = blockActionsBody({
      team: this.#team,
      user: userRef,
      container,
      blockId,
      element,
      ...(selectedOption === undefined ? {} : { selectedOption }),
      responseUrl,
      triggerId: this.#newTrigger(user),
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
        team: this.#team,
        user: { id: user, name: person?.name ?? user },
        view,
        triggerId: this.#newTrigger(user),
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
          team: this.#team,
          user: { id: user, name: person?.name ?? user },
          view: open.view,
          cleared: false,
        }),
      );
    }
    return { ok: true };
  }
}
