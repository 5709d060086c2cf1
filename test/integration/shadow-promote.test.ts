import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, RecoveryError } from '../../src/errors.js';
import { sha256Checksum } from '../../src/recovery/conversation.js';
import type { CoreDeps } from '../../src/recovery/deps.js';
import { type Actor, executeRestore, type RestoreStep } from '../../src/recovery/execute.js';
import { planRestore } from '../../src/recovery/plan.js';
import { createRedisClient, createRedisTier } from '../../src/recovery/tiers/redis.js';
import type { ActiveStore } from '../../src/recovery/types.js';
import type { Runtime } from '../../src/wiring.js';
import { makeConversation } from '../helpers/conversations.js';
import { startRedisCluster, type TestRedisCluster } from '../helpers/redis-cluster.js';
import { type Stack, startStack } from '../helpers/stack.js';

/**
 * A restore writes its value to a shadow key, validates it there and promotes it over the live
 * key in one script. What each refusal leaves: the live key as it was, and no shadow key.
 */

let stack: Stack;
let rt: Runtime;
let deps: CoreDeps;
let n = 0;
const actor: Actor = { id: 'cli:shadow-test', reason: 'shadow promote' };

beforeAll(async () => {
  stack = await startStack();
  rt = await stack.runtime({});
  deps = rt.deps;
}, 60_000);

afterAll(async () => {
  await stack?.stop();
});

async function shadowKeys(): Promise<string[]> {
  // This file's keys only: other files share the Redis.
  return stack.redis.client.keys(`{${stack.redis.prefix}*}:zeus-recover:shadow:*`);
}

/** Redis holds the 3-step copy with a TTL, Postgres the 7-step copy to restore. */
async function prepared(): Promise<{ id: string; key: string; old: Buffer }> {
  const id = `c-shadow${++n}`;
  await stack.seed('redis', id, makeConversation(id, 3), 3600);
  await stack.seed('postgres', id, makeConversation(id, 7));
  const key = stack.redis.key(id);
  const old = (await stack.redis.client.getBuffer(key)) as Buffer;
  return { id, key, old };
}

async function restoreWith(id: string, at: Partial<Record<RestoreStep, () => Promise<void>>>) {
  const plan = await planRestore(deps, id, { kind: 'tier', tier: 'postgres' });
  return executeRestore(deps, plan, actor, { onStep: async (step) => at[step]?.() });
}

async function failure(promise: Promise<unknown>): Promise<RecoveryError> {
  const err = await promise.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(RecoveryError);
  return err as RecoveryError;
}

async function lastOutcome(id: string): Promise<string | undefined> {
  const { rows } = await stack.db.pool.query<{ action: string }>(
    `SELECT action FROM zeus_recover.audit_log WHERE conversation_id = $1 ORDER BY seq DESC LIMIT 1`,
    [id],
  );
  return rows[0]?.action;
}

describe('shadow-key promote on one Redis', () => {
  it('validates the value in a shadow key beside the live one, then promotes it and leaves no shadow', async () => {
    const { id, key } = await prepared();
    const seen: Array<{ key: string; bytes: Buffer | null; ttl: number }> = [];
    const result = await restoreWith(id, {
      'shadow-check': async () => {
        for (const k of await shadowKeys()) {
          seen.push({
            key: k,
            bytes: await stack.redis.client.getBuffer(k),
            ttl: await stack.redis.client.pttl(k),
          });
        }
      },
    });
    expect(seen).toHaveLength(1);
    expect(seen[0]?.key.startsWith(`{${key}}:zeus-recover:shadow:`)).toBe(true);
    expect(sha256Checksum(seen[0]?.bytes ?? Buffer.alloc(0))).toBe(result.after);
    // A short TTL of its own: a crash between the shadow write and the promote leaves it briefly.
    expect(seen[0]?.ttl).toBeGreaterThan(0);
    expect(seen[0]?.ttl).toBeLessThanOrEqual(60_000);
    expect(result.validation?.valid).toBe(true);
    expect(sha256Checksum((await stack.redis.client.getBuffer(key)) as Buffer)).toBe(result.after);
    // The live key's TTL follows the policy (keep), not the shadow's short one.
    expect(await stack.redis.client.pttl(key)).toBeGreaterThan(60_000);
    expect(await shadowKeys()).toEqual([]);
  });

  it('a live key changed between the validation and the promote is left as it is, and the shadow removed', async () => {
    const { id, key } = await prepared();
    const zeus = Buffer.from(makeConversation(id, 4));
    const err = await failure(
      restoreWith(id, {
        write: async () => {
          expect(await shadowKeys()).toHaveLength(1);
          await stack.redis.client.set(key, zeus, 'KEEPTTL');
        },
      }),
    );
    expect(err.code).toBe(ErrorCode.Conflict);
    expect(err.message).toMatch(/Redis changed while the restore .* was refused and the shadow copy removed/);
    expect(err.hint).toMatch(/^Nothing was written/);
    expect((await stack.redis.client.getBuffer(key))?.equals(zeus)).toBe(true);
    expect(await shadowKeys()).toEqual([]);
    expect(await lastOutcome(id)).toBe('restore.failed');
  });

  it('a shadow copy that does not read back as planned fails validation: live untouched, shadow removed', async () => {
    const { id, key, old } = await prepared();
    const err = await failure(
      restoreWith(id, {
        'shadow-check': async () => {
          const [k] = await shadowKeys();
          // One byte different, as a bad write or a faulty node would leave it.
          const bytes = (await stack.redis.client.getBuffer(k ?? '')) as Buffer;
          bytes.writeUInt8((bytes.at(-2) ?? 0) ^ 0x01, bytes.length - 2);
          await stack.redis.client.set(k ?? '', bytes, 'KEEPTTL');
        },
      }),
    );
    expect(err.code).toBe(ErrorCode.ValidationFailed);
    expect(err.message).toMatch(/shadow copy of .* failed validation: it read back as sha256:/);
    expect(err.hint).toMatch(
      /^Nothing was written: the live key is untouched and the shadow copy was removed/,
    );
    expect((await stack.redis.client.getBuffer(key))?.equals(old)).toBe(true);
    expect(await shadowKeys()).toEqual([]);
    expect(await lastOutcome(id)).toBe('restore.failed');
  });

  it('a shadow gone or changed after its validation is not promoted', async () => {
    for (const change of ['delete', 'overwrite'] as const) {
      const { id, key, old } = await prepared();
      const err = await failure(
        restoreWith(id, {
          write: async () => {
            const [k] = await shadowKeys();
            if (change === 'delete') await stack.redis.client.del(k ?? '');
            else await stack.redis.client.set(k ?? '', makeConversation(id, 5), 'KEEPTTL');
          },
        }),
      );
      expect(err.code, change).toBe(ErrorCode.ValidationFailed);
      expect(err.message).toMatch(/validated shadow copy .* was gone or different/);
      expect(sha256Checksum((await stack.redis.client.getBuffer(key)) as Buffer)).toBe(sha256Checksum(old));
      expect(await shadowKeys()).toEqual([]);
    }
  });
});

describe('shadow keys on a 3-master Redis Cluster', () => {
  let cluster: TestRedisCluster;
  let client: Cluster;
  let tier: ActiveStore;
  const PREFIX = 'zeus:conversation:';

  beforeAll(async () => {
    cluster = await startRedisCluster(3);
    client = createRedisClient({ clusterNodes: cluster.nodes, timeoutMs: 2000 }) as Cluster;
    tier = createRedisTier({ client, keyPrefix: PREFIX, timeoutMs: 2000 });
  }, 60_000);

  afterAll(async () => {
    client?.disconnect();
    await cluster?.stop();
  }, 30_000);

  it('a shadow key hashes to its live key slot (CLUSTER KEYSLOT), tagged or not', async () => {
    const shadow = tier.shadow;
    if (!shadow) throw new Error('the Redis tier has no shadow writer');
    for (const id of ['c-1', 'c-2', 'a{tag}b', 'a{b', 'x{}y', '{}z', 'q}r']) {
      const live = `${PREFIX}${id}`;
      const shadowKey = shadow.keyFor(id, 'abc123');
      if (shadowKey === null) {
        // Only a key with no usable tag and a '}' in it: wrapping it would change its tag.
        expect(id).toMatch(/}/);
        continue;
      }
      expect(await client.cluster('KEYSLOT', shadowKey), `${live} / ${shadowKey}`).toBe(
        await client.cluster('KEYSLOT', live),
      );
    }
  });

  it('writes, reads, promotes and refuses on whichever master owns the key', async () => {
    const shadow = tier.shadow;
    if (!shadow) throw new Error('the Redis tier has no shadow writer');
    const old = Buffer.from('{"id":"x","steps":[]}');
    const next = Buffer.from('{"id":"x","steps":[{"step":1}]}');
    const { createHash } = await import('node:crypto');
    const sha1 = createHash('sha1').update(next).digest('hex');
    for (const id of ['sh-a', 'sh-b', 'sh-c', 'sh-d']) {
      await client.set(`${PREFIX}${id}`, old);
      await shadow.write(id, 't1', next, 60_000);
      expect((await shadow.read(id, 't1'))?.equals(next)).toBe(true);
      expect(await shadow.promote(id, 't1', old, sha1, { kind: 'none' })).toEqual({ ok: true, ttlMs: null });
      expect((await client.getBuffer(`${PREFIX}${id}`))?.equals(next)).toBe(true);
      expect(await shadow.read(id, 't1')).toBeNull();
      // Refused on a changed live key: the shadow goes, the live key stays.
      await shadow.write(id, 't2', old, 60_000);
      const oldSha1 = createHash('sha1').update(old).digest('hex');
      expect(await shadow.promote(id, 't2', old, oldSha1, { kind: 'none' })).toEqual({
        ok: false,
        reason: 'changed',
      });
      expect((await client.getBuffer(`${PREFIX}${id}`))?.equals(next)).toBe(true);
      expect(await shadow.read(id, 't2')).toBeNull();
    }
  });
});
