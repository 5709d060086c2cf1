import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { createRedisClient, createRedisTier, type RedisClient } from '../../src/recovery/tiers/redis.js';
import type { ActiveStore } from '../../src/recovery/types.js';
import { recoveryError } from '../helpers/errors.js';
import { type FaultProxy, holding, startFaultProxy } from '../helpers/fault-proxy.js';
import { createTestRedis, type TestRedis } from '../helpers/redis.js';

/**
 * The compare-and-set through a proxy that loses or holds it: what the tier says afterwards
 * must match what Redis holds, and a write held past its deadline must never land.
 */

const OLD = Buffer.from('{"id":"c","steps":[1]}');
const NEW = Buffer.from('{"id":"c","steps":[1,2]}');
const TIMEOUT_MS = 1000;
/** The compare-and-set script (EVAL or EVALSHA), not the clock read before it. */
const CAS = holding('eval', '\r\nequal\r\n');

let redis: TestRedis;
let proxy: FaultProxy;
let client: RedisClient;
let tier: ActiveStore;
let n = 0;

beforeAll(async () => {
  redis = await createTestRedis();
  const port = Number(new URL(redis.url).port || 6379);
  proxy = await startFaultProxy({ port });
  client = createRedisClient({ url: `redis://${proxy.address}`, timeoutMs: TIMEOUT_MS });
  tier = createRedisTier({ client, keyPrefix: redis.prefix, timeoutMs: TIMEOUT_MS });
  // Loads both scripts into Redis, so the faults below meet EVALSHA and not a NOSCRIPT retry.
  await redis.client.set(redis.key('warm'), OLD);
  expect(await tier.compareAndSet('warm', OLD, NEW, { kind: 'none' })).toMatchObject({ ok: true });
});
afterEach(() => proxy.pass());
afterAll(async () => {
  client.disconnect();
  await proxy.stop();
  await redis.cleanup();
});

async function seeded(): Promise<string> {
  const id = `fence-${++n}`;
  await redis.client.set(redis.key(id), OLD);
  return id;
}

const held = async (id: string) => (await redis.client.getBuffer(redis.key(id)))?.toString();

describe('compare-and-set under faults', () => {
  it('reply lost after the write reached Redis: ambiguous, and Redis holds the new bytes', async () => {
    const id = await seeded();
    const armed = proxy.arm({ match: CAS, fault: 'cut-after' });
    const err = await recoveryError(tier.compareAndSet(id, OLD, NEW, { kind: 'none' }));
    expect(armed.hasFired).toBe(true);
    expect(err.code).toBe(ErrorCode.TierUnreachable);
    expect(err.details.ambiguous).toBe(true);
    expect(await held(id)).toBe(NEW.toString());
  });

  it('cut before the write left the proxy: ambiguous to the client, and Redis holds the old bytes', async () => {
    const id = await seeded();
    proxy.arm({ match: CAS, fault: 'cut-before' });
    const err = await recoveryError(tier.compareAndSet(id, OLD, NEW, { kind: 'none' }));
    expect(err.details.ambiguous).toBe(true);
    expect(await held(id)).toBe(OLD.toString());
  });

  it('a write held on the way past its deadline never lands, even after the call has given up', async () => {
    const id = await seeded();
    const armed = proxy.arm({ match: CAS, fault: { holdMs: TIMEOUT_MS * 3 } });
    const err = await recoveryError(tier.compareAndSet(id, OLD, NEW, { kind: 'none' }));
    expect(err.details.ambiguous).toBe(true);
    await armed.delivered;
    // The held script is on its way to Redis; give it the moment it needs to run.
    await new Promise((r) => setTimeout(r, 300));
    expect(await held(id)).toBe(OLD.toString());
    await expect.poll(async () => (await tier.read(id)).status, { timeout: 15_000 }).toBe('found');
  });

  it('a reply that never comes: ambiguous after the timeout, and the write (which landed) is in Redis', async () => {
    const id = await seeded();
    proxy.arm({ match: CAS, fault: 'drop-replies' });
    const err = await recoveryError(tier.compareAndSet(id, OLD, NEW, { kind: 'none' }));
    expect(err.details.ambiguous).toBe(true);
    expect(err.message).toMatch(/may or may not have been applied/);
    expect(await held(id)).toBe(NEW.toString());
    // The silent connection must not wedge the tier: the next call gets through on a new one.
    proxy.cutAll();
    await expect.poll(async () => (await tier.read(id)).status, { timeout: 15_000 }).toBe('found');
  });
});
