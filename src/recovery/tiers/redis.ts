import { Cluster, Command, Redis } from 'ioredis';
import { ErrorCode, RecoveryError } from '../../errors.js';
import { describeNetworkError } from '../../net-errors.js';
import { sleep } from '../retry.js';
import type { ActiveStore, CasResult, PromoteResult, ScanPage, TierRead, TtlPolicy } from '../types.js';
import { luaSetWithTtl } from './lua-ttl.js';
import {
  DEFAULT_MAX_READ_MS,
  firstByteMs,
  mib,
  ReadDeadline,
  SilenceTimeout,
  TooLargeToRead,
  tooLargeReason,
} from './read-budget.js';
import { shadowKeyFor } from './shadow-key.js';

/**
 * The active tier. Every call is bounded by the adapter's own deadline whatever options the
 * client was built with, and a command is only sent once the client is `ready`: a request
 * parked in ioredis's offline queue could otherwise run minutes later, after we told the user
 * it failed — harmless for a read, surprising for a write.
 */

export type RedisClient = Redis | Cluster;

/**
 * Fail fast, reconnect in the background:
 * - `connectTimeout`/`commandTimeout` = timeoutMs: a half-open socket cannot hold a command;
 * - `maxRetriesPerRequest: 1`: anything queued is dropped after one failed reconnect;
 * - `autoResendUnfulfilledCommands: false`: a compare-and-set cut off by a disconnect is not
 *   silently re-sent after reconnect (the user already saw it fail and may retry);
 * - the retry strategy never gives up, so the tier recovers on its own once Redis is back.
 * The offline queue stays enabled so a command issued right after start is not refused; the
 * tier itself never relies on it (see `whenReady`).
 */
export function createRedisClient(opts: {
  url?: string;
  clusterNodes?: string[];
  timeoutMs: number;
}): RedisClient {
  const perNode = {
    connectTimeout: opts.timeoutMs,
    commandTimeout: opts.timeoutMs,
    maxRetriesPerRequest: 1,
    autoResendUnfulfilledCommands: false,
    connectionName: 'zeus-recover',
  };
  const backoff = (times: number) => Math.min(100 * 2 ** Math.min(times, 5), 3000);
  let client: RedisClient;
  if (opts.clusterNodes && opts.clusterNodes.length > 0) {
    client = new Cluster(opts.clusterNodes.map(parseNode), {
      clusterRetryStrategy: backoff,
      slotsRefreshTimeout: opts.timeoutMs,
      redisOptions: perNode,
    });
  } else if (opts.url) {
    client = new Redis(opts.url, { ...perNode, retryStrategy: backoff });
  } else {
    throw new RecoveryError(
      ErrorCode.Config,
      'No Redis address was configured.',
      'Set REDIS_URL (redis://host:6379) or REDIS_CLUSTER_NODES (host:port,host:port).',
    );
  }
  // Failures reach the user per call, with a reason, from the tier; without a listener ioredis
  // would print every reconnect attempt to stderr.
  client.on('error', () => {});
  return client;
}

function parseNode(node: string): { host: string; port: number } {
  const at = node.lastIndexOf(':');
  const host = (at > 0 ? node.slice(0, at) : node).replace(/^\[(.*)\]$/, '$1');
  const port = at > 0 ? Number(node.slice(at + 1)) : 6379;
  if (!host || !Number.isInteger(port) || port <= 0 || port > 65535) {
    throw new RecoveryError(
      ErrorCode.Config,
      `Redis cluster node "${node}" is not host:port.`,
      'Set REDIS_CLUSTER_NODES to a comma-separated list like 10.0.0.1:6379,10.0.0.2:6379.',
    );
  }
  return { host, port };
}

/**
 * One script, one key: atomic on a single node and routable on a Cluster. Lua compares
 * strings byte for byte. ARGV: expect ('absent'|'equal'), expected, op ('set'|'del'), next,
 * ttl kind ('keep'|'fixed'|'none'), ttl ms, deadline (Redis clock, ms since epoch).
 * KEEPTTL keeps the TTL the key has now, or none.
 *
 * The deadline is the fence that keeps a write from landing late: a script held up on the way
 * (a slow network, a stalled proxy) past it changes nothing, so once the caller has waited the
 * deadline out, what Redis holds is final, even if the lock it wrote under is gone by then.
 */
const CAS_LUA = `
if ARGV[7] ~= '' then
  local t = redis.call('TIME')
  if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(ARGV[7]) then return {0, -3} end
end
local current = redis.call('GET', KEYS[1])
if ARGV[1] == 'absent' then
  if current then return {0, 0} end
elseif current ~= ARGV[2] then
  return {0, 0}
end
if ARGV[3] == 'del' then
  redis.call('DEL', KEYS[1])
  return {1, -2}
end
${luaSetWithTtl('ARGV[4]', 5, 6)}
return {1, redis.call('PTTL', KEYS[1])}
`;
const CAS_COMMAND = 'zeusRecoverCas';
/**
 * KEYS: live, shadow (one hash slot). ARGV: expect ('absent'|'equal'), expected, SHA-1 of the
 * validated shadow, ttl kind, ttl ms, deadline. Checks and TTL as CAS_LUA; the shadow is copied
 * (SET, not RENAME, so the live key's TTL follows the policy, not the shadow's short one) and is
 * deleted whatever the answer, so a refused promote leaves nothing behind.
 */
const PROMOTE_LUA = `
if ARGV[6] ~= '' then
  local t = redis.call('TIME')
  if tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) > tonumber(ARGV[6]) then
    redis.call('DEL', KEYS[2])
    return {0, -3}
  end
end
local shadow = redis.call('GET', KEYS[2])
if (not shadow) or redis.sha1hex(shadow) ~= ARGV[3] then
  redis.call('DEL', KEYS[2])
  return {0, -4}
end
local current = redis.call('GET', KEYS[1])
if (ARGV[1] == 'absent' and current) or (ARGV[1] ~= 'absent' and current ~= ARGV[2]) then
  redis.call('DEL', KEYS[2])
  return {0, 0}
end
${luaSetWithTtl('shadow', 4, 5)}
redis.call('DEL', KEYS[2])
return {1, redis.call('PTTL', KEYS[1])}
`;
const PROMOTE_COMMAND = 'zeusRecoverPromote';
/** Redis's own clock, in ms, from the node that owns the key (a Cluster's nodes may disagree). */
const TIME_LUA = `
local t = redis.call('TIME')
return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;
const TIME_COMMAND = 'zeusRecoverTime';
type WithCas = { [CAS_COMMAND]: (key: string, ...argv: Array<string | Buffer>) => Promise<unknown> } & {
  [TIME_COMMAND]: (key: string) => Promise<unknown>;
} & {
  [PROMOTE_COMMAND]: (
    live: string,
    shadow: string,
    ...argv: string[] | Array<string | Buffer>
  ) => Promise<unknown>;
};

/** A page is filled from at most this many SCAN calls, so a sparse match cannot run long. */
const MAX_SCAN_CALLS_PER_PAGE = 10;

/** Thrown inside the tier; `sent` says whether the command may have reached Redis. */
class Failure extends Error {
  constructor(
    readonly reason: string,
    readonly sent: boolean,
    readonly replyError: boolean,
  ) {
    super(reason);
  }
}

/**
 * `pattern` is a Redis glob on the id part (the caller validates it); only the configured key
 * prefix is escaped, so a prefix containing `*` or `[` still matches literally.
 */
export function createRedisTier(opts: {
  client: RedisClient;
  keyPrefix: string;
  timeoutMs: number;
  /** The longest a read of a big value may take while its bytes keep arriving. */
  maxReadMs?: number;
}): ActiveStore {
  const { client, keyPrefix, timeoutMs, maxReadMs = DEFAULT_MAX_READ_MS } = opts;
  /** Bytes of values being read now: on one connection they arrive before the next one. */
  let bytesInFlight = 0;
  /** A read's commands carry this timeout, so only the tier's own deadlines decide. */
  const cap = Math.max(timeoutMs, maxReadMs);
  if (client.options.keyPrefix) {
    throw new RecoveryError(
      ErrorCode.Config,
      'The Redis client has its own keyPrefix; the tier adds REDIS_KEY_PREFIX itself.',
      'Create the client without the ioredis keyPrefix option.',
    );
  }
  // The last socket-level error says why we are not connected ("connection refused at …");
  // the wrappers ioredis emits after it ("Failed to refresh slots cache") say less.
  // A Cluster only reports "Connection is closed" per node, hence the node address fallback.
  let lastError: Error | undefined;
  let lastFailedNode: string | undefined;
  const remember = (err: Error) => {
    const cause = err instanceof AggregateError && err.errors[0] instanceof Error ? err.errors[0] : err;
    if (/^E[A-Z]+$/.test(String((cause as NodeJS.ErrnoException).code))) lastError = cause;
  };
  client.on('error', remember);
  client.on('node error', (err: Error, node: unknown) => {
    remember(err);
    if (typeof node === 'string') lastFailedNode = node;
  });
  client.on('ready', () => {
    lastError = undefined;
    lastFailedNode = undefined;
  });
  const notConnected = () => {
    if (lastError) return describe(lastError, undefined, timeoutMs);
    if (lastFailedNode) return `no cluster node reachable (last tried ${lastFailedNode})`;
    return `not connected after ${timeoutMs} ms`;
  };
  if (!(CAS_COMMAND in client)) client.defineCommand(CAS_COMMAND, { numberOfKeys: 1, lua: CAS_LUA });
  if (!(TIME_COMMAND in client)) client.defineCommand(TIME_COMMAND, { numberOfKeys: 1, lua: TIME_LUA });
  if (!(PROMOTE_COMMAND in client)) {
    client.defineCommand(PROMOTE_COMMAND, { numberOfKeys: 2, lua: PROMOTE_LUA });
  }

  const key = (id: string) => `${keyPrefix}${id}`;

  async function run<T>(fn: () => Promise<T>, budgetMs = timeoutMs): Promise<T> {
    const abort = new AbortController();
    let sent = false;
    const work = (async () => {
      await whenReady(client, abort.signal);
      sent = true;
      return fn();
    })();
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        // Timers run before the I/O that waited while this process was held up (a busy host):
        // a reply already here counts, so a slow process is not taken for a silent Redis.
        setImmediate(() => {
          abort.abort();
          reject(new Failure(sent ? `timed out after ${budgetMs} ms` : notConnected(), sent, false));
        });
      }, budgetMs);
    });
    work.catch(() => {});
    try {
      return await Promise.race([work, deadline]);
    } catch (err) {
      if (err instanceof Failure || err instanceof RecoveryError) throw err;
      const replyError = err instanceof Error && err.name === 'ReplyError';
      throw new Failure(describe(err, lastError, timeoutMs), sent, replyError);
    } finally {
      clearTimeout(timer);
      abort.abort();
    }
  }

  /** `writes`: the command may change the key, so a reply lost after sending leaves it ambiguous. */
  function unreachable(what: string, err: unknown, writes = false): RecoveryError {
    if (err instanceof RecoveryError) return err;
    const failure =
      err instanceof Failure ? err : new Failure(describe(err, lastError, timeoutMs), true, false);
    if (failure.replyError && failure.reason.includes('WRONGTYPE')) {
      return new RecoveryError(
        ErrorCode.Conflict,
        `Redis refused the ${what}: the key holds a non-string value.`,
        'Look at it with `redis-cli TYPE <key>`; Zeus stores conversations as strings.',
      );
    }
    const ambiguous = writes && failure.sent && !failure.replyError;
    const maybe = ambiguous ? ' It may or may not have been applied.' : '';
    return new RecoveryError(
      ErrorCode.TierUnreachable,
      `Redis ${what} failed: ${failure.reason}.${maybe}`,
      failure.sent
        ? 'Run inspect to see what Redis holds now, then retry.'
        : 'Check that Redis is up and reachable from the bot (REDIS_URL / REDIS_CLUSTER_NODES), then retry.',
      { cause: failure, details: { ambiguous } },
    );
  }

  /**
   * GET and PTTL sent back to back (Redis runs one client's pipelined commands in a row, so no
   * other client's write falls between them). Any reply bytes on the connection count as
   * progress: a value queued behind another big one waits on a Redis that answers. Not Lua: a
   * script holding a 30 MB string blocks Redis for everyone for about a second.
   */
  async function readValue(k: string, size: number): Promise<readonly [Buffer | null, unknown]> {
    const deadline = new ReadDeadline({
      timeoutMs,
      maxMs: maxReadMs,
      // Redis prepares a big reply before its first byte, after any big one queued before it.
      firstByteMs: firstByteMs(timeoutMs, size, bytesInFlight),
    });
    bytesInFlight += size;
    const sockets = socketsOf(client);
    const onData = (chunk: Buffer) => deadline.progress(chunk.length);
    for (const socket of sockets) socket.on('data', onData);
    try {
      return await deadline.race(
        run(async () => {
          const [value, ttl] = await Promise.all([
            send(client, 'get', [k], cap, null),
            send(client, 'pttl', [k], cap),
          ]);
          return [(value as Buffer | null) ?? null, ttl] as const;
        }, cap),
      );
    } finally {
      bytesInFlight -= size;
      for (const socket of sockets) socket.off('data', onData);
    }
  }

  function shadowOf(id: string, tag: string): string {
    const shadowKey = shadowKeyFor(key(id), tag);
    if (shadowKey === null) {
      throw new RecoveryError(
        ErrorCode.InvalidInput,
        `No shadow key can share the hash slot of ${key(id)}.`,
        'Write it with a plain compare-and-set (the caller checks keyFor first).',
      );
    }
    return shadowKey;
  }

  /**
   * Sends a write script fenced by a deadline on Redis's clock: it lands within `withinMs` (the
   * tier's budget if less) or never. A throw with `ambiguous: true` comes only after the fence
   * has closed, so whoever reads the key then sees the outcome.
   */
  async function fenced(
    id: string,
    what: string,
    withinMs: number | undefined,
    script: (deadline: number) => Promise<unknown>,
  ): Promise<unknown> {
    const scripts = client as unknown as WithCas;
    // The caller's lease may allow less than the tier's own budget; the shorter one fences it.
    const budgetMs = Math.max(1, Math.min(timeoutMs, withinMs ?? timeoutMs));
    let deadline: number;
    try {
      deadline = Number(await run(() => scripts[TIME_COMMAND](key(id)))) + budgetMs;
    } catch (err) {
      throw unreachable(`clock read before the ${what}`, err);
    }
    // Redis's clock ran at most as far as ours since it answered, so once ours passes this
    // point the fence in the script has closed and nothing sent can land any more.
    const fenceClosesAt = performance.now() + budgetMs;
    try {
      return await run(() => script(deadline), budgetMs);
    } catch (err) {
      const failure = unreachable(what, err, true);
      if (failure.details.ambiguous === true) await sleep(fenceClosesAt - performance.now());
      // A connection that went silent mid-call answers nothing after it either; the caller's
      // read-back needs a fresh one (what was sent on it can no longer land: the fence).
      if (err instanceof Failure && err.reason.startsWith('timed out') && client instanceof Redis) {
        client.disconnect(true);
      }
      throw failure;
    }
  }

  return {
    name: 'redis',
    locate: (id) => `redis key ${key(id)}`,

    async read(id): Promise<TierRead> {
      let size = 0;
      try {
        // A cheap first answer (O(1)) shows Redis is there, so from then on only silence means
        // trouble, not the time a big value takes to arrive; it also sizes the wait for it.
        size = Number(await run(() => send(client, 'strlen', [key(id)], cap)));
        const [bytes, pttl] = await readValue(key(id), size);
        if (bytes === null) return { status: 'missing' };
        return { status: 'found', bytes, ttlMs: toTtl(pttl) };
      } catch (err) {
        if (err instanceof TooLargeToRead) {
          return { status: 'unreachable', reason: tooLargeReason(err.ms, `a value of ${mib(size)}`) };
        }
        if (err instanceof SilenceTimeout) return { status: 'unreachable', reason: err.message };
        const failure =
          err instanceof Failure ? err : new Failure(describe(err, lastError, timeoutMs), true, false);
        return { status: 'unreachable', reason: failure.reason };
      }
    },

    async ping() {
      try {
        await run(() => client.ping());
      } catch (err) {
        throw unreachable('PING', err);
      }
    },

    async compareAndSet(id, expected, next, ttl, options = {}): Promise<CasResult> {
      const ttlArgs = ttlArgv(ttl);
      const scripts = client as unknown as WithCas;
      const reply = await fenced(id, 'compare-and-set', options.withinMs, (deadline) =>
        scripts[CAS_COMMAND](
          key(id),
          expected === null ? 'absent' : 'equal',
          expected ?? '',
          next === null ? 'del' : 'set',
          next ?? '',
          ...ttlArgs,
          String(deadline),
        ),
      );
      const [ok, pttl] = reply as [unknown, unknown];
      if (Number(pttl) === -3) return { ok: false, reason: 'deadline' };
      if (Number(ok) !== 1) return { ok: false, reason: 'changed' };
      return { ok: true, ttlMs: toTtl(pttl) };
    },

    shadow: {
      keyFor: (id, tag) => shadowKeyFor(key(id), tag),

      async write(id, tag, bytes, ttlMs) {
        const shadowKey = shadowOf(id, tag);
        try {
          await run(() => client.set(shadowKey, bytes, 'PX', ttlMs));
        } catch (err) {
          throw unreachable('write of the shadow copy', err);
        }
      },

      async read(id, tag) {
        const shadowKey = shadowOf(id, tag);
        try {
          const size = Number(await run(() => send(client, 'strlen', [shadowKey], cap)));
          const [bytes] = await readValue(shadowKey, size);
          return bytes;
        } catch (err) {
          const reason =
            err instanceof TooLargeToRead || err instanceof SilenceTimeout || err instanceof Failure
              ? err.message
              : describe(err, lastError, timeoutMs);
          throw unreachable('read of the shadow copy', new Failure(reason, true, false));
        }
      },

      async promote(id, tag, expected, shadowSha1, ttl, options = {}): Promise<PromoteResult> {
        const ttlArgs = ttlArgv(ttl);
        const scripts = client as unknown as WithCas;
        const reply = await fenced(id, 'promote of the shadow copy', options.withinMs, (deadline) =>
          scripts[PROMOTE_COMMAND](
            key(id),
            shadowOf(id, tag),
            expected === null ? 'absent' : 'equal',
            expected ?? '',
            shadowSha1,
            ...ttlArgs,
            String(deadline),
          ),
        );
        const [ok, pttl] = reply as [unknown, unknown];
        if (Number(pttl) === -3) return { ok: false, reason: 'deadline' };
        if (Number(pttl) === -4) return { ok: false, reason: 'shadow' };
        if (Number(ok) !== 1) return { ok: false, reason: 'changed' };
        return { ok: true, ttlMs: toTtl(pttl) };
      },

      async drop(id, tag) {
        const shadowKey = shadowOf(id, tag);
        try {
          await run(() => client.del(shadowKey));
        } catch (err) {
          throw unreachable('delete of the shadow copy', err);
        }
      },
    },

    async scan(pattern, cursor, count): Promise<ScanPage> {
      if (!Number.isInteger(count) || count < 1) {
        throw new RecoveryError(
          ErrorCode.InvalidInput,
          `Page size ${count} is not valid.`,
          'Ask for 1 or more.',
        );
      }
      const match = `${escapeGlob(keyPrefix)}${pattern}`;
      try {
        return await run(() =>
          client instanceof Cluster
            ? scanCluster(client, cursor, match, count, keyPrefix)
            : scanNode(client, parseNodeCursor(cursor), match, count, keyPrefix),
        );
      } catch (err) {
        throw unreachable('SCAN', err);
      }
    },
  };
}

/**
 * One command with a timeout of its own, set before it is sent so it takes the place of the
 * client-wide `commandTimeout`: that timer fires in the same turn as the tier's own deadline
 * and, after this process was held up, before the reply waiting in the socket is read.
 */
function send(
  client: RedisClient,
  name: string,
  args: string[],
  timeoutMs: number,
  replyEncoding: BufferEncoding | null = 'utf8',
): Promise<unknown> {
  const command = new Command(name, args, { replyEncoding });
  command.setTimeout(timeoutMs);
  void client.sendCommand(command);
  return command.promise;
}

/** The sockets replies arrive on: the one connection, or each Cluster node's. */
function socketsOf(client: RedisClient): NodeJS.EventEmitter[] {
  const nodes = client instanceof Cluster ? client.nodes() : [client];
  return nodes.flatMap((node) => (node.stream ? [node.stream] : []));
}

/** PTTL answers -1 (no TTL) or -2 (no key); a client with `stringNumbers` answers strings. */
function toTtl(pttl: unknown): number | null {
  const ms = Number(pttl);
  return Number.isFinite(ms) && ms >= 0 ? ms : null;
}

function ttlArgv(ttl: TtlPolicy): [string, string] {
  if (ttl.kind !== 'fixed') return [ttl.kind, ''];
  if (!Number.isSafeInteger(ttl.ttlMs) || ttl.ttlMs <= 0) {
    throw new RecoveryError(
      ErrorCode.InvalidInput,
      `TTL ${ttl.ttlMs} ms is not a positive whole number of milliseconds.`,
      'Use a positive TTL, or the `none` policy for no TTL.',
    );
  }
  return ['fixed', String(ttl.ttlMs)];
}

/** Resolves once the client can write to a socket; never enqueues a command. */
function whenReady(client: RedisClient, signal: AbortSignal): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  if (client.status === 'end') return Promise.reject(new Error('Connection is closed.'));
  return new Promise((resolve, reject) => {
    const done = (err?: Error) => {
      client.off('ready', onReady);
      client.off('end', onEnd);
      signal.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve();
    };
    const onReady = () => done();
    const onEnd = () => done(new Error('Connection is closed.'));
    const onAbort = () => done(new Error('aborted'));
    client.once('ready', onReady);
    client.once('end', onEnd);
    signal.addEventListener('abort', onAbort, { once: true });
    if (client.status === 'wait') client.connect().catch(() => {});
  });
}

async function scanNode(
  node: Redis,
  cursor: string,
  match: string,
  count: number,
  prefix: string,
): Promise<{ ids: string[]; cursor: string }> {
  const ids = new Set<string>();
  let next = cursor;
  for (let calls = 0; calls < MAX_SCAN_CALLS_PER_PAGE; calls++) {
    const [after, keys] = await node.scan(next, 'MATCH', match, 'COUNT', count);
    for (const k of keys) if (k.startsWith(prefix)) ids.add(k.slice(prefix.length));
    next = after;
    if (next === '0' || ids.size >= count) break;
  }
  return { ids: [...ids], cursor: next };
}

function parseNodeCursor(cursor: string): string {
  if (/^\d+$/.test(cursor)) return cursor;
  throw badCursor(cursor);
}

function badCursor(cursor: string): RecoveryError {
  return new RecoveryError(
    ErrorCode.InvalidInput,
    `List cursor "${cursor.slice(0, 60)}" is not one this bot handed out.`,
    'Pass the cursor from the previous page, or 0 to start from the beginning.',
  );
}

/**
 * SCAN is per node, so a Cluster listing walks every master in turn. The cursor names the
 * master by address rather than position, so a reordered node list cannot skip or repeat one.
 */
async function scanCluster(
  cluster: Cluster,
  cursor: string,
  match: string,
  count: number,
  prefix: string,
): Promise<ScanPage> {
  const masters = cluster
    .nodes('master')
    .map((node) => ({ node, addr: `${node.options.host}:${node.options.port}` }))
    .sort((a, b) => a.addr.localeCompare(b.addr));
  let index = 0;
  let nodeCursor = '0';
  if (cursor !== '0') {
    const decoded = decodeClusterCursor(cursor);
    index = masters.findIndex((m) => m.addr === decoded.node);
    if (index < 0) {
      throw new RecoveryError(
        ErrorCode.InvalidInput,
        `Redis master ${decoded.node} is no longer in the cluster, so this listing cannot continue.`,
        'Start the listing again from the beginning.',
      );
    }
    nodeCursor = decoded.cursor;
  }
  const ids: string[] = [];
  let current = masters[index];
  while (current && ids.length < count) {
    const page = await scanNode(current.node, nodeCursor, match, count - ids.length, prefix);
    ids.push(...page.ids);
    nodeCursor = page.cursor;
    if (nodeCursor === '0') {
      index++;
      current = masters[index];
    }
  }
  if (!current) return { ids, cursor: '0' };
  return {
    ids,
    cursor: Buffer.from(JSON.stringify({ node: current.addr, cursor: nodeCursor })).toString('base64url'),
  };
}

function decodeClusterCursor(cursor: string): { node: string; cursor: string } {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (value && typeof value === 'object' && 'node' in value && 'cursor' in value) {
      const { node, cursor: c } = value;
      if (typeof node === 'string' && typeof c === 'string' && /^\d+$/.test(c)) return { node, cursor: c };
    }
  } catch {
    // fall through: any undecodable cursor gets the same answer
  }
  throw badCursor(cursor);
}

function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** A reason a person can act on; the connection's own last error beats a generic wrapper. */
function describe(err: unknown, lastError: Error | undefined, timeoutMs: number): string {
  const network = describeNetworkError(err);
  if (network) return network;
  // A Cluster that cannot refresh its slot map carries the node's own error.
  const nodeError = (err as { lastNodeError?: unknown }).lastNodeError;
  if (nodeError instanceof Error)
    return `no cluster node answered (${describe(nodeError, undefined, timeoutMs)})`;
  const e = err as Partial<Error>;
  const message = (e.message ?? String(err)).replace(/\.$/, '');
  if (message === 'Command timed out') return `timed out after ${timeoutMs} ms`;
  const connectionLost =
    e.name === 'MaxRetriesPerRequestError' ||
    message === 'Connection is closed' ||
    message.startsWith("Stream isn't writeable");
  if (connectionLost)
    return lastError && lastError !== err ? describe(lastError, undefined, timeoutMs) : 'connection lost';
  if (e.name === 'ReplyError') return `Redis replied: ${message}`;
  return message;
}
