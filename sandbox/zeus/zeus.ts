import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/**
 * The one local stand-in for the Zeus API: the demo's (so a newcomer can try `replay` end to end)
 * and the tests' (so the client is exercised over real sockets — timeouts, refused connections,
 * resets — rather than against a function stub). It behaves like an idempotent API: a POST
 * repeated with the same Idempotency-Key gets the first answer and starts nothing new; each GET
 * of a conversation's status walks one entry further along the status script.
 */

export interface ZeusCall {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  /** The parsed body, or undefined when it was not JSON. */
  json: unknown;
  /** What the stand-in answered (0 when it reset the connection). */
  answered: number;
}

export interface StartedReplay {
  idempotencyKey: string;
  conversationId: string;
  fromStep: number;
  replayId: string;
}

/** One status answer; `step`/`total` are sent as `step` and `total_steps`, like a snake_case API. */
export interface ScriptedStatus {
  state: string;
  step?: number;
  total?: number;
  message?: string;
}

type Target = 'replay' | 'status' | 'any';

interface Fault {
  on: Target;
  kind: 'fail' | 'stall' | 'reset';
  status?: number;
  retryAfter?: string | undefined;
  ms?: number;
}

export interface ZeusStandin {
  /** Base URL, e.g. `http://127.0.0.1:43121` (what ZEUS_API_URL would be). */
  url: string;
  token: string;
  calls: ZeusCall[];
  replays: StartedReplay[];
  replayCalls(): ZeusCall[];
  statusCalls(): ZeusCall[];
  /** The next matching request gets `status` (with `Retry-After` if given) and starts nothing. */
  failNext(status: number, retryAfter?: string | number, on?: Target): void;
  /** The next matching request is processed (a replay starts) but answered only after `ms`. */
  stallNext(ms: number, on?: Target): void;
  /** The next matching request is processed, then its connection is destroyed without an answer. */
  resetNext(on?: Target): void;
  /** Stops listening and drops open connections: new requests get ECONNREFUSED. */
  refuseConnections(): Promise<void>;
  /** Listens again on the same port. */
  acceptConnections(): Promise<void>;
  /** What the status endpoint walks through after a replay starts (the last entry repeats). */
  setStatusScript(script: StatusScript): void;
  /** Replays started from now on end in `failed`. */
  failReplay(message?: string): void;
  /** Replays started from now on stay `running` forever. */
  neverFinish(): void;
  close(): Promise<void>;
}

/** A fixed script, or one made from the step the replay starts at. */
export type StatusScript = ScriptedStatus[] | ((fromStep: number) => ScriptedStatus[]);

export interface ZeusStandinOptions {
  /** Default: a new random token. */
  token?: string;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default DEFAULT_STATUS_SCRIPT. */
  statusScript?: StatusScript;
}

/** The demo's walk: re-runs steps `fromStep`…`fromStep + 3`, one more at each status poll. */
export function walkFrom(fromStep: number): ScriptedStatus[] {
  const total = fromStep + 3;
  return [
    ...[0, 1, 2].map((i) => ({
      state: 'running',
      step: fromStep + i,
      total,
      message: `re-running step ${fromStep + i}`,
    })),
    { state: 'done', step: total, total, message: 'replay complete' },
  ];
}

export const DEFAULT_STATUS_SCRIPT: ScriptedStatus[] = [
  { state: 'running', step: 3, total: 6, message: 'replaying' },
  { state: 'running', step: 5, total: 6, message: 'replaying' },
  { state: 'done', step: 6, total: 6, message: 'replay complete' },
];

export async function startZeusStandin(options: ZeusStandinOptions = {}): Promise<ZeusStandin> {
  const token = options.token ?? `zeus-standin-${randomBytes(8).toString('hex')}`;
  const host = options.host ?? '127.0.0.1';
  const calls: ZeusCall[] = [];
  const replays: StartedReplay[] = [];
  const byKey = new Map<string, { status: number; body: string }>();
  const faults: Fault[] = [];
  let script: StatusScript = options.statusScript ?? DEFAULT_STATUS_SCRIPT;
  /** Per conversation: the script its latest replay follows and how far the GETs have walked it. */
  const progress = new Map<string, { script: ScriptedStatus[]; index: number }>();
  const sockets = new Set<Socket>();
  let port = 0;

  function takeFault(target: 'replay' | 'status'): Fault | undefined {
    const i = faults.findIndex((f) => f.on === target || f.on === 'any');
    if (i < 0) return undefined;
    return faults.splice(i, 1)[0];
  }

  /** A `fail` fault answers at once with its status and starts nothing; true when it did. */
  function failed(res: ServerResponse, call: ZeusCall, fault: Fault | undefined): boolean {
    if (fault?.kind !== 'fail') return false;
    send(
      res,
      call,
      fault.status ?? 503,
      { error: `stand-in failure ${fault.status}` },
      fault.retryAfter === undefined ? {} : { 'retry-after': fault.retryAfter },
    );
    return true;
  }

  function send(res: ServerResponse, call: ZeusCall, status: number, body: unknown, headers = {}): void {
    call.answered = status;
    res.writeHead(status, { 'content-type': 'application/json', ...headers });
    res.end(typeof body === 'string' ? body : JSON.stringify(body));
  }

  /** Answers after `fault` says so: now, later, or never (connection destroyed). */
  function deliver(
    req: IncomingMessage,
    res: ServerResponse,
    call: ZeusCall,
    fault: Fault | undefined,
    status: number,
    body: unknown,
  ): void {
    if (fault?.kind === 'reset') {
      call.answered = 0;
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'stall') {
      setTimeout(() => {
        // The client has usually given up and closed the socket by now; writing then is harmless.
        if (!res.destroyed) send(res, call, status, body);
      }, fault.ms ?? 0);
      return;
    }
    send(res, call, status, body);
  }

  function handleReplay(req: IncomingMessage, res: ServerResponse, call: ZeusCall): void {
    const fault = takeFault('replay');
    if (failed(res, call, fault)) return;
    const key = header(req.headers, 'idempotency-key');
    const body = call.json as { conversation_id?: unknown; from_step?: unknown } | undefined;
    if (
      !key ||
      !body ||
      typeof body.conversation_id !== 'string' ||
      typeof body.from_step !== 'number' ||
      !Number.isInteger(body.from_step)
    ) {
      send(res, call, 400, {
        error: 'conversation_id (string), from_step (integer) and Idempotency-Key are required',
      });
      return;
    }
    const seen = byKey.get(key);
    if (seen) {
      deliver(req, res, call, fault, seen.status, seen.body);
      return;
    }
    const replayId = `rp_${randomBytes(6).toString('hex')}`;
    const answer = { status: 202, body: JSON.stringify({ accepted: true, replay_id: replayId }) };
    byKey.set(key, answer);
    replays.push({
      idempotencyKey: key,
      conversationId: body.conversation_id,
      fromStep: body.from_step,
      replayId,
    });
    const steps = typeof script === 'function' ? script(body.from_step) : script;
    progress.set(body.conversation_id, { script: steps, index: 0 });
    deliver(req, res, call, fault, answer.status, answer.body);
  }

  function handleStatus(req: IncomingMessage, res: ServerResponse, call: ZeusCall, id: string): void {
    const fault = takeFault('status');
    if (failed(res, call, fault)) return;
    const p = progress.get(id);
    let s: ScriptedStatus = { state: 'idle' };
    if (p) {
      s = p.script[Math.min(p.index, p.script.length - 1)] ?? s;
      p.index += 1;
    }
    const body = {
      conversation_id: id,
      state: s.state,
      ...(s.step === undefined ? {} : { step: s.step }),
      ...(s.total === undefined ? {} : { total_steps: s.total }),
      ...(s.message === undefined ? {} : { message: s.message }),
      zeus_node: 'standin-1',
    };
    deliver(req, res, call, fault, 200, body);
  }

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let json: unknown;
      try {
        json = body ? JSON.parse(body) : undefined;
      } catch {
        json = undefined;
      }
      const url = new URL(req.url ?? '/', 'http://standin');
      const call: ZeusCall = {
        method: req.method ?? '',
        path: url.pathname,
        headers: req.headers,
        body,
        json,
        answered: 0,
      };
      calls.push(call);
      const auth = header(req.headers, 'authorization');
      if (auth !== `Bearer ${token}`) {
        // Echoes what it was given, as careless servers do: clients must not repeat it verbatim.
        send(res, call, 401, { error: `invalid bearer token (got ${auth ?? 'none'})` });
        return;
      }
      const status = /^\/zeus\/conversation\/([^/]+)\/status$/.exec(url.pathname);
      if (req.method === 'POST' && url.pathname === '/zeus/replay') handleReplay(req, res, call);
      else if (req.method === 'GET' && status?.[1])
        handleStatus(req, res, call, decodeURIComponent(status[1]));
      else send(res, call, 404, { error: `no route ${req.method} ${url.pathname}` });
    });
  });
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  async function listen(onPort: number): Promise<void> {
    if (server.listening) return;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(onPort, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    port = (server.address() as AddressInfo).port;
  }

  async function stop(): Promise<void> {
    if (!server.listening) return;
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    // Keep-alive sockets would otherwise keep serving pooled requests after close().
    for (const s of sockets) s.destroy();
    await closed;
  }

  await listen(0);
  return {
    get url() {
      return `http://${host}:${port}`;
    },
    token,
    calls,
    replays,
    replayCalls: () => calls.filter((c) => c.method === 'POST' && c.path === '/zeus/replay'),
    statusCalls: () => calls.filter((c) => c.method === 'GET' && c.path.endsWith('/status')),
    failNext(status, retryAfter, on = 'replay') {
      faults.push({
        on,
        kind: 'fail',
        status,
        retryAfter: retryAfter === undefined ? undefined : String(retryAfter),
      });
    },
    stallNext(ms, on = 'replay') {
      faults.push({ on, kind: 'stall', ms });
    },
    resetNext(on = 'replay') {
      faults.push({ on, kind: 'reset' });
    },
    refuseConnections: stop,
    acceptConnections: () => listen(port),
    setStatusScript(next) {
      script = next;
    },
    failReplay(message = 'tool call failed at step 5') {
      script = [
        { state: 'running', step: 4, total: 6, message: 'replaying' },
        { state: 'failed', step: 5, total: 6, message },
      ];
    },
    neverFinish() {
      script = [{ state: 'running', step: 2, total: 6, message: 'replaying' }];
    },
    close: stop,
  };
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}
