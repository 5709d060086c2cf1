import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * A local stand-in for Slack's Web API, for end-to-end tests: the app under test reaches it
 * through SLACK_API_URL (= `standin.apiUrl`, e.g. `http://127.0.0.1:PORT/api/`), exactly as it
 * would reach GovSlack or a proxy. @slack/web-api POSTs to `slackApiUrl + method`.
 *
 * Unlike nock, it is a real server on a real socket: the SDK's retries, its request queue, Bolt's
 * own client and `setDown` (a refused connection, not a canned error) all behave as in production.
 *
 * Routes:
 *   POST /api/<method>     Web API (form-encoded, JSON or multipart bodies)
 *   POST /upload/<fileId>  the upload_url handed out by files.getUploadURLExternal
 *   POST /response/<id>    a response_url (see `responseUrl(id)`)
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

export interface StoredMessage {
  channel: string;
  ts: string;
  /** The parent's ts for a reply, null for a top-level message. */
  thread_ts: string | null;
  text: string;
  blocks: unknown[] | null;
  user: string;
  bot_id: string;
  reply_broadcast: boolean;
  /** How many chat.update calls changed it. */
  edits: number;
  /** Files shared with it (files.completeUploadExternal). */
  files: { id: string; name: string }[];
  subtype: string | null;
  /** As posted (`metadata`), returned by conversations.history/replies with `include_all_metadata`. */
  metadata: MessageMetadata | null;
}

export interface StoredFile {
  id: string;
  filename: string;
  title: string;
  /** The `length` declared to files.getUploadURLExternal. */
  length: number;
  /** What was POSTed to the upload_url, null until then. */
  bytes: Buffer | null;
  completed: boolean;
  channel_id: string | null;
  thread_ts: string | null;
  initial_comment: string | null;
}

export interface ResponseUrlPost {
  id: string;
  body: unknown;
  at: number;
}

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
type ApiResult = Record<string, unknown>;

const JSON_FIELDS = new Set([
  'blocks',
  'attachments',
  'view',
  'files',
  'metadata',
  'unfurls',
  'user_auth_blocks',
]);
const MAX_BODY = 50 * 1024 * 1024;
/** Slack answers a response_url only 5 times within 30 minutes (its response_url docs). */
const RESPONSE_URL_USES = 5;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function bool(value: unknown): boolean {
  return value === true || value === 'true' || value === '1' || value === 1;
}

function decodeField(key: string, value: string): unknown {
  if (!JSON_FIELDS.has(key)) return value;
  const trimmed = value.trimStart();
  if (!trimmed.startsWith('[') && !trimmed.startsWith('{')) return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new Error('body too large'));
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
  args: Record<string, unknown>;
  /** Binary parts of a multipart body, by field name. */
  files: Record<string, { filename: string; bytes: Buffer }>;
}

/** Form, JSON and multipart, as @slack/web-api, Bolt's `respond` and the upload step send them. */
async function parseBody(raw: Buffer, contentType: string, query: URLSearchParams): Promise<ParsedBody> {
  const args: Record<string, unknown> = {};
  const files: ParsedBody['files'] = {};
  for (const [key, value] of query) args[key] = decodeField(key, value);
  const type = contentType.toLowerCase();
  if (type.startsWith('multipart/form-data')) {
    // undici's Response does the multipart parsing; no hand-rolled boundary splitting.
    const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
    for (const [key, value] of form) {
      if (typeof value === 'string') args[key] = decodeField(key, value);
      else {
        const bytes = Buffer.from(await value.arrayBuffer());
        files[key] = { filename: value.name, bytes };
        args[key] = { filename: value.name, size: bytes.length };
      }
    }
  } else if (type.startsWith('application/json')) {
    if (raw.length > 0) {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      if (isRecord(parsed)) Object.assign(args, parsed);
      else args.body = parsed;
    }
  } else if (raw.length > 0) {
    for (const [key, value] of new URLSearchParams(raw.toString('utf8'))) args[key] = decodeField(key, value);
  }
  return { args, files };
}

function bearer(req: IncomingMessage): string | null {
  const header = req.headers.authorization;
  if (header === undefined) return null;
  const match = /^Bearer\s+(.+)$/i.exec(header);
  return match?.[1] ?? null;
}

function blockCount(blocks: unknown): number {
  return Array.isArray(blocks) ? blocks.length : 0;
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

export class SlackStandin {
  readonly teamId: string;
  readonly botUserId: string;
  readonly botId: string;
  readonly port: number;

  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  readonly #channels = new Map<string, string>();
  readonly #usergroups = new Map<string, string[]>();
  readonly #users = new Map<string, StandinUser>();
  #calls: RecordedCall[] = [];
  #messages = new Map<string, StoredMessage>();
  #files = new Map<string, StoredFile>();
  #views = new Map<string, Record<string, unknown>>();
  #responses: ResponseUrlPost[] = [];
  #failures = new Map<string, Injected[]>();
  #accepted = new Map<string, AcceptedFault[]>();
  #seq = 0;
  #lastTs = 0;
  #down = false;

  private constructor(server: Server, port: number, options: SlackStandinOptions) {
    this.#server = server;
    this.port = port;
    this.teamId = options.teamId ?? 'T_TEST';
    this.botUserId = options.botUserId ?? 'U_BOT';
    this.botId = options.botId ?? 'B_BOT';
    for (const [id, name] of Object.entries(options.channels ?? { C_INC: 'inc-42', C_GEN: 'general' })) {
      this.#channels.set(id, name);
    }
    for (const [id, members] of Object.entries(options.usergroups ?? {}))
      this.#usergroups.set(id, [...members]);
    for (const [id, user] of Object.entries(options.users ?? {})) this.#users.set(id, user);
  }

  static async start(options: SlackStandinOptions = {}): Promise<SlackStandin> {
    let standin: SlackStandin | undefined;
    const server = createServer((req, res) => {
      if (standin === undefined) {
        res.writeHead(503).end();
        return;
      }
      standin.#handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(err instanceof Error ? err.message : String(err));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    const port = (server.address() as AddressInfo).port;
    standin = new SlackStandin(server, port, options);
    const sockets = standin.#sockets;
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.once('close', () => sockets.delete(socket));
    });
    return standin;
  }

  /** `http://127.0.0.1:PORT` */
  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** What to set as SLACK_API_URL / `slackApiUrl` (ends with `/`). */
  get apiUrl(): string {
    return `${this.origin}/api/`;
  }

  /** A response_url on the stand-in; POSTs to it are recorded under `id`. */
  responseUrl(id: string): string {
    return `${this.origin}/response/${encodeURIComponent(id)}`;
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
    return [...this.#files.values()].map((file) => ({ ...file }));
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
    this.#channels.set(id, name);
  }

  setUsergroup(id: string, members: readonly string[]): void {
    this.#usergroups.set(id, [...members]);
  }

  setUser(id: string, user: StandinUser): void {
    this.#users.set(id, user);
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
    this.#down = down;
    if (down) {
      const closed = new Promise<void>((resolve) => this.#server.close(() => resolve()));
      for (const socket of this.#sockets) socket.destroy();
      await closed;
      return;
    }
    await new Promise<void>((resolve, reject) => {
      this.#server.once('error', reject);
      this.#server.listen(this.port, '127.0.0.1', () => {
        this.#server.off('error', reject);
        resolve();
      });
    });
  }

  /**
   * Polls until `predicate` returns something truthy and returns it; on timeout throws with the
   * calls seen so far, which is what one needs to read when an end-to-end test fails.
   */
  async waitFor<T>(
    predicate: (calls: readonly RecordedCall[], standin: SlackStandin) => T | undefined | null | false,
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
    const id = this.#resolveChannel(channel);
    return [...this.#messages.values()]
      .filter((m) => m.channel === id && (m.ts === threadTs || m.thread_ts === threadTs))
      .sort((a, b) => compareTs(a.ts, b.ts))
      .map(copyMessage);
  }

  /** What the channel itself shows: top-level messages and broadcast replies. */
  messagesInChannel(channel: string): StoredMessage[] {
    const id = this.#resolveChannel(channel);
    return [...this.#messages.values()]
      .filter((m) => m.channel === id && (m.thread_ts === null || m.reply_broadcast))
      .sort((a, b) => compareTs(a.ts, b.ts))
      .map(copyMessage);
  }

  transcript(channel: string, threadTs: string): string[] {
    return threadTranscript(this.messagesInThread(channel, threadTs));
  }

  /** Forgets calls, messages, files, views, response posts and pending failures. */
  reset(): void {
    this.#calls = [];
    this.#messages = new Map();
    this.#files = new Map();
    this.#views = new Map();
    this.#responses = [];
    this.#failures = new Map();
    this.#accepted = new Map();
  }

  async stop(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    if (this.#down) return;
    this.#down = true;
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  // ------------------------------------------------------------------------------------------

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    const contentType = req.headers['content-type'] ?? '';
    const raw = await readBody(req);
    const parsed = await parseBody(raw, contentType, url.searchParams);
    const token = bearer(req) ?? str(parsed.args.token) ?? null;
    const [, route, ...rest] = url.pathname.split('/');
    const name = decodeURIComponent(rest.join('/'));
    const method =
      route === 'api'
        ? name
        : route === 'upload'
          ? UPLOAD_METHOD
          : route === 'response'
            ? RESPONSE_URL_METHOD
            : null;
    if (method === null || name === '') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found');
      return;
    }
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
      this.#json(res, { ok: false, error: injected.error });
      return;
    }

    if (route === 'upload') {
      this.#upload(name, parsed, raw, call, res);
      return;
    }
    if (route === 'response') {
      const uses = this.#responses.filter((post) => post.id === name).length;
      if (uses >= RESPONSE_URL_USES) {
        call.status = 404;
        call.error = 'used_url';
        res
          .writeHead(404, { 'content-type': 'application/json' })
          .end(JSON.stringify({ ok: false, error: 'used_url' }));
        return;
      }
      this.#responses.push({ id: name, body: parsed.args, at: call.at });
      this.#json(res, { ok: true });
      return;
    }

    const fault = this.#accepted.get(method)?.shift();
    if (fault?.answer === 'slow') await new Promise((resolve) => setTimeout(resolve, fault.afterMs));
    const result =
      token === null && method !== 'api.test'
        ? { ok: false, error: 'not_authed' }
        : this.#api(method, parsed.args);
    if (result.ok === false) call.error = str(result.error) ?? 'unknown';
    if (fault === undefined || fault.answer === 'slow') {
      if (fault !== undefined) call.fault = fault.answer;
      if (res.destroyed) return;
      this.#json(res, result);
      return;
    }
    call.fault = fault.answer;
    switch (fault.answer) {
      case 'late': {
        const timer = setTimeout(() => {
          if (!res.destroyed) this.#json(res, result);
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

  #json(res: ServerResponse, body: unknown): void {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' }).end(JSON.stringify(body));
  }

  #upload(fileId: string, parsed: ParsedBody, raw: Buffer, call: RecordedCall, res: ServerResponse): void {
    const file = this.#files.get(fileId);
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

  /** Seconds and microseconds of "now", as Slack's are (conversations.* `oldest` compares them to a clock), strictly increasing. */
  #nextTs(): string {
    this.#seq++;
    this.#lastTs = Math.max(Date.now() * 1000, this.#lastTs + 1);
    return `${Math.floor(this.#lastTs / 1_000_000)}.${String(this.#lastTs % 1_000_000).padStart(6, '0')}`;
  }

  #nextId(prefix: string): string {
    this.#seq++;
    return `${prefix}${String(this.#seq).padStart(8, '0')}`;
  }

  /** Channels may be given as ids or as `#name` / `name`, as Slack accepts. */
  #resolveChannel(channel: string): string {
    if (this.#channels.has(channel)) return channel;
    const name = channel.replace(/^#/, '');
    for (const [id, known] of this.#channels) if (known === name) return id;
    return channel;
  }

  #messageKey(channel: string, ts: string): string {
    return `${channel}/${ts}`;
  }

  #messageJson(message: StoredMessage, withMetadata = false): ApiResult {
    return {
      type: 'message',
      ...(message.subtype === null ? {} : { subtype: message.subtype }),
      ...(withMetadata && message.metadata !== null ? { metadata: message.metadata } : {}),
      text: message.text,
      user: message.user,
      bot_id: message.bot_id,
      app_id: 'A_TEST',
      team: this.teamId,
      ts: message.ts,
      ...(message.thread_ts === null ? {} : { thread_ts: message.thread_ts }),
      ...(message.blocks === null ? {} : { blocks: message.blocks }),
    };
  }

  #api(method: string, args: Record<string, unknown>): ApiResult {
    switch (method) {
      case 'api.test':
        return { ok: true, args };
      case 'auth.test':
        return {
          ok: true,
          url: 'https://zeus-test.slack.com/',
          team: 'Zeus Test',
          user: 'zeus-recover',
          team_id: this.teamId,
          user_id: this.botUserId,
          bot_id: this.botId,
          is_enterprise_install: false,
        };
      case 'chat.postMessage':
        return this.#postMessage(args);
      case 'chat.update':
        return this.#update(args);
      case 'chat.delete': {
        const channel = this.#resolveChannel(str(args.channel) ?? '');
        const ts = str(args.ts) ?? '';
        if (!this.#messages.delete(this.#messageKey(channel, ts)))
          return { ok: false, error: 'message_not_found' };
        return { ok: true, channel, ts };
      }
      case 'chat.postEphemeral': {
        const channel = str(args.channel);
        if (channel === undefined || channel === '') return { ok: false, error: 'channel_not_found' };
        if (str(args.user) === undefined) return { ok: false, error: 'user_not_in_channel' };
        if (!hasContent(args)) return { ok: false, error: 'no_text' };
        return { ok: true, message_ts: this.#nextTs() };
      }
      case 'chat.getPermalink': {
        const channel = this.#resolveChannel(str(args.channel) ?? '');
        const ts = str(args.message_ts);
        if (channel === '' || ts === undefined) return { ok: false, error: 'invalid_arguments' };
        return {
          ok: true,
          channel,
          permalink: `https://zeus-test.slack.com/archives/${channel}/p${ts.replace('.', '')}`,
        };
      }
      case 'views.open':
      case 'views.push':
        if (str(args.trigger_id) === undefined) return { ok: false, error: 'invalid_arguments' };
        return this.#storeView(args.view, undefined);
      case 'views.update': {
        const viewId =
          str(args.view_id) ??
          [...this.#views.entries()].find(([, v]) => v.external_id === str(args.external_id))?.[0];
        if (viewId === undefined || !this.#views.has(viewId)) return { ok: false, error: 'not_found' };
        const hash = str(args.hash);
        if (hash !== undefined && this.#views.get(viewId)?.hash !== hash)
          return { ok: false, error: 'hash_conflict' };
        return this.#storeView(args.view, viewId);
      }
      case 'conversations.info': {
        const id = this.#resolveChannel(str(args.channel) ?? '');
        const name = this.#channels.get(id);
        if (name === undefined) return { ok: false, error: 'channel_not_found' };
        return {
          ok: true,
          channel: {
            id,
            name,
            is_channel: id.startsWith('C'),
            is_group: id.startsWith('G'),
            is_im: false,
            is_private: id.startsWith('G'),
            is_archived: false,
            is_member: true,
            created: 1_690_000_000,
          },
        };
      }
      case 'conversations.history':
        return this.#history(args);
      case 'conversations.replies':
        return this.#replies(args);
      case 'usergroups.users.list': {
        const members = this.#usergroups.get(str(args.usergroup) ?? '');
        if (members === undefined) return { ok: false, error: 'no_such_subteam' };
        return { ok: true, users: [...members] };
      }
      case 'users.info': {
        const id = str(args.user) ?? '';
        const known = this.#users.get(id);
        if (known === undefined && !/^[UW][A-Z0-9_]+$/.test(id))
          return { ok: false, error: 'user_not_found' };
        const user = known ?? { name: id.toLowerCase() };
        const realName = user.real_name ?? user.name;
        return {
          ok: true,
          user: {
            id,
            team_id: this.teamId,
            name: user.name,
            real_name: realName,
            deleted: user.deleted ?? false,
            is_bot: user.is_bot ?? false,
            tz: 'Europe/Paris',
            profile: { display_name: user.name, real_name: realName },
          },
        };
      }
      case 'files.getUploadURLExternal': {
        const filename = str(args.filename);
        const length = Number(str(args.length));
        if (filename === undefined || filename === '' || !Number.isInteger(length) || length < 0) {
          return { ok: false, error: 'invalid_arguments' };
        }
        const id = this.#nextId('F');
        this.#files.set(id, {
          id,
          filename,
          title: filename,
          length,
          bytes: null,
          completed: false,
          channel_id: null,
          thread_ts: null,
          initial_comment: null,
        });
        return { ok: true, upload_url: `${this.origin}/upload/${id}`, file_id: id };
      }
      case 'files.completeUploadExternal':
        return this.#completeUpload(args);
      default:
        return { ok: false, error: 'unknown_method' };
    }
  }

  #postMessage(args: Record<string, unknown>): ApiResult {
    const channelArg = str(args.channel);
    if (channelArg === undefined || channelArg === '') return { ok: false, error: 'channel_not_found' };
    if (!hasContent(args)) return { ok: false, error: 'no_text' };
    const blocks = args.blocks === undefined ? null : args.blocks;
    if (blocks !== null && (!Array.isArray(blocks) || blocks.length > 50))
      return { ok: false, error: 'invalid_blocks' };
    const text = str(args.text) ?? '';
    if (text.length > 40_000) return { ok: false, error: 'msg_too_long' };
    const channel = this.#resolveChannel(channelArg);
    const threadTs = str(args.thread_ts);
    if (threadTs !== undefined && !this.#messages.has(this.#messageKey(channel, threadTs))) {
      return { ok: false, error: 'thread_not_found' };
    }
    const message: StoredMessage = {
      channel,
      ts: this.#nextTs(),
      thread_ts: threadTs ?? null,
      text,
      blocks,
      user: this.botUserId,
      bot_id: this.botId,
      reply_broadcast: bool(args.reply_broadcast),
      edits: 0,
      files: [],
      subtype: null,
      metadata: metadataArg(args.metadata),
    };
    this.#messages.set(this.#messageKey(channel, message.ts), message);
    return { ok: true, channel, ts: message.ts, message: this.#messageJson(message) };
  }

  /** Top-level messages (and broadcast replies), newest first, as Slack pages them. */
  #history(args: Record<string, unknown>): ApiResult {
    const channel = this.#resolveChannel(str(args.channel) ?? '');
    if (!this.#channels.has(channel)) return { ok: false, error: 'channel_not_found' };
    const inRange = timeRange(args);
    const found = [...this.#messages.values()]
      .filter((m) => m.channel === channel && (m.thread_ts === null || m.reply_broadcast) && inRange(m.ts))
      .sort((a, b) => compareTs(b.ts, a.ts));
    return this.#page(found, args);
  }

  /** A thread: its parent first, then its replies oldest first (those within oldest/latest). */
  #replies(args: Record<string, unknown>): ApiResult {
    const channel = this.#resolveChannel(str(args.channel) ?? '');
    if (!this.#channels.has(channel)) return { ok: false, error: 'channel_not_found' };
    const ts = str(args.ts);
    if (ts === undefined) return { ok: false, error: 'invalid_arguments' };
    const parent = this.#messages.get(this.#messageKey(channel, ts));
    if (parent === undefined) return { ok: false, error: 'thread_not_found' };
    const inRange = timeRange(args);
    const replies = [...this.#messages.values()]
      .filter((m) => m.channel === channel && m.thread_ts === ts && inRange(m.ts))
      .sort((a, b) => compareTs(a.ts, b.ts));
    return this.#page([parent, ...replies], args);
  }

  #page(messages: StoredMessage[], args: Record<string, unknown>): ApiResult {
    const limit = Math.min(Math.max(Number(str(args.limit) ?? 100) || 100, 1), 999);
    const cursor = str(args.cursor);
    const start =
      cursor === undefined || cursor === '' ? 0 : Number(Buffer.from(cursor, 'base64url').toString());
    if (!Number.isInteger(start) || start < 0) return { ok: false, error: 'invalid_cursor' };
    const withMetadata = bool(args.include_all_metadata);
    const page = messages.slice(start, start + limit);
    const more = start + limit < messages.length;
    return {
      ok: true,
      messages: page.map((m) => ({
        ...this.#messageJson(m, withMetadata),
        ...(m.thread_ts !== null && m.reply_broadcast ? { subtype: 'thread_broadcast' } : {}),
      })),
      has_more: more,
      response_metadata: {
        next_cursor: more ? Buffer.from(String(start + limit)).toString('base64url') : '',
      },
    };
  }

  #update(args: Record<string, unknown>): ApiResult {
    const channel = this.#resolveChannel(str(args.channel) ?? '');
    const ts = str(args.ts) ?? '';
    const message = this.#messages.get(this.#messageKey(channel, ts));
    if (message === undefined) return { ok: false, error: 'message_not_found' };
    if (args.blocks !== undefined && (!Array.isArray(args.blocks) || blockCount(args.blocks) > 50)) {
      return { ok: false, error: 'invalid_blocks' };
    }
    const text = str(args.text);
    if (text !== undefined && text.length > 40_000) return { ok: false, error: 'msg_too_long' };
    // As in Slack: fields not sent are kept, `blocks: []` clears them.
    if (text !== undefined) message.text = text;
    if (Array.isArray(args.blocks)) message.blocks = args.blocks.length === 0 ? null : args.blocks;
    message.edits++;
    return { ok: true, channel, ts, text: message.text, message: this.#messageJson(message) };
  }

  #storeView(view: unknown, existingId: string | undefined): ApiResult {
    if (!isRecord(view)) return { ok: false, error: 'invalid_arguments' };
    if (blockCount(view.blocks) > 100) return { ok: false, error: 'invalid_arguments' };
    const id = existingId ?? this.#nextId('V');
    const stored: Record<string, unknown> = {
      id,
      team_id: this.teamId,
      app_id: 'A_TEST',
      bot_id: this.botId,
      state: { values: {} },
      private_metadata: '',
      callback_id: '',
      external_id: '',
      ...view,
      hash: `${this.#nextTs()}.h${this.#seq}`,
      root_view_id: id,
      previous_view_id: null,
    };
    this.#views.set(id, stored);
    return { ok: true, view: stored };
  }

  #completeUpload(args: Record<string, unknown>): ApiResult {
    const list = Array.isArray(args.files) ? args.files : [];
    const ids = list.filter(isRecord).map((f) => ({ id: str(f.id) ?? '', title: str(f.title) }));
    if (ids.length === 0) return { ok: false, error: 'invalid_arguments' };
    const files: StoredFile[] = [];
    for (const { id, title } of ids) {
      const file = this.#files.get(id);
      if (file?.bytes === null || file === undefined) return { ok: false, error: 'file_not_found' };
      if (title !== undefined) file.title = title;
      files.push(file);
    }
    const channelArg = str(args.channel_id);
    const channel = channelArg === undefined ? null : this.#resolveChannel(channelArg);
    const threadTs = str(args.thread_ts) ?? null;
    const comment = str(args.initial_comment) ?? null;
    for (const file of files) {
      file.completed = true;
      file.channel_id = channel;
      file.thread_ts = threadTs;
      file.initial_comment = comment;
    }
    if (channel !== null) {
      // A shared file shows up as a message, in the thread when thread_ts is given.
      const message: StoredMessage = {
        channel,
        ts: this.#nextTs(),
        thread_ts: threadTs,
        text: comment ?? '',
        blocks: null,
        user: this.botUserId,
        bot_id: this.botId,
        reply_broadcast: false,
        edits: 0,
        files: files.map((f) => ({ id: f.id, name: f.filename })),
        subtype: 'file_share',
        metadata: null,
      };
      this.#messages.set(this.#messageKey(channel, message.ts), message);
    }
    return {
      ok: true,
      files: files.map((f) => ({
        id: f.id,
        name: f.filename,
        title: f.title,
        size: f.bytes?.length ?? 0,
        mimetype: 'application/octet-stream',
        permalink: `https://zeus-test.slack.com/files/${this.botUserId}/${f.id}/${encodeURIComponent(f.filename)}`,
      })),
    };
  }
}

function hasContent(args: Record<string, unknown>): boolean {
  const text = str(args.text);
  return (text !== undefined && text !== '') || Array.isArray(args.blocks) || Array.isArray(args.attachments);
}

function metadataArg(value: unknown): MessageMetadata | null {
  if (!isRecord(value) || typeof value.event_type !== 'string' || !isRecord(value.event_payload)) return null;
  return { event_type: value.event_type, event_payload: { ...value.event_payload } };
}

/** `oldest`/`latest` bounds (exclusive unless `inclusive`), as conversations.history/replies take them. */
function timeRange(args: Record<string, unknown>): (ts: string) => boolean {
  const oldest = str(args.oldest);
  const latest = str(args.latest);
  const inclusive = bool(args.inclusive);
  return (ts) => {
    if (oldest !== undefined && oldest !== '') {
      const c = compareTs(ts, oldest);
      if (c < 0 || (c === 0 && !inclusive)) return false;
    }
    if (latest !== undefined && latest !== '') {
      const c = compareTs(ts, latest);
      if (c > 0 || (c === 0 && !inclusive)) return false;
    }
    return true;
  };
}

function compareTs(a: string, b: string): number {
  const [as = '0', af = '0'] = a.split('.');
  const [bs = '0', bf = '0'] = b.split('.');
  return Number(as) - Number(bs) || Number(af.padEnd(6, '0')) - Number(bf.padEnd(6, '0'));
}

function copyMessage(message: StoredMessage): StoredMessage {
  return { ...message, files: [...message.files] };
}

/** Starts a stand-in on a random port of 127.0.0.1; call `stop()` when done. */
export function startSlackStandin(options: SlackStandinOptions = {}): Promise<SlackStandin> {
  return SlackStandin.start(options);
}
