import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, RecoveryError } from '../../src/errors.js';
import { createRedisClient, createRedisTier, type RedisClient } from '../../src/recovery/tiers/redis.js';
import type { ActiveStore } from '../../src/recovery/types.js';
import { useBlackHole } from '../helpers/black-hole.js';
import { createTestRedis, type TestRedis } from '../helpers/redis.js';

// Unknown fields, odd key order, whitespace, non-ASCII and an integer beyond 2^53: all must
// survive byte for byte.
const ORIGINAL = Buffer.from(
  '{ "id":"c-1",  "big":12345678901234567890, "zeta":1, "alpha":"ünïcødé ✓ 日本",\n' +
    '  "x-unknown":{"nested":[1, 2.50, -0.0e0]}, "steps":[] }\n',
  'utf8',
);
const NEXT = Buffer.from('{"id":"c-1","status":"active","steps":[],"big":98765432109876543210}', 'utf8');

/** Generous "did not hang" bound; never a performance assertion. */
const NO_HANG_MS = 10_000;

let redis: TestRedis;
let client: RedisClient;
let tier: ActiveStore;

beforeAll(async () => {
  redis = await createTestRedis();
  client = createRedisClient({ url: redis.url, timeoutMs: 2000 });
  tier = createRedisTier({ client, keyPrefix: redis.prefix, timeoutMs: 2000 });
});

afterAll(async () => {
  client.disconnect();
  await redis.cleanup();
});

describe('redis tier: read', () => {
  it('returns the stored bytes exactly, with no TTL when the key has none', async () => {
    await redis.client.set(redis.key('c-1'), ORIGINAL);
    const read = await tier.read('c-1');
    expect(read.status).toBe('found');
    if (read.status !== 'found') return;
    expect(read.bytes.equals(ORIGINAL)).toBe(true);
    expect(read.ttlMs).toBeNull();
  });

  it('keeps bytes that are not valid UTF-8', async () => {
    const raw = Buffer.from([0x7b, 0xff, 0x00, 0xc3, 0x28, 0x7d]);
    await redis.client.set(redis.key('c-raw'), raw);
    const read = await tier.read('c-raw');
    expect(read.status === 'found' && read.bytes.equals(raw)).toBe(true);
  });

  it('reports the TTL in milliseconds', async () => {
    await redis.client.set(redis.key('c-ttl'), ORIGINAL, 'PX', 600_000);
    const read = await tier.read('c-ttl');
    expect(read.status).toBe('found');
    if (read.status !== 'found') return;
    expect(read.ttlMs).toBeGreaterThan(0);
    expect(read.ttlMs).toBeLessThanOrEqual(600_000);
  });

  it('says missing for an absent key', async () => {
    expect(await tier.read('c-nobody')).toEqual({ status: 'missing' });
  });

  it('names the key it reads', () => {
    expect(tier.locate('c-1')).toBe(`redis key ${redis.prefix}c-1`);
  });

  it('reports a non-string key as a reason, without throwing', async () => {
    await redis.client.hset(redis.key('c-hash'), 'a', '1');
    const read = await tier.read('c-hash');
    expect(read.status).toBe('unreachable');
    expect(read.status === 'unreachable' && read.reason).toMatch(/WRONGTYPE/);
  });

  it('answers ping', async () => {
    await expect(tier.ping()).resolves.toBeUndefined();
  });
});

describe('redis tier: compareAndSet', () => {
  it('replaces the value when it still matches, writing the exact bytes', async () => {
    await redis.client.set(redis.key('cas-1'), ORIGINAL);
    const result = await tier.compareAndSet('cas-1', ORIGINAL, NEXT, { kind: 'none' });
    expect(result).toEqual({ ok: true, ttlMs: null });
    expect((await redis.client.getBuffer(redis.key('cas-1')))?.equals(NEXT)).toBe(true);
  });

  it('refuses and writes nothing when the value changed', async () => {
    const changed = Buffer.from(`${ORIGINAL.toString('utf8')} `);
    await redis.client.set(redis.key('cas-2'), changed, 'PX', 600_000);
    const result = await tier.compareAndSet('cas-2', ORIGINAL, NEXT, { kind: 'none' });
    expect(result).toEqual({ ok: false, reason: 'changed' });
    expect((await redis.client.getBuffer(redis.key('cas-2')))?.equals(changed)).toBe(true);
    expect(await redis.client.pttl(redis.key('cas-2'))).toBeGreaterThan(0);
  });

  it.each([
    {
      title: 'refuses expected=null when the key exists',
      key: 'cas-3',
      stored: ORIGINAL,
      expected: null,
      next: NEXT,
      policy: 'none',
      ok: false,
      after: ORIGINAL,
    },
    {
      title: 'creates the key with expected=null when it does not exist',
      key: 'cas-4',
      stored: null,
      expected: null,
      next: NEXT,
      policy: 'none',
      ok: true,
      after: NEXT,
    },
    {
      title: 'refuses when the key was expected but is gone',
      key: 'cas-gone',
      stored: null,
      expected: ORIGINAL,
      next: NEXT,
      policy: 'none',
      ok: false,
      after: null,
    },
    {
      title: 'deletes the key when next is null',
      key: 'cas-5',
      stored: NEXT,
      expected: NEXT,
      next: null,
      policy: 'keep',
      ok: true,
      after: null,
    },
    {
      title: 'does not delete a key that changed',
      key: 'cas-6',
      stored: ORIGINAL,
      expected: NEXT,
      next: null,
      policy: 'keep',
      ok: false,
      after: ORIGINAL,
    },
  ] as const)('$title', async ({ key, stored, expected, next, policy, ok, after }) => {
    if (stored) await redis.client.set(redis.key(key), stored, 'PX', 600_000);
    expect(await tier.compareAndSet(key, expected, next, { kind: policy })).toEqual(
      ok ? { ok: true, ttlMs: null } : { ok: false, reason: 'changed' },
    );
    if (after) expect((await redis.client.getBuffer(redis.key(key)))?.equals(after)).toBe(true);
    else expect(await redis.client.exists(redis.key(key))).toBe(0);
  });

  it('throws a Conflict for a non-string key', async () => {
    await redis.client.hset(redis.key('cas-hash'), 'a', '1');
    const err = await tier
      .compareAndSet('cas-hash', ORIGINAL, NEXT, { kind: 'none' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecoveryError);
    expect((err as RecoveryError).code).toBe(ErrorCode.Conflict);
  });
});

describe('redis tier: TTL policies', () => {
  it('keep: keeps the TTL the key has', async () => {
    await redis.client.set(redis.key('ttl-keep'), ORIGINAL, 'PX', 600_000);
    const result = await tier.compareAndSet('ttl-keep', ORIGINAL, NEXT, { kind: 'keep' });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.ttlMs).toBeGreaterThan(0);
    expect(result.ttlMs).toBeLessThanOrEqual(600_000);
    const pttl = await redis.client.pttl(redis.key('ttl-keep'));
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(600_000);
  });

  it.each([
    { title: 'keep: no TTL when the key had none', key: 'ttl-keep-none', had: 'no TTL', policy: 'keep' },
    { title: 'keep: no TTL when the key did not exist', key: 'ttl-keep-new', had: 'nothing', policy: 'keep' },
    { title: 'none: removes an existing TTL', key: 'ttl-none', had: 'a TTL', policy: 'none' },
  ] as const)('$title', async ({ key, had, policy }) => {
    if (had === 'no TTL') await redis.client.set(redis.key(key), ORIGINAL);
    if (had === 'a TTL') await redis.client.set(redis.key(key), ORIGINAL, 'PX', 600_000);
    const expected = had === 'nothing' ? null : ORIGINAL;
    expect(await tier.compareAndSet(key, expected, NEXT, { kind: policy })).toEqual({
      ok: true,
      ttlMs: null,
    });
    expect(await redis.client.pttl(redis.key(key))).toBe(-1);
  });

  it('fixed: sets the given TTL', async () => {
    await redis.client.set(redis.key('ttl-fixed'), ORIGINAL);
    const result = await tier.compareAndSet('ttl-fixed', ORIGINAL, NEXT, { kind: 'fixed', ttlMs: 120_000 });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.ttlMs).toBeGreaterThan(60_000);
    expect(result.ttlMs).toBeLessThanOrEqual(120_000);
    expect(await redis.client.pttl(redis.key('ttl-fixed'))).toBeGreaterThan(60_000);
  });

  it('refuses a fixed TTL that is not a positive whole number, before writing', async () => {
    await redis.client.set(redis.key('ttl-bad'), ORIGINAL);
    for (const ttlMs of [0, -5, 1.5, Number.NaN]) {
      const err = await tier
        .compareAndSet('ttl-bad', ORIGINAL, NEXT, { kind: 'fixed', ttlMs })
        .catch((e) => e);
      expect((err as RecoveryError).code).toBe(ErrorCode.InvalidInput);
    }
    expect((await redis.client.getBuffer(redis.key('ttl-bad')))?.equals(ORIGINAL)).toBe(true);
  });
});

async function scanAll(store: ActiveStore, pattern: string, count: number) {
  const ids: string[] = [];
  let cursor = '0';
  let pages = 0;
  // SCAN visits the whole keyspace whatever MATCH says, and the test server is shared with other
  // files (and whatever a bench left there): bound the walk by its size, not by a fixed number.
  const limit = Math.ceil((await redis.client.dbsize()) / count) * 4 + 100;
  do {
    const page = await store.scan(pattern, cursor, count);
    ids.push(...page.ids);
    cursor = page.cursor;
    pages++;
    expect(pages).toBeLessThan(limit);
  } while (cursor !== '0');
  return { ids, pages };
}

describe('redis tier: scan', () => {
  it('pages through every matching id exactly once, with SCAN and never KEYS', async () => {
    const sub = `${redis.prefix}scan:`;
    const ids = Array.from({ length: 25 }, (_, i) => `c-${String(i).padStart(2, '0')}`);
    for (const id of ids) await redis.client.set(`${sub}${id}`, '{}');
    await redis.client.set(`${sub}x-other`, '{}');
    const scanTier = createRedisTier({ client, keyPrefix: sub, timeoutMs: 2000 });

    const monitor = await redis.client.monitor();
    const seen: string[][] = [];
    monitor.on('monitor', (_time: string, args: string[]) => seen.push(args));
    try {
      const { ids: found, pages } = await scanAll(scanTier, 'c-*', 4);
      expect(found.slice().sort()).toEqual(ids);
      expect(new Set(found).size).toBe(found.length);
      expect(pages).toBeGreaterThan(1);

      const marker = `scan-done-${redis.prefix}`;
      await redis.client.echo(marker);
      await expect.poll(() => seen.some((a) => a[1] === marker), { timeout: NO_HANG_MS }).toBe(true);
      const ours = seen.filter((a) => a.some((arg) => arg.includes(sub)));
      expect(ours.some((a) => a[0]?.toLowerCase() === 'scan')).toBe(true);
      expect(ours.some((a) => a[0]?.toLowerCase() === 'keys')).toBe(false);
    } finally {
      monitor.disconnect();
    }
  });

  it('matches the key prefix literally even when it contains glob characters', async () => {
    const weird = `${redis.prefix}we[i]rd*?:`;
    await redis.client.set(`${weird}c-1`, '{}');
    await redis.client.set(`${redis.prefix}weirdXX:c-2`, '{}');
    const weirdTier = createRedisTier({ client, keyPrefix: weird, timeoutMs: 2000 });
    expect((await scanAll(weirdTier, '*', 10)).ids).toEqual(['c-1']);
  });

  it('refuses a cursor it did not hand out', async () => {
    const err = await tier.scan('*', 'not-a-cursor', 10).catch((e: unknown) => e);
    expect((err as RecoveryError).code).toBe(ErrorCode.InvalidInput);
  });
});

describe('redis tier: unreachable server', () => {
  const blackHole = useBlackHole();

  it('a refused connection reads as unreachable with the address, and writes throw TierUnreachable', async () => {
    const down = createRedisClient({ url: 'redis://127.0.0.1:1', timeoutMs: 300 });
    const downTier = createRedisTier({ client: down, keyPrefix: 'zeus:conversation:', timeoutMs: 300 });
    try {
      const started = Date.now();
      const read = await downTier.read('c-1');
      expect(Date.now() - started).toBeLessThan(NO_HANG_MS);
      expect(read).toEqual({
        status: 'unreachable',
        reason: expect.stringMatching(/refused at 127\.0\.0\.1:1\b/),
      });

      for (const call of [
        () => downTier.compareAndSet('c-1', null, NEXT, { kind: 'none' }),
        () => downTier.scan('*', '0', 10),
        () => downTier.ping(),
      ]) {
        const err = await call().catch((e: unknown) => e);
        expect(err).toBeInstanceOf(RecoveryError);
        expect((err as RecoveryError).code).toBe(ErrorCode.TierUnreachable);
        expect((err as RecoveryError).hint).not.toBe('');
      }
    } finally {
      down.disconnect();
    }
  });

  it('a client built with ioredis defaults still gets an answer within the tier timeout', async () => {
    const plain = new Redis('redis://127.0.0.1:1', { lazyConnect: true });
    const plainTier = createRedisTier({ client: plain, keyPrefix: 'p:', timeoutMs: 300 });
    try {
      const read = await plainTier.read('c-1');
      expect(read.status).toBe('unreachable');
    } finally {
      plain.disconnect();
    }
  });

  it('a server that never answers reads as unreachable, not a hang', async () => {
    const { port } = blackHole;
    const hung = createRedisClient({ url: `redis://127.0.0.1:${port}`, timeoutMs: 300 });
    const hungTier = createRedisTier({ client: hung, keyPrefix: 'p:', timeoutMs: 300 });
    try {
      const started = Date.now();
      const read = await hungTier.read('c-1');
      expect(Date.now() - started).toBeLessThan(NO_HANG_MS);
      expect(read.status).toBe('unreachable');
      expect(read.status === 'unreachable' && read.reason).toMatch(/timed out|not connected/);
    } finally {
      hung.disconnect();
    }
  });
});
