import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { promoteMany } from '../../src/recovery/bulk/shadow-batch.js';
import { createTestRedis, type TestRedis } from '../helpers/redis.js';

/** Bulk's writes through shadow keys: what each outcome leaves in the live and shadow keys. */

let redis: TestRedis;

beforeAll(async () => {
  redis = await createTestRedis();
});
afterAll(async () => {
  // Shadow keys start with '{', outside the prefix cleanup() removes.
  for (const k of await redis.client.keys(`{${redis.prefix}*`)) await redis.client.del(k);
  await redis?.cleanup();
});

const shadowsOf = (key: string) => redis.client.keys(`{${key}}:zeus-recover:shadow:*`);

describe('promoteMany', () => {
  it('promotes every validated shadow over a live key still as read, absent ones too, and leaves no shadow', async () => {
    const keys = ['a', 'b', 'c'].map((id) => redis.key(`bulk-ok-${id}`));
    await redis.client.set(keys[0] as string, 'old-a', 'PX', 600_000);
    await redis.client.set(keys[1] as string, 'old-b');
    const ops = [
      { key: keys[0] as string, expected: Buffer.from('old-a'), next: Buffer.from('new-a') },
      { key: keys[1] as string, expected: Buffer.from('old-b'), next: Buffer.from('new-b') },
      { key: keys[2] as string, expected: null, next: Buffer.from('new-c') },
    ];
    const seen: string[][] = [];
    const out = await promoteMany(redis.client, ops, { kind: 'keep' }, 't1', async (stage) => {
      if (stage === 'shadow-written') seen.push(...(await Promise.all(keys.map(shadowsOf))));
    });
    expect(out).toEqual([{ status: 'ok' }, { status: 'ok' }, { status: 'ok' }]);
    expect(seen.map((s) => s.length)).toEqual([1, 1, 1]);
    expect(await redis.client.mget(...keys)).toEqual(['new-a', 'new-b', 'new-c']);
    expect(await redis.client.pttl(keys[0] as string)).toBeGreaterThan(60_000);
    for (const k of keys) expect(await shadowsOf(k)).toEqual([]);
  });

  it('a live key changed after the read-back is refused (live as changed); a corrupted shadow fails validation (live untouched)', async () => {
    const changed = redis.key('bulk-changed');
    const corrupted = redis.key('bulk-corrupted');
    const fine = redis.key('bulk-fine');
    for (const k of [changed, corrupted, fine]) await redis.client.set(k, 'old');
    const ops = [changed, corrupted, fine].map((key) => ({
      key,
      expected: Buffer.from('old'),
      next: Buffer.from('new'),
    }));
    const out = await promoteMany(redis.client, ops, { kind: 'none' }, 't2', async (stage) => {
      if (stage === 'shadow-written') {
        const [s] = await shadowsOf(corrupted);
        await redis.client.set(s as string, 'nex', 'KEEPTTL');
      }
      if (stage === 'shadows-read') await redis.client.set(changed, 'zeus');
    });
    expect(out[0]).toEqual({ status: 'changed' });
    expect(out[1]).toMatchObject({
      status: 'error',
      reason: expect.stringMatching(/failed validation.*nothing written/),
    });
    expect(out[2]).toEqual({ status: 'ok' });
    expect(await redis.client.mget(changed, corrupted, fine)).toEqual(['zeus', 'old', 'new']);
    for (const k of [changed, corrupted, fine]) expect(await shadowsOf(k)).toEqual([]);
  });
});
