import {
  type ChatPostMessageArguments,
  type ChatUpdateArguments,
  type ConversationsHistoryArguments,
  type ConversationsRepliesArguments,
  LogLevel,
  ErrorCode as SlackErrorCode,
  WebClient,
} from '@slack/web-api';
import type { RecoveryRequest } from '../approval/types.js';
import { OUTCOME_ACTIONS } from '../audit-vocabulary.js';
import { classifyNetworkError } from '../net-errors.js';
import { createDeliveryStore, type DeliveryPool } from '../store/deliveries.js';
import type { AuditEntry, AuditLog, ChannelDeliveries, DeliveryHead } from '../store/types.js';
import type { KnownBlock, SlackMessage } from '../views/slack.js';

/**
 * Delivers audit entries to their incident threads: the audit log is written first (with an
 * `audit_deliveries` row in the same transaction, see AuditLog.append's `deliverTo`), and this
 * worker carries each entry from there to Slack.
 *
 * ORDER. Per channel, only the lowest pending seq is ever looked at (the "head"). A later entry
 * is posted only after every earlier entry of the channel is `delivered`; while the head waits
 * (429, Slack down, channel archived) the whole channel waits behind it. Appends commit in seq
 * order (they serialise on the audit head row), so a worker can never see seq n+1 pending before
 * seq n is visible. Channels do not wait for each other.
 *
 * ONE DELIVERER PER CHANNEL. A channel is drained only while holding a session advisory lock
 * keyed by (schema, channel) on one dedicated connection; every read of the head happens after
 * the lock is taken, and every write is autocommitted before it is released. So a replica
 * taking the lock next sees all that the previous holder did. Two channels whose keys collide
 * merely take turns. If anything throws, that connection is destroyed instead of returned to the
 * pool, which is what frees the lock on the server: a lock can never leak into a pooled session.
 * The store holds the lock and runs every query (src/store/deliveries.ts, `withChannelLock`).
 *
 * EXACTLY ONCE. An entry's reply is posted only while `message_ts` is null, and the ts Slack
 * returns is written back immediately (one autocommitted UPDATE, before anything else happens).
 * What remains is the post whose outcome is unknown: Slack may have stored the message and
 * the answer never arrived (timeout, connection reset, a 5xx after sending), or the process died
 * or lost Postgres between Slack's answer and the UPDATE. So, before every post, `post_sent_at`
 * is set (autocommitted; for thread roots, a row in `incident_thread_posts`), and it is cleared
 * only when Slack refused the post outright. An attempt that finds it set — this process or
 * another replica, after any restart — first looks for the message in Slack by its metadata
 * (replies: `seq` and the entry's hash, in the thread via conversations.replies; roots: the
 * conversation id, via conversations.history): found, its ts is recorded and nothing is posted;
 * not found, it posts again only once the earlier post is `settleMs` old, so that a request Slack
 * is still working on has landed (or been dropped) before the look that decides. If the look
 * itself fails it is retried like a post; nothing is posted blind while Slack can be asked. Two
 * cases still post again without knowing: Slack refuses the look for a reason only a person can
 * fix (no channels:history / groups:history scope, bot not in the channel), where waiting would
 * stall the channel until someone notices; and Slack storing a message more than `settleMs`
 * after it was sent. Either duplicate carries the same metadata, so it is recognisable. The
 * in-place update of an approval message is idempotent (it sets the same content again), so
 * retrying it is harmless; it is tracked apart from the reply (`updated_ts`) so that a failed
 * update never causes the reply to be posted twice.
 *
 * NOTHING IS LOST. Every failure keeps the entry pending with `last_error` and a
 * `next_attempt_at`; content Slack refuses (invalid_blocks, msg_too_long) falls back to plain
 * text; an entry whose view throws is posted as a minimal line. The only entries that reach
 * `delivered` without a message are those `render` deliberately returns null for.
 */

export interface DeliveryLogger {
  debug(obj: Record<string, unknown>, msg: string): void;
  info(obj: Record<string, unknown>, msg: string): void;
  warn(obj: Record<string, unknown>, msg: string): void;
  error(obj: Record<string, unknown>, msg: string): void;
}

/** A page of conversations.history / conversations.replies, as far as the worker reads it. */
export interface LookupPage {
  messages?: { ts?: string; metadata?: { event_type?: string; event_payload?: unknown } }[];
  has_more?: boolean;
  response_metadata?: { next_cursor?: string };
}

/** The Web API methods the worker uses; a WebClient fits, and so does a test double. */
export interface DeliverySlackClient {
  chat: {
    postMessage(args: ChatPostMessageArguments): Promise<{ ts?: string | undefined }>;
    update(args: ChatUpdateArguments): Promise<unknown>;
  };
  /** Only after a post whose outcome is unknown: is the message in Slack already? */
  conversations: {
    history(args: ConversationsHistoryArguments): Promise<LookupPage>;
    replies(args: ConversationsRepliesArguments): Promise<LookupPage>;
  };
}

export interface DeliveryWorkerOptions {
  /** Handed to the store (src/store/deliveries.ts), which runs every query of the worker. */
  pool: DeliveryPool;
  /** The bot's schema (where `migrate` put audit_log, audit_deliveries, incident_threads). */
  schema: string;
  audit: AuditLog;
  /** Build it with `createDeliveryClient`: the worker must see 429s, not have the SDK sleep on them. */
  client: DeliverySlackClient;
  /** The thread reply for an entry; null: nothing to show (the entry is marked delivered). */
  render: (entry: AuditEntry) => SlackMessage | null;
  renderRoot: (conversationId: string) => SlackMessage;
  /**
   * The approval message once decided (no buttons), from the entry's `data.request` snapshot (the
   * entry too, for views that want more of it). Null, or no function: the message is left as posted.
   */
  renderDecided?: (request: RecoveryRequest, entry: AuditEntry) => SlackMessage | null;
  logger: DeliveryLogger;
  /** How often to look for work appended by other replicas; `kick()` covers this process. Default 2000. */
  pollMs?: number;
  /** Backoff for connection errors, 5xx and unknown Slack errors: base · 2^(attempts-1), capped. Default 1 s → 60 s. */
  backoff?: { baseMs?: number; maxMs?: number };
  /** Wait after errors a person must fix (channel archived, bot not in channel, token revoked). Default 10 min. */
  blockedRetryMs?: number;
  /** Channels drained at once by this process. Each holds one pool connection (plus short queries). Default 4. */
  channelConcurrency?: number;
  /**
   * After a post whose answer was lost, how old it must be before "not found in Slack" means
   * "Slack did not take it" and it is posted again. Above the client's timeout, with room for
   * Slack to finish a request it was still working on. Default 60 s.
   */
  settleMs?: number;
  /** Messages per conversations.history/replies page when looking for an earlier post. Default 200. */
  lookupPageSize?: number;
}

export interface DeliveryWorker {
  /** Starts polling (and reacting to `kick`). */
  start(): void;
  /** Stops after the entry in flight, if any; resolves once the worker is idle. */
  stop(): Promise<void>;
  /** Something was appended here: look now instead of at the next poll. */
  kick(): void;
  /** One pass over every channel with a due entry; resolves with how many entries were delivered. */
  drainOnce(): Promise<number>;
  /** Entries appended for Slack and not yet delivered (optionally of one channel). */
  pendingCount(channelId?: string): Promise<number>;
  /** Age of the oldest undelivered entry, null when there is none. */
  oldestPendingAgeMs(): Promise<number | null>;
}

/** Actions that decide an approval request; with `data.request` they also edit the approval message. */
export const DECISION_ACTIONS: ReadonlySet<string> = new Set([
  'request.approved',
  'request.denied',
  'request.cancelled',
  'request.expired',
  'request.stale',
  'request.settled',
  // The expired card gives way to "renewed as …" (its request snapshot carries renewedAs).
  'request.renewed',
  'request.break_glass',
  'request.reviewed',
  ...OUTCOME_ACTIONS,
]);

export const REQUEST_CREATED_ACTION = 'request.created';
export const AUDIT_EVENT_TYPE = 'zeus_recover_audit';
export const THREAD_ROOT_EVENT_TYPE = 'zeus_recover_thread_root';

/** Plain-text fallback: far below msg_too_long, and the audit log keeps the full entry. */
const FALLBACK_TEXT_MAX = 3500;
/** Never spin faster than this when something is due again "now". */
const MIN_WAIT_MS = 20;
/** Slack's clock against the database's: a copy is looked for from this long before it was first sent. */
const LOOKUP_CLOCK_MARGIN_S = 300;
/** Past this many pages the look gives up and counts as "could not check" (posted again, noted). */
const LOOKUP_MAX_PAGES = 25;
/** Slack's own errors that may come after part of the work was done (its docs say so for these two). */
const AMBIGUOUS_PLATFORM_ERRORS = new Set(['internal_error', 'fatal_error']);

/** Errors only a person can fix; retried rarely, logged loudly, entries kept. */
const BLOCKED_ERRORS = new Set([
  'channel_not_found',
  'not_in_channel',
  'is_archived',
  'channel_is_archived',
  'restricted_action',
  'restricted_action_read_only_channel',
  'restricted_action_thread_only_channel',
  'restricted_action_non_threadable_channel',
  'team_access_not_granted',
  'ekm_access_denied',
  'access_denied',
  'not_authed',
  'invalid_auth',
  'token_revoked',
  'token_expired',
  'account_inactive',
  'missing_scope',
  'no_permission',
  'org_login_required',
]);
/** Slack refused what the message says, not where it goes: plain text may still pass. */
const CONTENT_ERRORS = new Set([
  'invalid_blocks',
  'invalid_blocks_format',
  'msg_too_long',
  'too_many_attachments',
]);
/** chat.update targets that will never accept an edit: give up the edit, keep the reply. */
const MESSAGE_GONE_ERRORS = new Set(['message_not_found', 'cant_update_message', 'edit_window_closed']);

type SlackFailure =
  | { type: 'rate_limited'; error: string; retryAfterMs: number }
  /** `ambiguous`: Slack may have acted on the request anyway (timeout, reset, 5xx, …). */
  | { type: 'transient'; error: string; ambiguous: boolean }
  | { type: 'blocked'; error: string }
  | { type: 'content'; error: string }
  | { type: 'thread_not_found'; error: string }
  | { type: 'message_gone'; error: string };

type Outcome = { kind: 'delivered' } | RetryOutcome;

/** An earlier copy of a message to look for: in a thread (replies) or at the channel's top level (history). */
interface LookupTarget {
  channel: string;
  threadTs: string | null;
  /** No copy can be older than this (epoch seconds, database clock). */
  sinceEpoch: number;
  eventType: string;
  matches: (payload: Record<string, unknown>) => boolean;
}
type RetryOutcome = { kind: 'retry'; delayMs: number; error: string };

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Classifies what @slack/web-api throws (by `code`, so a second copy of the SDK still matches). */
export function classifySlackError(err: unknown): SlackFailure {
  if (typeof err !== 'object' || err === null)
    return { type: 'transient', error: 'unexpected: non-error thrown', ambiguous: true };
  const e = err as Record<string, unknown>;
  switch (e.code) {
    case SlackErrorCode.RateLimitedError: {
      const seconds = typeof e.retryAfter === 'number' && Number.isFinite(e.retryAfter) ? e.retryAfter : 1;
      return {
        type: 'rate_limited',
        error: `rate_limited (Retry-After ${seconds}s)`,
        retryAfterMs: seconds * 1000,
      };
    }
    case SlackErrorCode.PlatformError: {
      const code = isRecord(e.data) && typeof e.data.error === 'string' ? e.data.error : 'unknown_error';
      if (code === 'ratelimited' || code === 'rate_limited') {
        return { type: 'rate_limited', error: code, retryAfterMs: 1000 };
      }
      if (BLOCKED_ERRORS.has(code)) return { type: 'blocked', error: code };
      if (CONTENT_ERRORS.has(code)) return { type: 'content', error: code };
      if (code === 'thread_not_found') return { type: 'thread_not_found', error: code };
      if (MESSAGE_GONE_ERRORS.has(code)) return { type: 'message_gone', error: code };
      // internal_error, fatal_error, service_unavailable, request_timeout, and whatever Slack adds:
      // retried with backoff rather than dropped.
      return { type: 'transient', error: code, ambiguous: AMBIGUOUS_PLATFORM_ERRORS.has(code) };
    }
    case SlackErrorCode.HTTPError: {
      // A 5xx or a proxy's timeout can come after Slack took the request; a 4xx says it was refused.
      const status = typeof e.statusCode === 'number' ? e.statusCode : null;
      return {
        type: 'transient',
        error: `http_${status ?? 'error'}`,
        ambiguous: status === null || status >= 500 || status === 408,
      };
    }
    case SlackErrorCode.RequestError: {
      // fetch wraps the socket error: TypeError('fetch failed', { cause: { code: 'ECONNREFUSED' } }).
      // Only a connection that never opened proves nothing was posted.
      const net = classifyNetworkError(e.original);
      const detail = net.code ?? (net.timedOut ? 'timeout' : 'request_failed');
      return { type: 'transient', error: `request_error: ${detail}`, ambiguous: net.mayHaveReached };
    }
    default:
      return {
        type: 'transient',
        error: `unexpected: ${err instanceof Error ? err.name : 'error'}`,
        ambiguous: true,
      };
  }
}

interface PostSpec {
  channel: string;
  text: string;
  /** Empty or absent: text only. */
  blocks?: KnownBlock[];
  threadTs: string | null;
  broadcast: boolean;
  metadata: { event_type: string; event_payload: Record<string, string | number> } | null;
}

/** Spelled out branch by branch because the SDK's argument type is a union keyed on these fields. */
function postArgs(p: PostSpec): ChatPostMessageArguments {
  const base = {
    channel: p.channel,
    text: p.text,
    unfurl_links: false,
    unfurl_media: false,
    ...(p.metadata === null ? {} : { metadata: p.metadata }),
  };
  const content = p.blocks !== undefined && p.blocks.length > 0 ? { ...base, blocks: p.blocks } : base;
  if (p.threadTs === null) return content;
  return { ...content, thread_ts: p.threadTs, reply_broadcast: p.broadcast };
}

function clipText(text: string): string {
  return text.length <= FALLBACK_TEXT_MAX ? text : `${text.slice(0, FALLBACK_TEXT_MAX - 1)}…`;
}

/** `data.request` as written by the Slack face: a RecoveryRequest snapshot at the time of the event. */
function requestSnapshot(entry: AuditEntry): RecoveryRequest | null {
  const r = entry.data.request;
  if (!isRecord(r) || typeof r.id !== 'string' || typeof r.state !== 'string') return null;
  return r as unknown as RecoveryRequest;
}

/**
 * Names the entry in its message's metadata beside `seq`: seqs restart with every schema, so
 * another deployment posting into the same channel can have the same seq, never the same hash.
 */
function entryMark(entry: AuditEntry): string {
  return entry.hash.slice(0, 16);
}

/**
 * The WebClient for the worker. `rejectRateLimitedCalls` and no SDK retries: the SDK would
 * otherwise sleep through Retry-After (and its own backoff, up to ~30 min) inside the call,
 * holding the channel's lock and a Postgres connection, invisible to other replicas and
 * forgotten on restart — and it retries a timed-out chat.postMessage blindly, which is how a slow
 * Slack got one entry posted four times. The worker records the wait in `next_attempt_at`
 * instead, and looks before it posts again. The timeout bounds how long a channel's lock is held
 * on a hung connection; Slack answers chat.postMessage in well under a second, so 10 s is long
 * for a healthy Slack and short enough that a hung one costs little.
 */
export function createDeliveryClient(options: {
  token: string;
  slackApiUrl?: string;
  timeoutMs?: number;
}): WebClient {
  return new WebClient(options.token, {
    ...(options.slackApiUrl === undefined ? {} : { slackApiUrl: options.slackApiUrl }),
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: options.timeoutMs ?? 10_000,
    // The worker logs every failure itself, without the SDK's request dumps.
    logLevel: LogLevel.ERROR,
  });
}

export function createDeliveryWorker(options: DeliveryWorkerOptions): DeliveryWorker {
  const { audit, client, render, renderRoot, renderDecided, logger } = options;
  const store = createDeliveryStore(options.pool, options.schema);
  const pollMs = options.pollMs ?? 2000;
  const baseMs = options.backoff?.baseMs ?? 1000;
  const maxMs = options.backoff?.maxMs ?? 60_000;
  const blockedRetryMs = options.blockedRetryMs ?? 10 * 60_000;
  const concurrency = Math.max(1, options.channelConcurrency ?? 4);
  const settleMs = options.settleMs ?? 60_000;
  const pageSize = Math.min(Math.max(1, options.lookupPageSize ?? 200), 999);

  // Posted but not yet recorded (Postgres failed right after Slack said ok): reused by the next
  // attempt in this process instead of posting again.
  const unrecordedReplies = new Map<number, string>();
  const unrecordedRoots = new Map<string, string>();

  function backoffMs(attempts: number): number {
    const exp = baseMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30);
    // Jitter keeps many channels that failed together from retrying in lockstep.
    return Math.round(Math.min(maxMs, exp) * (0.8 + Math.random() * 0.2));
  }

  function retryFor(failure: SlackFailure, attempts: number, ctx: Record<string, unknown>): RetryOutcome {
    switch (failure.type) {
      case 'rate_limited':
        logger.info({ ...ctx, error: failure.error }, 'Slack rate-limited audit delivery; waiting as told');
        return { kind: 'retry', delayMs: Math.max(failure.retryAfterMs, MIN_WAIT_MS), error: failure.error };
      case 'blocked':
        logger.error(
          { ...ctx, error: failure.error, retryInMs: blockedRetryMs },
          'Audit delivery to this channel is blocked until someone fixes it (invite the bot, unarchive, or fix the token); entries are kept in Postgres and will follow in order',
        );
        return { kind: 'retry', delayMs: blockedRetryMs, error: failure.error };
      default: {
        const delayMs = backoffMs(attempts);
        logger.warn(
          { ...ctx, error: failure.error, retryInMs: delayMs },
          'Audit delivery failed; will retry',
        );
        return { kind: 'retry', delayMs, error: failure.error };
      }
    }
  }

  async function post(
    args: ChatPostMessageArguments,
  ): Promise<{ ok: true; ts: string } | { ok: false; failure: SlackFailure }> {
    try {
      const res = await client.chat.postMessage(args);
      if (typeof res.ts !== 'string' || res.ts === '') {
        // Slack said ok, so the message exists; without its ts, only a look can find it.
        return { ok: false, failure: { type: 'transient', error: 'no_ts_in_response', ambiguous: true } };
      }
      return { ok: true, ts: res.ts };
    } catch (err) {
      return { ok: false, failure: classifySlackError(err) };
    }
  }

  /** Nothing can have been posted: Slack answered with a refusal, or no request left this host. */
  function refused(failure: SlackFailure): boolean {
    return failure.type !== 'transient' || !failure.ambiguous;
  }

  /**
   * Looks for an earlier copy of a message in Slack: in a thread (replies) or at the channel's
   * top level (history), no older than `sinceEpoch`. The oldest copy wins, should there be several.
   */
  async function lookFor({
    channel,
    threadTs,
    sinceEpoch,
    eventType,
    matches,
  }: LookupTarget): Promise<
    | { kind: 'found'; ts: string }
    | { kind: 'absent' }
    | { kind: 'unverifiable'; error: string }
    | { kind: 'failed'; failure: SlackFailure }
  > {
    const oldest = String(Math.max(0, Math.floor(sinceEpoch - LOOKUP_CLOCK_MARGIN_S)));
    let found: string | null = null;
    let cursor: string | undefined;
    for (let page = 0; page < LOOKUP_MAX_PAGES; page++) {
      let res: LookupPage;
      try {
        const common = {
          channel,
          oldest,
          limit: pageSize,
          include_all_metadata: true,
          ...(cursor === undefined ? {} : { cursor }),
        };
        res =
          threadTs === null
            ? await client.conversations.history(common)
            : await client.conversations.replies({ ...common, ts: threadTs });
      } catch (err) {
        const failure = classifySlackError(err);
        // The root is gone, and the thread with it: a reply there cannot count as delivered.
        if (failure.type === 'thread_not_found') return { kind: 'absent' };
        if (failure.type === 'blocked') return { kind: 'unverifiable', error: failure.error };
        return { kind: 'failed', failure };
      }
      for (const m of res.messages ?? []) {
        const payload = m.metadata?.event_payload;
        if (typeof m.ts !== 'string' || m.metadata?.event_type !== eventType || !isRecord(payload)) continue;
        if (!matches(payload)) continue;
        if (found === null || Number(m.ts) < Number(found)) found = m.ts;
      }
      cursor = res.response_metadata?.next_cursor;
      if (res.has_more !== true || cursor === undefined || cursor === '') {
        return found === null ? { kind: 'absent' } : { kind: 'found', ts: found };
      }
    }
    return found === null
      ? { kind: 'unverifiable', error: `more than ${LOOKUP_MAX_PAGES} pages to look through` }
      : { kind: 'found', ts: found };
  }

  /** An earlier post found in Slack, or `post` (go ahead), or a retry to return. */
  async function settleEarlierPost(
    target: LookupTarget,
    sinceSentMs: number,
    attempts: number,
    ctx: Record<string, unknown>,
  ): Promise<{ kind: 'found'; ts: string } | { kind: 'post'; note: string | null } | RetryOutcome> {
    const look = await lookFor(target);
    switch (look.kind) {
      case 'found':
        logger.info(
          { ...ctx, ts: look.ts },
          'An earlier post whose answer was lost is in Slack; not posting again',
        );
        return look;
      case 'failed':
        return retryFor(look.failure, attempts, { ...ctx, step: `${String(ctx.step ?? 'reply')} lookup` });
      case 'unverifiable':
        logger.warn(
          { ...ctx, error: look.error },
          'Cannot look in Slack for an earlier post whose answer was lost (grant channels:history and groups:history, and invite the bot); posting again, which may duplicate it',
        );
        return {
          kind: 'post',
          note: `could not check Slack for an earlier copy (${look.error}); posted again`,
        };
      case 'absent':
        if (sinceSentMs < settleMs) {
          // Slack may still be working on it: decide only once it has had time to land.
          const delayMs = Math.max(settleMs - sinceSentMs, MIN_WAIT_MS);
          logger.info(
            { ...ctx, retryInMs: delayMs },
            'Earlier post not in Slack yet; looking again before posting',
          );
          return { kind: 'retry', delayMs, error: 'earlier post not answered and not in Slack yet' };
        }
        return { kind: 'post', note: null };
    }
  }

  function safeRender(entry: AuditEntry): SlackMessage | null {
    try {
      return render(entry);
    } catch (err) {
      // A view bug must not stall the channel or drop the entry: say what happened, minimally.
      logger.error(
        { seq: entry.seq, action: entry.action, err: String(err) },
        'Audit entry view failed; posting a minimal line',
      );
      return { text: `Audit entry #${entry.seq}: ${entry.action} by ${entry.actor}`, blocks: [] };
    }
  }

  function safeRenderRoot(conversationId: string): SlackMessage {
    try {
      return renderRoot(conversationId);
    } catch (err) {
      logger.error({ conversationId, err: String(err) }, 'Thread root view failed; posting a minimal root');
      return { text: `Zeus recovery: ${conversationId}`, blocks: [] };
    }
  }

  /** The root's ts, posting and recording the root first if this thread has none yet. */
  async function ensureThread(
    db: ChannelDeliveries,
    conversationId: string,
    attempts: number,
    ctx: Record<string, unknown>,
  ): Promise<{ ok: true; ts: string } | { ok: false; retry: RetryOutcome }> {
    const channel = db.channelId;
    const existing = await db.threadRoot(conversationId);
    if (existing !== null) return { ok: true, ts: existing };

    const rootCtx = { ...ctx, conversationId, step: 'thread root' };
    const key = `${channel}/${conversationId}`;
    let ts = unrecordedRoots.get(key) ?? null;
    if (ts === null) {
      const earlier = await db.unansweredRootPost(conversationId);
      if (earlier !== null) {
        const settled = await settleEarlierPost(
          {
            channel,
            threadTs: null,
            sinceEpoch: earlier.firstSentEpoch,
            eventType: THREAD_ROOT_EVENT_TYPE,
            matches: (payload) => payload.conversation_id === conversationId,
          },
          earlier.sinceLastSentMs,
          attempts,
          rootCtx,
        );
        if (settled.kind === 'retry') return { ok: false, retry: settled };
        if (settled.kind === 'found') ts = settled.ts;
      }
    }
    if (ts === null) {
      const view = safeRenderRoot(conversationId);
      const spec: PostSpec = {
        channel,
        text: view.text,
        blocks: view.blocks,
        threadTs: null,
        broadcast: false,
        metadata: { event_type: THREAD_ROOT_EVENT_TYPE, event_payload: { conversation_id: conversationId } },
      };
      // Before the post, so that whoever comes next knows a root may be in Slack already.
      await db.markRootSent(conversationId);
      let posted = await post(postArgs(spec));
      if (!posted.ok && posted.failure.type === 'content') {
        posted = await post(postArgs({ ...spec, text: clipText(view.text), blocks: [] }));
      }
      if (!posted.ok) {
        if (refused(posted.failure)) await db.clearRootSent(conversationId);
        return { ok: false, retry: retryFor(posted.failure, attempts, rootCtx) };
      }
      ts = posted.ts;
    }
    unrecordedRoots.set(key, ts);
    // The root is recorded and its "sent, unanswered" marker gone together. Under the channel
    // lock nobody else should get here first; the first root recorded wins and the re-read keeps
    // two roots from both being used even if that ever fails: every reply follows the winner.
    await db.recordRoot(conversationId, ts);
    unrecordedRoots.delete(key);
    const winner = await db.threadRoot(conversationId);
    if (winner === null) throw new Error('incident thread vanished right after it was recorded');
    if (winner !== ts) {
      logger.warn(
        { channel, conversationId, orphanRootTs: ts, rootTs: winner },
        'Another thread root was recorded first; this one is left unused',
      );
    }
    return { ok: true, ts: winner };
  }

  /** Edits the approval message; `done` false means "retry later", with the failure. */
  async function updateApproval(
    channel: string,
    ts: string,
    view: SlackMessage,
  ): Promise<{ done: true; note: string | null } | { done: false; failure: SlackFailure }> {
    const attempt = async (args: ChatUpdateArguments): Promise<SlackFailure | null> => {
      try {
        await client.chat.update(args);
        return null;
      } catch (err) {
        return classifySlackError(err);
      }
    };
    let failure = await attempt({ channel, ts, text: view.text, blocks: view.blocks });
    if (failure?.type === 'content') {
      // `blocks: []` clears the buttons; a bare text edit would leave them clickable.
      const first = failure.error;
      failure = await attempt({ channel, ts, text: clipText(view.text), blocks: [] });
      if (failure === null) return { done: true, note: `update: ${first}; sent as plain text` };
    }
    if (failure === null) return { done: true, note: null };
    if (failure.type === 'message_gone' || failure.type === 'content') {
      return { done: true, note: `update: ${failure.error}; approval message left as it was` };
    }
    return { done: false, failure };
  }

  /** Where an entry's reply went, if an earlier post of it may be in Slack: found, or post again, or wait. */
  async function findEarlierReply(
    db: ChannelDeliveries,
    row: DeliveryHead,
    entry: AuditEntry,
    attempts: number,
    ctx: Record<string, unknown>,
  ): Promise<{ kind: 'found'; ts: string } | { kind: 'post'; note: string | null } | RetryOutcome> {
    let threadTs: string | null = null;
    if (row.conversationId !== null) {
      threadTs = await db.threadRoot(row.conversationId);
      // Its thread was forgotten (the root was deleted in Slack): there is nothing to find it in.
      if (threadTs === null) return { kind: 'post', note: null };
    }
    const mark = entryMark(entry);
    return settleEarlierPost(
      {
        channel: db.channelId,
        threadTs,
        sinceEpoch: row.createdEpoch,
        eventType: AUDIT_EVENT_TYPE,
        matches: (payload) => Number(payload.seq) === entry.seq && payload.hash === mark,
      },
      row.sinceSentMs ?? 0,
      attempts,
      { ...ctx, step: 'reply' },
    );
  }

  async function deliverOne(db: ChannelDeliveries, row: DeliveryHead): Promise<Outcome> {
    const { seq } = row;
    const channel = db.channelId;
    const [entry] = await audit.after(seq - 1, 1);
    if (entry === undefined || entry.seq !== seq) {
      // The foreign key makes this impossible short of tampering; stop the channel rather than skip.
      throw new Error(`audit entry ${seq} is missing for its delivery row`);
    }
    const attempts = row.attempts + 1;
    const ctx = { seq, channel, action: entry.action, attempt: attempts };
    const postNotes: string[] = [];
    const updateNotes: string[] = [];

    if (row.messageTs === null) {
      const view = safeRender(entry);
      if (view !== null) {
        let ts = unrecordedReplies.get(seq) ?? null;
        if (ts === null && row.sinceSentMs !== null) {
          const settled = await findEarlierReply(db, row, entry, attempts, ctx);
          if (settled.kind === 'retry') return settled;
          if (settled.kind === 'found') {
            ts = settled.ts;
            postNotes.push('answer to the post was lost; found in Slack');
          } else if (settled.note !== null) {
            postNotes.push(settled.note);
          }
        }
        if (ts === null) {
          let threadTs: string | null = null;
          if (row.conversationId !== null) {
            const thread = await ensureThread(db, row.conversationId, attempts, ctx);
            if (!thread.ok) return thread.retry;
            threadTs = thread.ts;
          }
          const spec: PostSpec = {
            channel,
            text: view.text,
            blocks: view.blocks,
            threadTs,
            // The approval request is also shown in the channel, where people will look for it.
            broadcast: entry.action === REQUEST_CREATED_ACTION,
            metadata: { event_type: AUDIT_EVENT_TYPE, event_payload: { seq, hash: entryMark(entry) } },
          };
          // Before the post, so that whoever comes next (this process after a lost answer, or a
          // replica after a crash) looks in Slack before posting it again.
          await db.markReplySent(seq);
          let posted = await post(postArgs(spec));
          if (!posted.ok && posted.failure.type === 'content') {
            postNotes.push(`${posted.failure.error}; sent as plain text`);
            logger.warn(
              { ...ctx, error: posted.failure.error },
              'Slack refused the audit message; posting it as plain text',
            );
            posted = await post(postArgs({ ...spec, text: clipText(view.text), blocks: [] }));
          }
          if (!posted.ok) {
            if (refused(posted.failure)) await db.clearReplySent(seq);
            if (
              posted.failure.type === 'thread_not_found' &&
              threadTs !== null &&
              row.conversationId !== null
            ) {
              // Someone deleted the root: forget it, so the next attempt starts a fresh thread.
              await db.forgetThread(row.conversationId, threadTs);
              logger.warn(
                { ...ctx, rootTs: threadTs },
                'Incident thread root is gone; a new root will be posted',
              );
              return {
                kind: 'retry',
                delayMs: MIN_WAIT_MS,
                error: 'thread_not_found (root deleted; reposting root)',
              };
            }
            return retryFor(posted.failure, attempts, ctx);
          }
          ts = posted.ts;
        }
        unrecordedReplies.set(seq, ts);
        // Recorded before anything else can fail: from here on this reply is never posted again.
        // last_error now only says how it was posted (the transient errors before it are moot).
        await db.recordReply(seq, ts, postNotes.length > 0 ? postNotes.join('; ') : null);
        unrecordedReplies.delete(seq);
      }
    }

    let updatedTs: string | null = row.updatedTs;
    const request = DECISION_ACTIONS.has(entry.action) ? requestSnapshot(entry) : null;
    if (request !== null && renderDecided !== undefined && updatedTs === null) {
      const approvalTs = await db.requestMessageTs({
        action: REQUEST_CREATED_ACTION,
        requestId: request.id,
        conversationId: entry.conversationId,
        beforeSeq: entry.seq,
      });
      if (approvalTs === null) {
        // Asked from the CLI, or the request lived in another channel: nothing here to edit.
        logger.debug({ ...ctx, requestId: request.id }, 'No approval message in this channel to update');
      } else {
        let view: SlackMessage | null;
        try {
          view = renderDecided(request, entry);
        } catch (err) {
          logger.error(
            { ...ctx, err: String(err) },
            'Decided view failed; clearing the buttons with a plain line',
          );
          view = { text: `Request ${request.id}: ${request.state}`, blocks: [] };
        }
        if (view === null) {
          logger.debug(
            { ...ctx, requestId: request.id },
            'No decided view for this entry; approval message left as it is',
          );
        } else {
          const updated = await updateApproval(channel, approvalTs, view);
          if (!updated.done) return retryFor(updated.failure, attempts, { ...ctx, step: 'approval update' });
          if (updated.note !== null) {
            updateNotes.push(updated.note);
            logger.warn({ ...ctx, note: updated.note }, 'Approval message could not be updated as designed');
          }
          updatedTs = approvalTs;
        }
      }
    }

    await db.markDelivered(seq, updatedTs, updateNotes.length > 0 ? updateNotes.join('; ') : null);
    logger.debug(ctx, 'Audit entry delivered');
    return { kind: 'delivered' };
  }

  /** Delivers a channel's due entries in order; `waitMs`: when its head is due again, if blocked. */
  async function drainChannel(
    channel: string,
    stopping: () => boolean,
  ): Promise<{ delivered: number; waitMs: number | null }> {
    // Every read of the head happens under the lock (see ONE DELIVERER PER CHANNEL above).
    const drained = await store.withChannelLock(channel, async (db) => {
      let delivered = 0;
      let waitMs: number | null = null;
      while (!stopping()) {
        const row = await db.head();
        if (row === null) break;
        if (row.waitMs > 0) {
          waitMs = row.waitMs;
          break;
        }
        const outcome = await deliverOne(db, row);
        if (outcome.kind === 'retry') {
          await db.recordRetry(row.seq, outcome.error, outcome.delayMs);
          waitMs = outcome.delayMs;
          break;
        }
        delivered += 1;
      }
      return { delivered, waitMs };
    });
    // Another replica (or pass) is on it; it reports its own waits.
    return drained.locked ? drained.value : { delivered: 0, waitMs: null };
  }

  async function pass(stopping: () => boolean): Promise<{ delivered: number; nextDueMs: number | null }> {
    const heads = await store.pendingChannels();
    let nextDueMs: number | null = null;
    const soonest = (ms: number | null) => {
      if (ms !== null) nextDueMs = nextDueMs === null ? ms : Math.min(nextDueMs, ms);
    };
    const due: string[] = [];
    for (const h of heads) {
      if (h.waitMs > 0) soonest(h.waitMs);
      else due.push(h.channelId);
    }
    let delivered = 0;
    let failed: unknown = null;
    let next = 0;
    const lane = async () => {
      while (next < due.length && !stopping()) {
        const channel = due[next++];
        if (channel === undefined) break;
        try {
          const r = await drainChannel(channel, stopping);
          delivered += r.delivered;
          soonest(r.waitMs);
        } catch (err) {
          // One channel's database trouble must not stop the others; the pass reports it after.
          logger.error({ channel, err: String(err) }, 'Audit delivery for this channel failed; will retry');
          failed ??= err;
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, due.length) }, lane));
    if (failed !== null && delivered === 0 && due.length > 0) throw failed;
    return { delivered, nextDueMs };
  }

  let started = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let again = false;

  function schedule(ms: number): void {
    if (!started) return;
    if (timer !== null) clearTimeout(timer);
    timer = setTimeout(() => {
      timer = null;
      void loop();
    }, ms);
    timer.unref();
  }

  async function loop(): Promise<void> {
    if (!started) return;
    if (running !== null) {
      again = true;
      return;
    }
    let nextMs = pollMs;
    running = (async () => {
      try {
        const r = await pass(() => !started);
        if (r.delivered > 0) again = true;
        if (r.nextDueMs !== null) nextMs = Math.min(nextMs, Math.max(r.nextDueMs, MIN_WAIT_MS));
      } catch (err) {
        logger.error({ err: String(err) }, 'Audit delivery pass failed (database?); will retry');
      }
    })();
    await running;
    running = null;
    if (again) {
      again = false;
      schedule(0);
    } else {
      schedule(nextMs);
    }
  }

  return {
    start() {
      if (started) return;
      started = true;
      schedule(0);
    },
    async stop() {
      started = false;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      await running;
    },
    kick() {
      if (!started) return;
      if (running !== null) again = true;
      else schedule(0);
    },
    async drainOnce() {
      return (await pass(() => false)).delivered;
    },
    pendingCount: (channelId) => store.pendingCount(channelId),
    oldestPendingAgeMs: () => store.oldestPendingAgeMs(),
  };
}
