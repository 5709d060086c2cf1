import { createHash } from 'node:crypto';
import { Cluster } from 'ioredis';
import { ErrorCode, errorMessage, RecoveryError } from '../../errors.js';
import type { RedisClient } from '../tiers/redis.js';
import type { TtlPolicy } from '../types.js';

/**
 * Many keys at once: reads and compare-and-sets sent as pipelines, one per node on a Cluster
 * (a pipeline must stay within one node). Each write is its own script on its own key, so it is
 * atomic, and one refused write never holds up the others.
 */

/**
 * Over a copy that was read. ARGV: sha1 of the expected bytes, next bytes, ttl kind
 * ('keep'|'fixed'|'none'), ttl ms. The expected value is compared by its SHA-1 (computed in
 * Redis), so a batch does not send every old value back over the wire. Into a key read as absent
 * the check is `SET … NX` (compareAndSetMany), no script.
 */
const BULK_CAS_LUA = `
local current = redis.call('GET', KEYS[1])
if (not current) or redis.sha1hex(current) ~= ARGV[1] then
  return 0
end
if ARGV[3] == 'keep' then
  redis.call('SET', KEYS[1], ARGV[2], 'KEEPTTL')
elseif ARGV[3] == 'fixed' then
  redis.call('SET', KEYS[1], ARGV[2], 'PX', ARGV[4])
else
  redis.call('SET', KEYS[1], ARGV[2])
end
return 1
`;
const BULK_CAS_COMMAND = 'zeusRecoverBulkCas';

export interface KeyRead {
  bytes: Buffer | null;
  ttlMs: number | null;
}

export interface CasOp {
  key: string;
  /** What was read: null when the key was absent. */
  expected: Buffer | null;
  next: Buffer;
}

/** ok: written; changed: Redis no longer held what was read; error: the command failed. */
export type CasOutcome = { status: 'ok' } | { status: 'changed' } | { status: 'error'; reason: string };

const digests = new WeakMap<Buffer, Buffer>();

/**
 * SHA-1 of a copy's exact bytes, taken once per Buffer: the verdict cache, the kept decisions
 * and the compare-and-set all ask for the same copy's.
 */
export function copyDigest(bytes: Buffer): Buffer {
  let digest = digests.get(bytes);
  if (digest === undefined) {
    digest = createHash('sha1').update(bytes).digest();
    digests.set(bytes, digest);
  }
  return digest;
}

/** The hex form Redis's `redis.sha1hex` gives, for the scripts. */
export function sha1(bytes: Buffer): string {
  return copyDigest(bytes).toString('hex');
}

/** Redis Cluster's key slot: CRC16 (XMODEM) of the key, or of its {hash tag}, mod 16384. */
export function keySlot(key: string): number {
  const open = key.indexOf('{');
  let part = key;
  if (open >= 0) {
    const close = key.indexOf('}', open + 1);
    if (close > open + 1) part = key.slice(open + 1, close);
  }
  let crc = 0;
  for (const byte of Buffer.from(part, 'utf8')) {
    crc ^= byte << 8;
    for (let i = 0; i < 8; i++) crc = crc & 0x8000 ? ((crc << 1) ^ 0x1021) & 0xffff : (crc << 1) & 0xffff;
  }
  return crc % 16384;
}

/** A Cluster's slot map arrives with 'ready'; grouping by node needs it. */
export async function slotsKnown(client: RedisClient): Promise<void> {
  if (!(client instanceof Cluster) || client.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      reject(new Error('Redis Cluster not ready (its slot map is unknown)'));
    }, 10_000);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    client.once('ready', onReady);
  });
}

/** Indexes of `keys` grouped by the node that serves them (one group on a single Redis). */
export function groupByNode(client: RedisClient, keys: readonly string[]): number[][] {
  if (!(client instanceof Cluster)) return [keys.map((_, i) => i)];
  const groups = new Map<string, number[]>();
  keys.forEach((key, i) => {
    const node = client.slots[keySlot(key)]?.[0] ?? 'unknown';
    const group = groups.get(node);
    if (group) group.push(i);
    else groups.set(node, [i]);
  });
  return [...groups.values()];
}

function ttlArgs(ttl: TtlPolicy): [string, string] {
  return ttl.kind === 'fixed' ? ['fixed', String(ttl.ttlMs)] : [ttl.kind, ''];
}

function pttlValue(pttl: unknown): number | null {
  const ms = Number(pttl);
  return Number.isFinite(ms) && ms >= 0 ? ms : null;
}

/**
 * GET and PTTL of every key, pipelined per node. A failed node fails the batch (it is retried).
 * `ttl: false` (the preview, which writes nothing) sends GET alone; `ttlMs` is then null.
 */
export async function readKeys(
  client: RedisClient,
  keys: readonly string[],
  options: { ttl: boolean } = { ttl: true },
): Promise<KeyRead[]> {
  const per = options.ttl ? 2 : 1;
  await slotsKnown(client);
  const out: KeyRead[] = new Array(keys.length);
  await Promise.all(
    groupByNode(client, keys).map(async (group) => {
      const pipeline = client.pipeline();
      for (const i of group) {
        const key = keys[i] as string;
        pipeline.getBuffer(key);
        if (options.ttl) pipeline.pttl(key);
      }
      const replies = await pipeline.exec();
      if (!replies) throw new Error('Redis pipeline aborted');
      group.forEach((index, n) => {
        const [getErr, value] = replies[per * n] ?? [];
        const [ttlErr, ttl] = options.ttl ? (replies[per * n + 1] ?? []) : [null, null];
        if (getErr || ttlErr)
          throw new Error(`Redis read of ${keys[index]} failed: ${errorMessage(getErr ?? ttlErr)}`);
        out[index] = { bytes: (value as Buffer | null) ?? null, ttlMs: options.ttl ? pttlValue(ttl) : null };
      });
    }),
  );
  return out;
}

type WithBulkCas = {
  [BULK_CAS_COMMAND]: (key: string, ...argv: Array<string | Buffer>) => unknown;
};

/** One compare-and-set per op, pipelined per node; each op gets its own outcome. */
export async function compareAndSetMany(
  client: RedisClient,
  ops: readonly CasOp[],
  ttl: TtlPolicy,
): Promise<CasOutcome[]> {
  if (!(BULK_CAS_COMMAND in client)) {
    client.defineCommand(BULK_CAS_COMMAND, { numberOfKeys: 1, lua: BULK_CAS_LUA });
  }
  await slotsKnown(client);
  const [ttlKind, ttlMs] = ttlArgs(ttl);
  const out: CasOutcome[] = new Array(ops.length);
  const keys = ops.map((op) => op.key);
  await Promise.all(
    groupByNode(client, keys).map(async (group) => {
      const pipeline = client.pipeline();
      const scripted = pipeline as unknown as WithBulkCas;
      for (const i of group) {
        const op = ops[i] as CasOp;
        if (op.expected === null) {
          // Into an absent key, SET NX is the compare-and-set itself, without a script (the
          // common case after a Redis loss); a missing key has no TTL to keep.
          if (ttl.kind === 'fixed') pipeline.set(op.key, op.next, 'PX', ttl.ttlMs, 'NX');
          else pipeline.set(op.key, op.next, 'NX');
          continue;
        }
        scripted[BULK_CAS_COMMAND](op.key, sha1(op.expected), op.next, ttlKind, ttlMs);
      }
      let replies: Array<[Error | null, unknown]> | null;
      try {
        replies = await pipeline.exec();
      } catch (err) {
        for (const i of group) out[i] = { status: 'error', reason: errorMessage(err) };
        return;
      }
      group.forEach((index, n) => {
        const [err, reply] = replies?.[n] ?? [new Error('no reply'), null];
        // The script answers 1 or 0; SET NX answers OK or nil.
        out[index] = err
          ? { status: 'error', reason: errorMessage(err) }
          : Number(reply) === 1 || reply === 'OK'
            ? { status: 'ok' }
            : { status: 'changed' };
      });
    }),
  );
  return out;
}

export interface MemoryInfo {
  usedBytes: number;
  /** 0: no limit set. */
  maxBytes: number;
  policies: string[];
  nodes: number;
}

function infoField(info: string, name: string): string | null {
  const match = new RegExp(`^${name}:(.*)$`, 'm').exec(info);
  return match?.[1]?.trim() ?? null;
}

/** INFO memory of the node, or summed over a Cluster's masters (a master without a limit makes it none). */
export async function memoryInfo(client: RedisClient): Promise<MemoryInfo> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  try {
    const infos = await Promise.all(nodes.map((node) => node.info('memory')));
    let used = 0;
    let max = 0;
    let unlimited = false;
    const policies = new Set<string>();
    for (const info of infos) {
      used += Number(infoField(info, 'used_memory') ?? 0);
      const m = Number(infoField(info, 'maxmemory') ?? 0);
      if (m === 0) unlimited = true;
      max += m;
      policies.add(infoField(info, 'maxmemory_policy') ?? 'unknown');
    }
    return { usedBytes: used, maxBytes: unlimited ? 0 : max, policies: [...policies], nodes: infos.length };
  } catch (err) {
    throw new RecoveryError(
      ErrorCode.TierUnreachable,
      `Redis did not answer INFO memory: ${errorMessage(err)}.`,
      'Nothing was written. Check that Redis is up (REDIS_URL / REDIS_CLUSTER_NODES), then retry.',
      { cause: err },
    );
  }
}
