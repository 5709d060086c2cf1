/**
 * What the shadow-key path (bulk/shadow-batch.ts: write a shadow, read it back, promote it by
 * script) costs bulk restore per conversation, beside its pipelined compare-and-set (one script
 * per key that writes the new bytes directly). Only the Redis write stage is measured, in batches of bulk's
 * WRITE_BATCH, each batch pipelined as bulk sends it, over N conversations of about 8 KB, each
 * key holding an older copy. The whole-job cost is this stage's extra time per conversation over
 * a bulk run's time per conversation (docs/benchmarks.md). Reported, never asserted.
 *
 * `npm run bench`, or alone: `node --import tsx bench/bulk-shadow.ts [N]` (default 10,000).
 */
import { randomBytes } from 'node:crypto';
import { loadavg } from 'node:os';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import { compareAndSetMany } from '../src/recovery/bulk/redis-batch.js';
import { promoteMany } from '../src/recovery/bulk/shadow-batch.js';
import { makeConversation } from '../test/helpers/conversations.js';

const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
/** As src/recovery/bulk/job.ts. */
const WRITE_BATCH = 250;
const ROUNDS = 3;

interface Doc {
  key: string;
  old: Buffer;
  next: Buffer;
}

async function seedOld(redis: Redis, docs: Doc[]): Promise<void> {
  for (let i = 0; i < docs.length; i += 1000) {
    const p = redis.pipeline();
    for (const d of docs.slice(i, i + 1000)) p.set(d.key, d.old);
    await p.exec();
  }
}

async function viaCas(redis: Redis, docs: Doc[]): Promise<number> {
  let ok = 0;
  for (let i = 0; i < docs.length; i += WRITE_BATCH) {
    const batch = docs.slice(i, i + WRITE_BATCH);
    const out = await compareAndSetMany(
      redis,
      batch.map((d) => ({ key: d.key, expected: d.old, next: d.next })),
      { kind: 'keep' },
    );
    ok += out.filter((o) => o.status === 'ok').length;
  }
  return ok;
}

async function viaShadow(redis: Redis, docs: Doc[], tag: string): Promise<number> {
  let ok = 0;
  for (let i = 0; i < docs.length; i += WRITE_BATCH) {
    const batch = docs.slice(i, i + WRITE_BATCH);
    const out = await promoteMany(
      redis,
      batch.map((d) => ({ key: d.key, expected: d.old, next: d.next })),
      { kind: 'keep' },
      `${tag}-${i}`,
    );
    ok += out.filter((o) => o.status === 'ok').length;
  }
  return ok;
}

export async function benchBulkShadow(print: (line: string) => void, n = 10_000): Promise<void> {
  const redis = new Redis(REDIS_URL);
  const prefix = `zrbench:${randomBytes(4).toString('hex')}:conversation:`;
  const docs: Doc[] = Array.from({ length: n }, (_, i) => {
    const id = `c-shadow-${i}`;
    return {
      key: `${prefix}${id}`,
      old: Buffer.from(makeConversation(id, 70)),
      next: Buffer.from(makeConversation(id, 75)),
    };
  });
  const load = loadavg()[0]?.toFixed(1);
  const times = { cas: [] as number[], shadow: [] as number[] };
  try {
    // Alternated, so a burst of load on the shared machine falls on both paths alike.
    for (let round = 0; round < ROUNDS; round++) {
      for (const path of ['cas', 'shadow'] as const) {
        await seedOld(redis, docs);
        const t = performance.now();
        const ok = path === 'cas' ? await viaCas(redis, docs) : await viaShadow(redis, docs, `b${round}`);
        times[path].push(performance.now() - t);
        if (ok !== n) throw new Error(`${path}: ${ok} of ${n} written`);
      }
    }
  } finally {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', `*${prefix}*`, 'COUNT', 1000);
      if (keys.length > 0) await redis.del(...keys);
      cursor = next;
    } while (cursor !== '0');
    redis.disconnect();
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
  const cas = median(times.cas);
  const shadow = median(times.shadow);
  const bytes = docs.reduce((sum, d) => sum + d.next.length, 0);
  print(
    `\nBulk write stage, ${n} conversations of ${(bytes / n / 1024).toFixed(1)} KiB, median of ${ROUNDS} (load ${load}):\n`,
  );
  print(`| path | ms | conv/s | ms per conv |\n|---|--:|--:|--:|\n`);
  for (const [name, ms] of [
    ['pipelined compare-and-set (today)', cas],
    ['shadow write + read-back + promote', shadow],
  ] as const) {
    print(`| ${name} | ${ms.toFixed(0)} | ${((n / ms) * 1000).toFixed(0)} | ${(ms / n).toFixed(3)} |\n`);
  }
  print(
    `shadow / cas: ${(shadow / cas).toFixed(2)}×; extra per conversation: ${((shadow - cas) / n).toFixed(3)} ms\n`,
  );
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [first] = process.argv.slice(2);
  await benchBulkShadow((line) => process.stdout.write(line), first ? Number(first) : undefined);
}
