import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { checkBlocks } from './block-kit.js';
import { HttpError, type ParsedBody, parseBody, readBody, sendJson } from './http.js';
import { type PageOptions, PeoplePage } from './people.js';
import { type ApiResult, applyResponse, callApi } from './web-api.js';
import {
  type SandboxMessage,
  type SandboxUser,
  type StoredFile,
  Workspace,
  type WorkspaceOptions,
} from './workspace.js';

/**
 * The local Slack: one HTTP server that is, at once,
 *  - Slack's Web API for the app (`/api/<method>`, `/upload/<file>`, `/response/<id>`), and
 *  - with `page`, a Slack-like web page for people (`/`, `/ui/*`), whose clicks and commands
 *    become the signed requests Slack would send to the app's Request URL.
 * The demo runs the real bot against it; end-to-end tests do too (`startSlackStandin`), and read
 * what the bot called (`calls`), what Slack would show (`messagesInThread`), and make Slack fail
 * in the ways it does (`failNext`, `failWith`, `acceptThen`, `setDown`).
 *
 * Unlike nock, it is a real server on a real socket: the SDK's retries, its request queue, Bolt's
 * own client and `setDown` (a refused connection, not a canned error) all behave as in production.
 * The app reaches it through SLACK_API_URL (`apiUrl`), exactly as it would reach GovSlack or a proxy.
 */

/** Method name recorded for the upload POST to an upload_url (and usable with failNext). */
export const UPLOAD_METHOD = 'upload';
/** Method name recorded for a POST to a response_url (and usable with failNext). */
export const RESPONSE_URL_METHOD = 'response_url';

export interface RecordedCall {
  /** Web API method, or UPLOAD_METHOD / RESPONSE_URL_METHOD. */
  method: string;
  /** Decoded arguments: form fields, with JSON-encoded fields (`blocks`, `view`, …) parsed. */
  args: Record<string, unknown>;
  /** `Date.now()` when the request arrived. */
  at: number;
  /** From `Authorization: Bearer …` or the `token` field. */
  token: string | null;
  contentType: string;
  /** HTTP status answered. */
  status: number;
  /** The `error` of an `{ ok: false }` answer, if any. */
  error: string | null;
  /** Set when the call was carried out and then answered badly (see `acceptThen`). */
  fault: AcceptedFault['answer'] | null;
}

/** Message metadata as chat.postMessage takes it and conversations.* return it. */
export interface MessageMetadata {
  event_type: string;
  event_payload: Record<string, unknown>;
}

/** A message as tests read it, with Slack's field names. */
export interface StoredMessage {
  channel: string;
  ts: string;
  /** The parent's ts for a reply, null for a top-level message. */
  thread_ts: string | null;
  text: string;
  blocks: unknown[] | null;
  user: string;
  /** null for a message a person wrote. */
  bot_id: string | null;
  reply_broadcast: boolean;
  /** How many chat.update calls changed it. */
  edits: number;
  /** Files shared with it (files.completeUploadExternal). */
  files: { id: string; name: string }[];
  subtype: string | null;
  /** As posted (`metadata`), returned by conversations.history/replies with `include_all_metadata`. */
  metadata: MessageMetadata | null;
}

export type { StoredFile };

export interface ResponseUrlPost {
  id: string;
  body: unknown;
  at: number;
}

export interface HttpFailure {
  status: number;
  /** Seconds, sent as `Retry-After` (Slack does on 429). */
  retryAfter?: number;
  /** How many consecutive calls fail; default 1. */
  times?: number;
}

/**
 * What happens after a call was carried out (the message stored, say), as when Slack acts on a
 * request and its answer is slow or lost: the client cannot tell whether it took effect.
 */
export type AcceptedFault =
  /** The normal answer, `afterMs` late (longer than the client's timeout: it has given up). */
  | { answer: 'late'; afterMs: number }
  /**
   * Slack still working on it: the call is carried out only `afterMs` after it arrived (whether
   * or not the client is still waiting), then answered.
   */
  | { answer: 'slow'; afterMs: number }
  /** No answer at all; the connection stays open until the client gives up. */
  | { answer: 'never' }
  /** The connection is reset instead of answered. */
  | { answer: 'reset' }
  /** An HTTP error status (a 5xx from a proxy or Slack's edge) instead of the answer. */
  | { answer: 'status'; status: number };

type Injected =
  | { kind: 'http'; status: number; retryAfter: number | undefined }
  | { kind: 'error'; error: string };

export interface LocalSlackOptions {
  workspace: WorkspaceOptions;
  /** What the app must authenticate with (anything else gets `invalid_auth`); default: any token. */
  botToken?: string;
  /** The people's page; without it, only Slack's side (Web API, uploads, response URLs). */
  page?: PageOptions;
  /** Default 127.0.0.1. */
  host?: string;
  /** 0 (default): any free port. */
  port?: number;
}

/** Slack answers a response_url only 5 times within 30 minutes (its response_url docs). */
const RESPONSE_URL_USES = 5;

const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Plain text of Block Kit blocks, in reading order, for assertions and transcripts. */
export function blockText(blocks: readonly unknown[] | null): string[] {
  const out: string[] = [];
  const textOf = (value: unknown): string | undefined =>
    isRecord(value) ? str(value.text) : typeof value === 'string' ? value : undefined;
  for (const block of blocks ?? []) {
    if (!isRecord(block)) continue;
    const own = textOf(block.text);
    if (own !== undefined) out.push(own);
    if (Array.isArray(block.fields)) {
      for (const field of block.fields) {
        const text = textOf(field);
        if (text !== undefined) out.push(text);
      }
    }
    if (Array.isArray(block.elements)) {
      for (const element of block.elements) {
        if (!isRecord(element)) continue;
        if (element.type === 'button') {
          const label = textOf(element.text);
          if (label !== undefined) out.push(`[${label}]`);
        } else {
          const text = textOf(element) ?? textOf(element.text);
          if (text !== undefined) out.push(text);
        }
      }
    }
  }
  return out;
}

/**
 * One line per message (root first): its text — or its blocks' text when it has none — with
 * its buttons as `[Label]`, and shared files as `[file name]`; replies are indented.
 */
export function threadTranscript(messages: readonly StoredMessage[]): string[] {
  return messages.map((message, index) => {
    const buttons = blockText(message.blocks).filter((t) => t.startsWith('[') && t.endsWith(']'));
    const text =
      message.text !== ''
        ? message.text
        : blockText(message.blocks)
            .filter((t) => !buttons.includes(t))
            .join(' ');
    const parts = [
      text.replace(/\s+/g, ' ').trim(),
      ...message.files.map((f) => `[file ${f.name}]`),
      ...buttons,
    ].filter((p) => p !== '');
    const indent = index === 0 && message.thread_ts === null ? '' : '  ';
    return `${indent}${parts.join(' ')}`;
  });
}

function storedMessage(m: SandboxMessage): StoredMessage {
  return {
    channel: m.channel,
    ts: m.ts,
    thread_ts: m.threadTs,
    text: m.text,
    blocks: m.blocks === null ? null : [...m.blocks],
    user: m.user,
    bot_id: m.botId,
    reply_broadcast: m.replyBroadcast,
    edits: m.edits,
    files: m.files.map((f) => ({ id: f.id, name: f.name })),
    subtype: m.files.length > 0 ? 'file_share' : null,
    metadata: m.metadata ?? null,
  };
}

function compareTs(a: string, b: string): number {
  const [as = '0', af = '0'] = a.split('.');
  const [bs = '0', bf = '0'] = b.split('.');
  return Number(as) - Number(bs) || Number(af.padEnd(6, '0')) - Number(bf.padEnd(6, '0'));
}

function bearer(req: IncomingMessage): string | null {
  return /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1] ?? null;
}

export class LocalSlack {
  readonly ws: Workspace;
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #botToken: string | undefined;
  readonly #page: PeoplePage | null;
  readonly #host: string;
  #port = 0;
  #calls: RecordedCall[] = [];
  #responses: ResponseUrlPost[] = [];
  #failures = new Map<string, Injected[]>();
  #accepted = new Map<string, AcceptedFault[]>();
  #down = false;

  private constructor(options: LocalSlackOptions) {
    this.ws = new Workspace(options.workspace);
    this.#botToken = options.botToken;
    this.#host = options.host ?? '127.0.0.1';
    this.#page = options.page ? new PeoplePage(this.ws, options.page, () => this.url) : null;
    this.#server = createServer((req, res) => {
      this.#route(req, res).catch((err: unknown) => {
        const status = err instanceof HttpError ? err.status : 500;
        if (!res.headersSent)
          sendJson(res, status, { ok: false, error: err instanceof Error ? err.message : String(err) });
        else res.end();
      });
    });
    this.#server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  static async start(options: LocalSlackOptions): Promise<LocalSlack> {
    const slack = new LocalSlack(options);
    await slack.#listen(options.port ?? 0);
    return slack;
  }

  get port(): number {
    return this.#port;
  }

  get teamId(): string {
    return this.ws.options.teamId;
  }

  get botUserId(): string {
    return this.ws.options.bot.id;
  }

  get botId(): string {
    return this.ws.options.bot.botId;
  }

  /** `http://127.0.0.1:PORT` — also the page, when there is one. */
  get url(): string {
    return `http://${this.#host.includes(':') ? `[${this.#host}]` : this.#host}:${this.#port}`;
  }

  get origin(): string {
    return this.url;
  }

  /** What to set as SLACK_API_URL / `slackApiUrl` (ends with `/`). */
  get apiUrl(): string {
    return `${this.url}/api/`;
  }

  /** The app's Request URL (e.g. `http://127.0.0.1:3000/slack/events`): the page's commands and clicks go there. */
  connectApp(requestUrl: string): void {
    if (this.#page === null) throw new Error('connectApp needs the page (the `page` option)');
    this.#page.connectApp(requestUrl);
  }

  /** A response_url on the local Slack that tests hand out themselves; POSTs to it are recorded under `id`. */
  responseUrl(id: string): string {
    return `${this.url}/response/${encodeURIComponent(id)}`;
  }

  /** Recorded calls in arrival order (failed attempts included), optionally of one method. */
  calls(method?: string): RecordedCall[] {
    return this.#calls.filter((call) => method === undefined || call.method === method);
  }

  /** Calls Slack answered with `ok: true`. */
  okCalls(method?: string): RecordedCall[] {
    return this.calls(method).filter((call) => call.status === 200 && call.error === null);
  }

  /** What was POSTed to response URLs, optionally to one id. */
  responses(id?: string): ResponseUrlPost[] {
    return this.#responses.filter((post) => id === undefined || post.id === id);
  }

  files(): StoredFile[] {
    return this.ws.files().map((file) => ({ ...file }));
  }

  /** The next `times` calls to `method` get this HTTP status (429 with Retry-After, 500, …). */
  failNext(method: string, failure: HttpFailure): void {
    this.#inject(
      method,
      { kind: 'http', status: failure.status, retryAfter: failure.retryAfter },
      failure.times ?? 1,
    );
  }

  /** The next `times` calls to `method` get HTTP 200 `{ ok: false, error }`. */
  failWith(method: string, error: string, options: { times?: number } = {}): void {
    this.#inject(method, { kind: 'error', error }, options.times ?? 1);
  }

  /**
   * The next `times` calls to `method` are carried out (a chat.postMessage stores its message),
   * and then answered as `fault` says instead of normally.
   */
  acceptThen(method: string, fault: AcceptedFault, options: { times?: number } = {}): void {
    const queue = this.#accepted.get(method) ?? [];
    for (let i = 0; i < (options.times ?? 1); i++) queue.push(fault);
    this.#accepted.set(method, queue);
  }

  #inject(method: string, failure: Injected, times: number): void {
    const queue = this.#failures.get(method) ?? [];
    for (let i = 0; i < times; i++) queue.push(failure);
    this.#failures.set(method, queue);
  }

  setChannel(id: string, name: string): void {
    this.ws.setChannel({ id, name, topic: '' });
  }

  setUsergroup(id: string, members: readonly string[]): void {
    this.ws.setUsergroup({ id, handle: id.toLowerCase(), name: id, members: [...members] });
  }

  setUser(id: string, user: StandinUser): void {
    this.ws.setUser(standinUser(id, user));
  }

  get isDown(): boolean {
    return this.#down;
  }

  /**
   * Down: the listener is closed and open (keep-alive) sockets destroyed, so clients see a
   * refused or reset connection, as when Slack is unreachable. Up: listens on the same port.
   */
  async setDown(down: boolean): Promise<void> {
    if (down === this.#down) return;
    if (down) await this.#close();
    else await this.#listen(this.#port);
  }

  /**
   * Polls until `predicate` returns something truthy and returns it; on timeout throws with the
   * calls seen so far, which is what one needs to read when an end-to-end test fails.
   */
  async waitFor<T>(
    predicate: (calls: readonly RecordedCall[], slack: LocalSlack) => T | undefined | null | false,
    timeoutMs = 5000,
    description = 'condition',
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = predicate(this.#calls, this);
      if (value !== undefined && value !== null && value !== false) return value;
      if (Date.now() >= deadline) {
        const seen = this.#calls
          .map((c) => `${c.method}${c.error === null ? '' : ` (${c.error})`}`)
          .join(', ');
        throw new Error(
          `Slack stand-in: timed out after ${timeoutMs} ms waiting for ${description}; calls: [${seen}]`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** The root message and its replies, in order, each as it reads after every update. */
  messagesInThread(channel: string, threadTs: string): StoredMessage[] {
    const id = this.ws.channel(channel)?.id ?? channel;
    return this.ws
      .messages()
      .filter((m) => m.channel === id && (m.ts === threadTs || m.threadTs === threadTs))
      .sort((a, b) => compareTs(a.ts, b.ts))
      .map(storedMessage);
  }

  /** `user`'s App Home tab as the app last published it (views.publish), if ever. */
  homeOf(user: string): { blocks: unknown[]; text: string[] } | undefined {
    const view = this.ws.home(user);
    if (!view) return undefined;
    const blocks = Array.isArray(view.blocks) ? view.blocks : [];
    return { blocks, text: blockText(blocks) };
  }

  /** What the channel itself shows: top-level messages and broadcast replies. */
  messagesInChannel(channel: string): StoredMessage[] {
    const id = this.ws.channel(channel)?.id ?? channel;
    return this.ws
      .messages()
      .filter((m) => m.channel === id && (m.threadTs === null || m.replyBroadcast))
      .sort((a, b) => compareTs(a.ts, b.ts))
      .map(storedMessage);
  }

  transcript(channel: string, threadTs: string): string[] {
    return threadTranscript(this.messagesInThread(channel, threadTs));
  }

  /** Forgets calls, messages, files, views, response posts and pending failures. */
  reset(): void {
    this.#calls = [];
    this.#responses = [];
    this.#failures = new Map();
    this.#accepted = new Map();
    this.ws.clear();
  }

  async stop(): Promise<void> {
    this.#page?.stop();
    await this.#close();
  }

  async #listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(port, this.#host, () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
    this.#port = (this.#server.address() as AddressInfo).port;
    this.#down = false;
  }

  async #close(): Promise<void> {
    if (this.#down) return;
    this.#down = true;
    const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
    // Keep-alive sockets would otherwise keep serving pooled requests after close().
    for (const socket of this.#sockets) socket.destroy();
    await closed;
  }

  // ---------------------------------------------------------------------------------------------

  async #route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const [, route = '', ...rest] = url.pathname.split('/');
    const name = decodeURIComponent(rest.join('/'));
    const method =
      route === 'api'
        ? name
        : route === 'upload'
          ? UPLOAD_METHOD
          : route === 'response'
            ? RESPONSE_URL_METHOD
            : null;
    if (req.method === 'POST' && method !== null && name !== '')
      return this.#slackSide(req, res, url, method, name);
    if (this.#page !== null && (await this.#page.handle(req, res, url))) return;
    throw new HttpError(404, 'not found');
  }

  /** Slack's side: a Web API call, an upload or a response_url post, recorded and perhaps failed. */
  async #slackSide(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    method: string,
    name: string,
  ): Promise<void> {
    const contentType = req.headers['content-type'] ?? '';
    const raw = await readBody(req);
    const parsed = await parseBody(raw, contentType, url.searchParams);
    const token = bearer(req) ?? str(parsed.args.token) ?? null;
    const call: RecordedCall = {
      method,
      args: parsed.args,
      at: Date.now(),
      token,
      contentType,
      status: 200,
      error: null,
      fault: null,
    };
    this.#calls.push(call);

    const injected = this.#failures.get(method)?.shift();
    if (injected?.kind === 'http') {
      call.status = injected.status;
      const headers: Record<string, string> = { 'content-type': 'application/json' };
      if (injected.retryAfter !== undefined) headers['retry-after'] = String(injected.retryAfter);
      const body =
        injected.status === 429 ? { ok: false, error: 'ratelimited' } : { ok: false, error: 'http_error' };
      res.writeHead(injected.status, headers).end(JSON.stringify(body));
      return;
    }
    if (injected?.kind === 'error') {
      call.error = injected.error;
      sendJson(res, 200, { ok: false, error: injected.error });
      return;
    }
    if (method === UPLOAD_METHOD) return this.#upload(name, parsed, raw, call, res);
    if (method === RESPONSE_URL_METHOD) return this.#responseUrlPost(name, parsed.args, call, res);

    const fault = this.#accepted.get(method)?.shift();
    if (fault?.answer === 'slow') await new Promise((resolve) => setTimeout(resolve, fault.afterMs));
    const result = this.#api(method, token, parsed.args);
    if (result.ok === false) call.error = str(result.error) ?? 'unknown';
    if (fault === undefined || fault.answer === 'slow') {
      if (fault !== undefined) call.fault = fault.answer;
      if (!res.destroyed) sendJson(res, 200, result);
      return;
    }
    call.fault = fault.answer;
    switch (fault.answer) {
      case 'late': {
        const timer = setTimeout(() => {
          if (!res.destroyed) sendJson(res, 200, result);
        }, fault.afterMs);
        timer.unref();
        res.once('close', () => clearTimeout(timer));
        return;
      }
      case 'never':
        call.status = 0;
        return;
      case 'reset':
        call.status = 0;
        req.socket.resetAndDestroy();
        return;
      case 'status':
        call.status = fault.status;
        res
          .writeHead(fault.status, { 'content-type': 'text/html' })
          .end(`<html><body>${fault.status}</body></html>`);
        return;
    }
  }

  #api(method: string, token: string | null, args: Record<string, unknown>): ApiResult {
    if (method !== 'api.test') {
      if (token === null) return { ok: false, error: 'not_authed' };
      if (this.#botToken !== undefined && token !== this.#botToken)
        return { ok: false, error: 'invalid_auth' };
    }
    return callApi({ ws: this.ws, origin: this.url }, method, args);
  }

  #upload(fileId: string, parsed: ParsedBody, raw: Buffer, call: RecordedCall, res: ServerResponse): void {
    const file = this.ws.file(fileId);
    if (file === undefined) {
      call.status = 404;
      call.error = 'file_not_found';
      res.writeHead(404, { 'content-type': 'text/plain' }).end('file not found');
      return;
    }
    // The SDK sends the bytes as a multipart part; a plain body is accepted too.
    const part = Object.values(parsed.files)[0];
    file.bytes = part?.bytes ?? raw;
    call.args = { file_id: fileId, filename: part?.filename ?? null, size: file.bytes.length };
    res.writeHead(200, { 'content-type': 'text/plain' }).end(`OK - ${file.bytes.length}`);
  }

  /**
   * Every post is recorded; one to a response_url the page handed out (with a command or a click)
   * is also applied to the workspace, as Slack would show it.
   */
  #responseUrlPost(id: string, args: Record<string, unknown>, call: RecordedCall, res: ServerResponse): void {
    const target = this.ws.responseTarget(id);
    const uses = this.#responses.filter((post) => post.id === id).length;
    if (uses >= RESPONSE_URL_USES || (target !== undefined && Date.now() > target.expiresAt)) {
      call.status = 404;
      call.error = 'used_url';
      sendJson(res, 404, { ok: false, error: 'used_url' });
      return;
    }
    this.#responses.push({ id, body: args, at: call.at });
    if (target !== undefined) {
      if (args.blocks !== undefined) {
        const problems = checkBlocks(args.blocks, 'message');
        if (problems.length > 0) {
          call.status = 400;
          call.error = 'invalid_blocks';
          sendJson(res, 400, { ok: false, error: 'invalid_blocks', messages: problems });
          return;
        }
      }
      applyResponse(this.ws, target, args);
    }
    sendJson(res, 200, { ok: true });
  }
}

// ---------------------------------------------------------------------------------------------
// The tests' Slack: an open workspace (any user or channel id works) with short, fixed ids.

export interface StandinUser {
  name: string;
  real_name?: string;
  is_bot?: boolean;
  deleted?: boolean;
}

export interface SlackStandinOptions {
  /** Channel id → name for conversations.info and `#name` channels. */
  channels?: Record<string, string>;
  /** User group id → member user ids for usergroups.users.list. */
  usergroups?: Record<string, string[]>;
  /** Known users; any other `U…`/`W…` id is answered with a generated profile. */
  users?: Record<string, StandinUser>;
  teamId?: string;
  botUserId?: string;
  botId?: string;
}

function standinUser(id: string, user: StandinUser): SandboxUser {
  return {
    id,
    name: user.name,
    realName: user.real_name ?? user.name,
    title: '',
    isBot: user.is_bot ?? false,
    color: 'teal',
  };
}

/** The workspace end-to-end tests expect: team T_TEST, bot U_BOT/B_BOT, #inc-42 (C_INC) and #general (C_GEN). */
export function testWorkspace(options: SlackStandinOptions = {}): WorkspaceOptions {
  return {
    teamId: options.teamId ?? 'T_TEST',
    teamName: 'Zeus Test',
    teamDomain: 'zeus-test',
    appId: 'A_TEST',
    bot: {
      id: options.botUserId ?? 'U_BOT',
      botId: options.botId ?? 'B_BOT',
      name: 'zeus-recover',
      realName: 'zeus-recover',
      title: '',
      isBot: true,
      color: 'app',
    },
    users: Object.entries(options.users ?? {}).map(([id, user]) => standinUser(id, user)),
    channels: Object.entries(options.channels ?? { C_INC: 'inc-42', C_GEN: 'general' }).map(([id, name]) => ({
      id,
      name,
      topic: '',
    })),
    usergroups: Object.entries(options.usergroups ?? {}).map(([id, members]) => ({
      id,
      handle: id.toLowerCase(),
      name: id,
      members: [...members],
    })),
    open: true,
  };
}

/** The local Slack as end-to-end tests use it. */
export type SlackStandin = LocalSlack;

/** Starts the tests' local Slack on a random port of 127.0.0.1; call `stop()` when done. */
export function startSlackStandin(options: SlackStandinOptions = {}): Promise<SlackStandin> {
  return LocalSlack.start({ workspace: testWorkspace(options) });
}
