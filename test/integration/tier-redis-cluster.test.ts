import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, type RecoveryError } from '../../src/errors.js';
import { createRedisClient, createRedisTier } from '../../src/recovery/tiers/redis.js';
import type { ActiveStore } from '../../src/recovery/types.js';
import { startRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';

const PREFIX = 'zeus:conversation:';
const ORIGINAL = Buffer.from(
  '{ "id":"c-1",  "big":12345678901234567890, "zeta":1, "alpha":"ünïcødé ✓ 日本", "steps":[] }\n',
  'utf8',
);
const NEXT = Buffer.from('{"id":"c-1","steps":[]}', 'utf8');

let cluster: TestRedisCluster;
let client: Cluster;
let tier: ActiveStore;

beforeAll(async () => {
  // No skip: a machine that cannot run the cluster fails here with the servers' output.
  cluster = await startRedisCluster(3);
  client = createRedisClient({ clusterNodes: cluster.nodes, timeoutMs: 2000 }) as Cluster;
  tier = createRedisTier({ client, keyPrefix: PREFIX, timeoutMs: 2000 });
}, 60_000);

afterAll(async () => {
  client?.disconnect();
  await cluster?.stop();
}, 30_000);

describe('redis tier on a 3-master Cluster', () => {
  it('reads exact bytes and the TTL, and says missing for an absent key', async () => {
    await client.set(`${PREFIX}c-1`, ORIGINAL, 'PX', 600_000);
    const read = await tier.read('c-1');
    expect(read.status).toBe('found');
    if (read.status !== 'found') return;
    expect(read.bytes.equals(ORIGINAL)).toBe(true);
    expect(read.ttlMs).toBeGreaterThan(0);
    expect(await tier.read('c-nobody')).toEqual({ status: 'missing' });
    await expect(tier.ping()).resolves.toBeUndefined();
  });

  it('compare-and-set writes, refuses a changed value, and deletes, on whichever master owns the key', async () => {
    const ids = ['cas-a', 'cas-b', 'cas-c', 'cas-d', 'cas-e', 'cas-f'];
    for (const id of ids) {
      await client.set(`${PREFIX}${id}`, ORIGINAL);
      expect(await tier.compareAndSet(id, ORIGINAL, NEXT, { kind: 'fixed', ttlMs: 120_000 })).toEqual({
        ok: true,
        ttlMs: expect.any(Number),
      });
      expect((await client.getBuffer(`${PREFIX}${id}`))?.equals(NEXT)).toBe(true);
      expect(await tier.compareAndSet(id, ORIGINAL, ORIGINAL, { kind: 'none' })).toEqual({
        ok: false,
        reason: 'changed',
      });
      expect(await tier.compareAndSet(id, null, ORIGINAL, { kind: 'none' })).toEqual({
        ok: false,
        reason: 'changed',
      });
      expect(await tier.compareAndSet(id, NEXT, null, { kind: 'keep' })).toEqual({ ok: true, ttlMs: null });
      expect(await client.exists(`${PREFIX}${id}`)).toBe(0);
    }
  });

  it('scans every master: 30 ids spread over 3 nodes come back exactly once', async () => {
    const sub = `${PREFIX}scan:`;
    const ids = Array.from({ length: 30 }, (_, i) => `c-${String(i).padStart(2, '0')}`);
    for (const id of ids) await client.set(`${sub}${id}`, '{}');
    await client.set(`${sub}x-other`, '{}');
    const masters = client.nodes('master');
    expect(masters).toHaveLength(3);
    for (const node of masters) expect(await node.dbsize()).toBeGreaterThan(0);

    const scanTier = createRedisTier({ client, keyPrefix: sub, timeoutMs: 2000 });
    const found: string[] = [];
    let cursor = '0';
    let pages = 0;
    do {
      const page = await scanTier.scan('c-*', cursor, 4);
      found.push(...page.ids);
      cursor = page.cursor;
      pages++;
      expect(pages).toBeLessThan(1000);
    } while (cursor !== '0');
    expect(found.slice().sort()).toEqual(ids);
    expect(pages).toBeGreaterThan(3);
  });

  it('refuses a cursor it did not hand out, or one naming a node not in the cluster', async () => {
    const gone = Buffer.from(JSON.stringify({ node: '127.0.0.1:1', cursor: '5' })).toString('base64url');
    for (const cursor of ['garbage', '17:x', gone]) {
      const err = await tier.scan('*', cursor, 10).catch((e: unknown) => e);
      expect((err as RecoveryError).code).toBe(ErrorCode.InvalidInput);
    }
  });

  it('an unreachable cluster reads as unreachable within the timeout', async () => {
    const down = createRedisClient({ clusterNodes: ['127.0.0.1:1'], timeoutMs: 300 });
    try {
      const downTier = createRedisTier({ client: down, keyPrefix: PREFIX, timeoutMs: 300 });
      const started = Date.now();
      const read = await downTier.read('c-1');
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(read.status).toBe('unreachable');
      expect(read.status === 'unreachable' && read.reason.length).toBeGreaterThan(0);
    } finally {
      down.disconnect();
    }
  });
});
