import { createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { parse as parseQuery } from 'node:querystring';
import { z } from 'zod';
import { ACTION_IDS, BOT_EVENTS, SLASH_COMMAND, VIEW_CALLBACK_IDS } from '../slack-ids.js';

/**
 * Slack's largest requests to this app are modal submissions: at most 100 blocks whose text
 * inputs hold up to 3,000 characters each, echoed back with the view, form-encoded (a non-ASCII
 * character becomes up to 9 bytes). That is a few hundred KB in the worst case; slash commands
 * and button clicks are a few KB. Anything bigger is not from Slack and is refused unread.
 */
export const MAX_BODY_BYTES = 1024 * 1024;
/** Slack's replay window, applied both ways: Bolt refuses only timestamps in the past. */
export const MAX_CLOCK_SKEW_SECONDS = 5 * 60;
/** An unsigned request can only be Slack's `ssl_check=1&token=…`, which is tiny. */
const UNSIGNED_MAX_BYTES = 1024;
/** After refusing a body still being sent, let the client read the answer, then hang up. */
const HANG_UP_AFTER_MS = 1000;

export interface Refusal {
  status: 400 | 401 | 413;
  reason: string;
}

export interface RequestGuardOptions {
  signingSecret: string;
  /** Paths of the Slack endpoint; other paths (health, metrics) pass through untouched. */
  endpoints: readonly string[];
  maxBodyBytes?: number;
  /** Milliseconds since the epoch. */
  now?: () => number;
  onRefused?: (refusal: Refusal) => void;
  onError?: (err: unknown) => void;
}

/** Buffered by us; Bolt reuses `rawBody` instead of reading the stream again. */
type BufferedRequest = IncomingMessage & { rawBody?: Buffer };

/**
 * Stands in front of Bolt's HTTP receiver, so that what reaches Bolt is fresh, signed, of a
 * size Slack sends and shaped as the handlers expect. Bolt reads the whole body before it
 * checks anything, accepts timestamps from the future, and crashes the process on a signed
 * `payload=null` (its receiver reads `body.ssl_check` outside any try).
 */
export function guardSlackRequests(next: RequestListener, opts: RequestGuardOptions): RequestListener {
  const maxBytes = opts.maxBodyBytes ?? MAX_BODY_BYTES;
  const now = opts.now ?? Date.now;
  return (req, res) => {
    const path = pathOf(req);
    if (path === null) {
      // Bolt would throw on it outside any handler (a 500); it is no request of ours.
      refuse(req, res, { status: 400, reason: 'bad_url' }, true);
      return;
    }
    if (req.method !== 'POST' || !opts.endpoints.includes(path)) {
      next(req, res);
      return;
    }
    guard(req as BufferedRequest, res).catch((err: unknown) => {
      opts.onError?.(err);
      if (!res.headersSent) refuse(req, res, { status: 400, reason: 'unreadable' }, false);
    });
  };

  async function guard(req: BufferedRequest, res: ServerResponse): Promise<void> {
    const timestamp = header(req, 'x-slack-request-timestamp');
    const signature = header(req, 'x-slack-signature');
    const signed = timestamp !== undefined || signature !== undefined;
    const early = signed ? checkHeaders(timestamp, signature, now()) : null;
    if (early) return refuse(req, res, early, true);
    const limit = signed ? maxBytes : UNSIGNED_MAX_BYTES;
    const overLimit: Refusal = signed
      ? { status: 413, reason: 'too_large' }
      : { status: 401, reason: 'unsigned' };
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limit) return refuse(req, res, overLimit, true);
    const body = await readBody(req, limit);
    if (body === 'gone') return;
    if (body === 'too_large') return refuse(req, res, overLimit, true);
    if (!signed) {
      // Bolt answers Slack's unsigned SSL check itself; anything else unsigned stops here.
      const form = contentType(req) === FORM ? parseQuery(body.toString('utf8')) : {};
      if (form.ssl_check !== '1') return refuse(req, res, { status: 401, reason: 'unsigned' }, false);
    } else {
      if (!validSignature(opts.signingSecret, String(timestamp), body, String(signature))) {
        return refuse(req, res, { status: 401, reason: 'bad_signature' }, false);
      }
      const problem = checkBody(contentType(req), body);
      if (problem) return refuse(req, res, { status: 400, reason: problem }, false);
    }
    req.rawBody = body;
    next(req, res);
  }

  function refuse(req: IncomingMessage, res: ServerResponse, refusal: Refusal, unread: boolean): void {
    opts.onRefused?.(refusal);
    res.writeHead(refusal.status, {
      'content-type': 'text/plain',
      ...(unread ? { connection: 'close' } : {}),
    });
    res.end(`${refusal.reason.replace(/_/g, ' ')}\n`);
    if (unread && !req.complete) {
      // Drain without keeping anything, and hang up on a sender that never stops.
      req.resume();
      setTimeout(() => req.destroy(), HANG_UP_AFTER_MS).unref();
    }
  }
}

/**
 * The path as Bolt routes it (`new URL(req.url, base).pathname`), so an absolute-form target
 * such as `POST http://host/slack/events` cannot reach Bolt's endpoint around the guard.
 */
function pathOf(req: IncomingMessage): string | null {
  try {
    return new URL(req.url ?? '/', 'http://localhost').pathname;
  } catch {
    return null;
  }
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return typeof value === 'string' ? value : undefined;
}

const FORM = 'application/x-www-form-urlencoded';

/** Bolt compares the whole header, parameters included; so do we, to read the body as it will. */
function contentType(req: IncomingMessage): string | undefined {
  return req.headers['content-type'];
}

function checkHeaders(timestamp: string | undefined, signature: string | undefined, nowMs: number) {
  if (timestamp === undefined || !/^\d{1,12}$/.test(timestamp)) {
    return { status: 401, reason: 'bad_timestamp' } as const;
  }
  const skew = Number(timestamp) - Math.floor(nowMs / 1000);
  if (skew < -MAX_CLOCK_SKEW_SECONDS) return { status: 401, reason: 'stale_timestamp' } as const;
  if (skew > MAX_CLOCK_SKEW_SECONDS) return { status: 401, reason: 'future_timestamp' } as const;
  if (signature === undefined || !/^v0=[0-9a-f]{64}$/.test(signature)) {
    return { status: 401, reason: 'bad_signature' } as const;
  }
  return null;
}

/**
 * The body; 'too_large' as soon as it passes `limit` bytes (what was read is dropped); 'gone'
 * when the client hung up before sending it all (nobody is left to answer).
 */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | 'too_large' | 'gone'> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const settle = (result: Buffer | 'too_large' | 'gone') => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onGone);
      req.off('close', onGone);
      chunks.length = 0;
      resolve(result);
    };
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) settle('too_large');
      else chunks.push(chunk);
    };
    const onEnd = () => settle(Buffer.concat(chunks, size));
    const onGone = () => settle('gone');
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onGone);
    req.on('close', onGone);
  });
}

function validSignature(secret: string, timestamp: string, body: Buffer, signature: string): boolean {
  const hmac = createHmac('sha256', secret);
  hmac.update(`v0:${timestamp}:`);
  hmac.update(body);
  const expected = Buffer.from(`v0=${hmac.digest('hex')}`);
  const given = Buffer.from(signature);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

// ---------------------------------------------------------------------------------------------
// Shapes. Bolt routes on `event`, `command`, `name` and `actions` before anything else and then
// dereferences what it found; the handlers read `user.id`, `actions[0]`, `view.state.values`.
// These schemas admit exactly what this app registered, with those fields of the right type.

const absent = z.never().optional();
const user = z.looseObject({ id: z.string().min(1), team_id: z.string().optional() });
const team = z.looseObject({ id: z.string(), enterprise_id: z.string().optional() }).nullable().optional();
const enterprise = z.looseObject({ id: z.string() }).nullable().optional();
const interaction = {
  user,
  team,
  enterprise,
  is_enterprise_install: z.boolean().optional(),
  event: absent,
  command: absent,
  name: absent,
  function_data: absent,
};
const blockActions = z.looseObject({
  ...interaction,
  type: z.literal('block_actions'),
  actions: z
    .array(z.looseObject({ action_id: z.enum(ACTION_IDS), value: z.string().optional() }))
    .min(1)
    .max(25),
  channel: z.looseObject({ id: z.string().min(1), name: z.string().optional() }).optional(),
  // The handlers answer through these (respond, views.open); Slack sends both with every click.
  trigger_id: z.string().min(1),
  response_url: z.string().min(1),
});
const elementState = z.looseObject({
  value: z.string().nullable().optional(),
  selected_option: z.looseObject({ value: z.string() }).nullable().optional(),
});
const viewSubmission = z.looseObject({
  ...interaction,
  type: z.literal('view_submission'),
  view: z.looseObject({
    callback_id: z.enum(VIEW_CALLBACK_IDS),
    private_metadata: z.string(),
    app_installed_team_id: z.string().optional(),
    state: z.looseObject({ values: z.record(z.string(), z.record(z.string(), elementState)) }),
  }),
});
const interactionPayload = z.discriminatedUnion('type', [blockActions, viewSubmission]);
const field = z.string().optional();
const slashCommand = z.looseObject({
  command: z.literal(SLASH_COMMAND),
  text: z.string(),
  user_id: z.string().min(1),
  channel_id: z.string().min(1),
  channel_name: field,
  team_id: field,
  enterprise_id: field,
  is_enterprise_install: field,
  trigger_id: z.string().min(1),
  response_url: z.string().min(1),
  event: absent,
});
const urlVerification = z.looseObject({ type: z.literal('url_verification'), challenge: z.string() });
/** The events the app subscribes to (App Home's `app_home_opened`), with the user they are about. */
const botEvent = z.looseObject({
  type: z.literal('event_callback'),
  event: z.looseObject({ type: z.enum(BOT_EVENTS), user: z.string().min(1) }),
});

/** Null when Bolt and the handlers can take this body; otherwise a short reason for a 400. */
export function checkBody(type: string | undefined, raw: Buffer): string | null {
  const text = raw.toString('utf8');
  if (type !== FORM) {
    // JSON is the URL check or an event the app subscribes to (BOT_EVENTS), nothing else.
    const json = parseJson(text);
    return urlVerification.safeParse(json).success || botEvent.safeParse(json).success
      ? null
      : 'not_a_slack_request';
  }
  const form = parseQuery(text);
  if ('payload' in form) {
    if (typeof form.payload !== 'string') return 'bad_payload';
    const parsed = interactionPayload.safeParse(parseJson(form.payload));
    return parsed.success ? null : 'bad_payload';
  }
  if (form.ssl_check === '1') return null;
  if (Object.values(form).some((value) => typeof value !== 'string')) return 'repeated_field';
  return slashCommand.safeParse(form).success ? null : 'bad_command';
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
