import { z } from 'zod';
import { ErrorCode, errorMessage, RecoveryError } from '../errors.js';
import { classifyNetworkError } from '../net-errors.js';
import { sleep as pause } from './retry.js';

/**
 * Client for the two Zeus endpoints the runbook uses (`POST /zeus/replay`,
 * `GET /zeus/conversation/{id}/status`).
 *
 * The one rule that matters: a replay must not run twice by accident. So a POST is retried only
 * when Zeus provably did not act on it — the connection was never made, or Zeus answered
 * 429/502/503 — and a failure after the request may have reached Zeus (timeout, reset, a 5xx that
 * could hide partial work) is thrown as a `ZeusAmbiguousError`: the caller asks the status
 * endpoint what happened instead of POSTing again. The Idempotency-Key is a second line of
 * defence, not a licence to re-send.
 */

export interface ZeusStatus {
  /** Normalised: `running`, `done`, `failed`, `idle`, or whatever else Zeus says (lower-cased). */
  state: 'running' | 'done' | 'failed' | 'idle' | (string & {});
  step?: number;
  total?: number;
  message?: string;
  /** The body as Zeus sent it; its schema is not documented, so nothing is dropped. */
  raw: unknown;
}

/** A status flattened for reports and audit rows (JSON-friendly: nulls, no `raw`). */
export interface ZeusStatusSummary {
  state: string;
  step: number | null;
  total: number | null;
  message: string | null;
}

export function summarizeZeusStatus(s: ZeusStatus): ZeusStatusSummary {
  return { state: s.state, step: s.step ?? null, total: s.total ?? null, message: s.message ?? null };
}

/** `running, step 3/6 — replaying` */
export function describeZeusStatus(s: ZeusStatus | ZeusStatusSummary): string {
  const step =
    s.step === undefined || s.step === null
      ? ''
      : `, step ${s.step}${s.total === undefined || s.total === null ? '' : `/${s.total}`}`;
  const message = s.message ? ` — ${s.message}` : '';
  return `${s.state}${step}${message}`;
}

export interface ReplayAccepted {
  /** The HTTP status Zeus answered (200, 201 or 202). */
  httpStatus: number;
  replayId: string | null;
  /** Requests sent, counting retries. */
  attempts: number;
  raw: unknown;
}

export interface ZeusClient {
  replay(conversationId: string, fromStep: number, idempotencyKey: string): Promise<ReplayAccepted>;
  status(conversationId: string): Promise<ZeusStatus>;
}

export interface ZeusClientOptions {
  baseUrl: string;
  token: string;
  /** Budget of each HTTP request, including reading the body. */
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
  sleep?: (ms: number) => Promise<void>;
  /** Retries after the first attempt, for the failures that are safe to retry. */
  maxRetries?: number;
  /** Longest Retry-After honoured; a server asking for more is not retried sooner than it asked. */
  maxRetryAfterMs?: number;
}

/** What went wrong, for callers that react differently (the poll loop keeps going on `unavailable`). */
export type ZeusFailure =
  | 'unreachable'
  | 'unavailable'
  | 'timeout'
  | 'rejected'
  | 'unauthorized'
  | 'bad_response'
  | 'ambiguous';

/**
 * The replay request may or may not have reached Zeus. Never answer this with another POST:
 * ask `status()` what Zeus is doing.
 */
export class ZeusAmbiguousError extends RecoveryError {
  override name = 'ZeusAmbiguousError';
  readonly ambiguous = true;
}

export function isZeusAmbiguous(err: unknown): err is ZeusAmbiguousError {
  return err instanceof ZeusAmbiguousError;
}

/** The short reason of a Zeus failure (`no answer within 5000 ms …`), else the error's message. */
export function zeusReason(err: unknown): string {
  if (err instanceof RecoveryError && typeof err.details.reason === 'string') return err.details.reason;
  return errorMessage(err);
}

/** The kind of a Zeus failure thrown by this client, or null for anything else. */
export function zeusFailure(err: unknown): ZeusFailure | null {
  if (!(err instanceof RecoveryError) || err.code !== ErrorCode.ZeusApi) return null;
  const kind = err.details.failure;
  return typeof kind === 'string' ? (kind as ZeusFailure) : null;
}

const RETRY_STATUSES = new Set([429, 502, 503]);
/**
 * The request got to Zeus (or a proxy in front of it) and may have been acted on: a GET is simply
 * asked again, a POST is ambiguous.
 */
const MAYBE_ACTED = new Set([500, 504]);
const MESSAGE_MAX = 300;

export function createZeusClient(options: ZeusClientOptions): ZeusClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const origin = safeOrigin(options.baseUrl);
  const timeoutMs = options.timeoutMs ?? 5000;
  const doFetch = options.fetch ?? globalThis.fetch;
  const sleep = options.sleep ?? pause;
  const maxRetries = options.maxRetries ?? 3;
  const maxRetryAfterMs = options.maxRetryAfterMs ?? 30_000;
  const token = options.token;

  /** A server may echo the Authorization header back; nothing it says is shown unredacted. */
  const redact = (text: string): string => (token.length >= 4 ? text.split(token).join('[redacted]') : text);

  /** `what` names the call (`Status of c-1`); `reason` alone reads well inside another sentence. */
  const fail = (
    failure: ZeusFailure,
    what: string,
    reason: string,
    hint: string,
    extra: { cause?: unknown; httpStatus?: number; attempts?: number } = {},
  ): RecoveryError => {
    const Ctor = failure === 'ambiguous' ? ZeusAmbiguousError : RecoveryError;
    return new Ctor(ErrorCode.ZeusApi, redact(`${what}: ${reason}`), hint, {
      ...(extra.cause === undefined ? {} : { cause: extra.cause }),
      details: {
        failure,
        reason: redact(reason.replace(/\.$/, '')),
        ...(extra.httpStatus === undefined ? {} : { httpStatus: extra.httpStatus }),
        ...(extra.attempts === undefined ? {} : { attempts: extra.attempts }),
      },
    });
  };

  function backoffMs(retry: number): number {
    return Math.min(500 * 2 ** retry, maxRetryAfterMs);
  }

  interface Answer {
    status: number;
    headers: Headers;
    text: string;
    attempts: number;
  }

  /**
   * Sends one logical request with bounded retries. `idempotent` (GET) may be re-sent after any
   * transport failure; a POST only when nothing was sent or Zeus said "not now".
   */
  async function send(
    what: string,
    url: string,
    init: { method: 'GET' | 'POST'; body?: string; headers?: Record<string, string> },
  ): Promise<Answer> {
    const idempotent = init.method === 'GET';
    for (let attempt = 1; ; attempt++) {
      const retriesLeft = attempt <= maxRetries;
      let res: Response;
      let text: string;
      try {
        res = await doFetch(url, {
          method: init.method,
          headers: {
            accept: 'application/json',
            authorization: `Bearer ${token}`,
            'user-agent': 'zeus-recover',
            // A fresh connection per request: a pooled socket that Zeus closed while idle fails
            // only when written to, which would make a POST that never arrived look ambiguous.
            connection: 'close',
            ...init.headers,
          },
          ...(init.body === undefined ? {} : { body: init.body }),
          signal: AbortSignal.timeout(timeoutMs),
          redirect: 'error',
        });
        // Inside the try: the timeout covers the body too, and a cut-off body is a transport failure.
        text = await res.text();
      } catch (err) {
        const net = classifyNetworkError(err);
        const code = net.code;
        if (!net.mayHaveReached) {
          if (retriesLeft && net.retryableUnsent) {
            await sleep(backoffMs(attempt - 1));
            continue;
          }
          throw fail(
            'unreachable',
            what,
            `Zeus API at ${origin} is unreachable (${code}) after ${attempt} attempt${attempt === 1 ? '' : 's'}; nothing was sent.`,
            code === 'ENOTFOUND'
              ? 'Check ZEUS_API_URL: its host name does not resolve.'
              : 'Check that Zeus is up and ZEUS_API_URL points at it, then try again.',
            { cause: err, attempts: attempt },
          );
        }
        const timedOut = net.timedOut;
        const how = timedOut
          ? `no answer within ${timeoutMs} ms`
          : `connection lost (${code ?? errorMessage(err)})`;
        if (idempotent) {
          if (retriesLeft) {
            await sleep(backoffMs(attempt - 1));
            continue;
          }
          throw fail(
            timedOut ? 'timeout' : 'unavailable',
            what,
            `${how} from Zeus API at ${origin} after ${attempt} attempt${attempt === 1 ? '' : 's'}.`,
            'Zeus is slow or down; try again shortly.',
            { cause: err, attempts: attempt },
          );
        }
        throw fail(
          'ambiguous',
          what,
          `${how} after the request was sent; Zeus may or may not have acted on it.`,
          'Do not send it again blindly: check the conversation status first.',
          { cause: err, attempts: attempt },
        );
      }

      if (res.status >= 200 && res.status < 300) {
        return { status: res.status, headers: res.headers, text, attempts: attempt };
      }
      const serverSays = serverMessage(text);
      if (RETRY_STATUSES.has(res.status) || (idempotent && MAYBE_ACTED.has(res.status))) {
        const retryAfter = parseRetryAfter(res.headers.get('retry-after'), Date.now());
        if (retryAfter !== null && retryAfter > maxRetryAfterMs) {
          throw fail(
            'unavailable',
            what,
            `Zeus answered ${res.status} and asks to wait ${Math.ceil(retryAfter / 1000)} s${serverSays ? ` (${serverSays})` : ''}.`,
            `Nothing was started. Try again in ${Math.ceil(retryAfter / 1000)} s.`,
            { httpStatus: res.status, attempts: attempt },
          );
        }
        if (retriesLeft) {
          await sleep(retryAfter ?? backoffMs(attempt - 1));
          continue;
        }
        throw fail(
          'unavailable',
          what,
          `Zeus answered ${res.status} ${attempt} times${serverSays ? ` (${serverSays})` : ''}.`,
          `${idempotent ? '' : 'Nothing was started. '}${res.status === 429 ? 'Zeus is rate-limiting these calls' : 'Zeus is overloaded or restarting'}; try again shortly.`,
          { httpStatus: res.status, attempts: attempt },
        );
      }
      if (!idempotent && res.status >= 500) {
        throw fail(
          'ambiguous',
          what,
          `Zeus answered ${res.status}${serverSays ? ` (${serverSays})` : ''}; it may have started part of the work.`,
          'Do not send it again blindly: check the conversation status first.',
          { httpStatus: res.status, attempts: attempt },
        );
      }
      if (res.status === 401 || res.status === 403) {
        throw fail(
          'unauthorized',
          what,
          `Zeus refused the credentials (${res.status})${serverSays ? `: ${serverSays}` : ''}.`,
          res.status === 401
            ? 'Check ZEUS_API_TOKEN: it is missing, wrong or expired.'
            : 'Check ZEUS_API_TOKEN: the token is valid but not allowed to do this.',
          { httpStatus: res.status, attempts: attempt },
        );
      }
      throw fail(
        res.status >= 500 ? 'unavailable' : 'rejected',
        what,
        `Zeus answered ${res.status}${serverSays ? `: ${serverSays}` : ''}.`,
        res.status === 404
          ? 'Check ZEUS_API_URL (it should be the API base, e.g. https://api.kosmos.internal) and the conversation id.'
          : res.status === 409
            ? 'Zeus is already working on this conversation; check its status and wait for it to finish.'
            : `${idempotent ? '' : 'Nothing was started. '}Fix what Zeus objects to, then try again.`,
        { httpStatus: res.status, attempts: attempt },
      );
    }
  }

  return {
    async replay(conversationId, fromStep, idempotencyKey) {
      const what = `Replay of ${conversationId} from step ${fromStep}`;
      const answer = await send(what, `${base}/zeus/replay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': idempotencyKey },
        body: JSON.stringify({ conversation_id: conversationId, from_step: fromStep }),
      });
      const raw = parseJsonOr(answer.text, answer.text || null);
      const replayId = pickString(raw, ['replay_id', 'replayId', 'id']);
      return { httpStatus: answer.status, replayId, attempts: answer.attempts, raw };
    },

    async status(conversationId) {
      const what = `Status of ${conversationId}`;
      const answer = await send(
        what,
        `${base}/zeus/conversation/${encodeURIComponent(conversationId)}/status`,
        { method: 'GET' },
      );
      const raw = parseJsonOr(answer.text, undefined);
      if (raw === undefined) {
        throw fail(
          'bad_response',
          what,
          `Zeus answered ${answer.status} with a body that is not JSON (${redact(clip(answer.text)) || 'empty'}).`,
          'Check ZEUS_API_URL: something other than the Zeus API may be answering.',
          { httpStatus: answer.status },
        );
      }
      return parseStatus(raw);
    },
  };
}

const statusShape = z.looseObject({
  state: z.unknown().optional(),
  status: z.unknown().optional(),
  step: z.unknown().optional(),
  current_step: z.unknown().optional(),
  currentStep: z.unknown().optional(),
  total: z.unknown().optional(),
  total_steps: z.unknown().optional(),
  totalSteps: z.unknown().optional(),
  message: z.unknown().optional(),
  detail: z.unknown().optional(),
  error: z.unknown().optional(),
});

const DONE = new Set(['done', 'completed', 'complete', 'succeeded', 'success', 'finished']);
const FAILED = new Set(['failed', 'failure', 'error', 'errored', 'aborted']);
const RUNNING = new Set([
  'running',
  'in_progress',
  'replaying',
  'processing',
  'queued',
  'pending',
  'started',
]);

/**
 * Zeus's status schema is not documented, so take what is recognisable (a few common spellings)
 * and keep the rest in `raw`. An unrecognised state is passed through, never guessed at.
 */
export function parseStatus(raw: unknown): ZeusStatus {
  const parsed = statusShape.safeParse(raw);
  if (!parsed.success) return { state: 'unknown', raw };
  const b = parsed.data;
  const rawState = firstString(b.state, b.status);
  const state = normaliseState(rawState);
  const step = firstNumber(b.step, b.current_step, b.currentStep);
  const total = firstNumber(b.total, b.total_steps, b.totalSteps);
  const message = firstString(b.message, b.detail, b.error);
  return {
    state,
    ...(step === undefined ? {} : { step }),
    ...(total === undefined ? {} : { total }),
    ...(message === undefined ? {} : { message: clip(message) }),
    raw,
  };
}

function normaliseState(s: string | undefined): string {
  if (s === undefined) return 'unknown';
  const v = s
    .trim()
    .toLowerCase()
    .replace(/[\s-]+/g, '_');
  if (DONE.has(v)) return 'done';
  if (FAILED.has(v)) return 'failed';
  if (RUNNING.has(v)) return 'running';
  return v || 'unknown';
}

function firstString(...values: unknown[]): string | undefined {
  for (const v of values) if (typeof v === 'string' && v.trim() !== '') return v;
  return undefined;
}

function firstNumber(...values: unknown[]): number | undefined {
  for (const v of values) {
    const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v.trim()) ? Number(v) : NaN;
    if (Number.isSafeInteger(n) && n >= 0) return n;
  }
  return undefined;
}

/** Seconds or an HTTP date, as milliseconds from now; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (value === null) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}

/** The error code of a fetch failure, from its cause chain (undici nests the socket error). */
function safeOrigin(url: string): string {
  try {
    return new URL(url).origin;
  } catch {
    return 'ZEUS_API_URL';
  }
}

function parseJsonOr(text: string, fallback: unknown): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return fallback;
  }
}

function pickString(raw: unknown, keys: string[]): string | null {
  if (!raw || typeof raw !== 'object') return null;
  for (const k of keys) {
    const v = (raw as Record<string, unknown>)[k];
    if (typeof v === 'string' && v !== '') return v;
  }
  return null;
}

/** What Zeus said about an error: its JSON `error`/`message`/`detail`, or the start of the text. */
function serverMessage(text: string): string {
  const json = parseJsonOr(text, undefined);
  const said =
    json && typeof json === 'object'
      ? firstString(
          (json as Record<string, unknown>).error,
          (json as Record<string, unknown>).message,
          (json as Record<string, unknown>).detail,
        )
      : undefined;
  return clip((said ?? text).replace(/\s+/g, ' ').trim());
}

function clip(text: string): string {
  return text.length > MESSAGE_MAX ? `${text.slice(0, MESSAGE_MAX)}…` : text;
}
