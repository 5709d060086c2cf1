import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compareAndSetMany } from '../../src/recovery/bulk/redis-batch.js';
import type { TtlPolicy } from '../../src/recovery/types.js';
import { createTestRedis, type TestRedis } from '../helpers/redis.js';

/** Bulk's direct compare-and-set: into an absent key (SET NX) and over a copy read (the script). */

let redis: TestRedis;

beforeAll(async () => {
  redis = await createTestRedis();
});
afterAll(async () => {
  await redis?.cleanup();
});

describe('compareAndSetMany', () => {
  it.each<[string, TtlPolicy]>([
    ['keep', { kind: 'keep' }],
    ['fixed', { kind: 'fixed', ttlMs: 600_000 }],
    ['none', { kind: 'none' }],
  ])(
    'TTL policy %s: writes only what is still as read, and never clobbers a key written meanwhile',
    async (name, ttl) => {
      const key = (id: string) => redis.key(`cas-${name}-${id}`);
      await redis.client.set(key('old'), 'old', 'PX', 300_000);
      await redis.client.set(key('moved'), 'zeus wrote this');
      // Read as absent, then written by Zeus before ours: must stay Zeus's.
      await redis.client.set(key('raced'), 'zeus wrote this');
      const out = await compareAndSetMany(
        redis.client,
        [
          { key: key('absent'), expected: null, next: Buffer.from('new-absent') },
          { key: key('old'), expected: Buffer.from('old'), next: Buffer.from('new-old') },
          { key: key('moved'), expected: Buffer.from('what was read'), next: Buffer.from('new-moved') },
          { key: key('raced'), expected: null, next: Buffer.from('new-raced') },
        ],
        ttl,
      );
      expect(out).toEqual([{ status: 'ok' }, { status: 'ok' }, { status: 'changed' }, { status: 'changed' }]);
      expect(await redis.client.mget(key('absent'), key('old'), key('moved'), key('raced'))).toEqual([
        'new-absent',
        'new-old',
        'zeus wrote this',
        'zeus wrote this',
      ]);
      const [absentTtl, oldTtl] = [
        await redis.client.pttl(key('absent')),
        await redis.client.pttl(key('old')),
      ];
      if (ttl.kind === 'fixed') {
        expect(absentTtl).toBeGreaterThan(500_000);
        expect(oldTtl).toBeGreaterThan(500_000);
      } else if (ttl.kind === 'keep') {
        expect(absentTtl).toBe(-1);
        expect(oldTtl).toBeGreaterThan(200_000);
        expect(oldTtl).toBeLessThanOrEqual(300_000);
      } else {
        expect([absentTtl, oldTtl]).toEqual([-1, -1]);
      }
    },
  );
});
