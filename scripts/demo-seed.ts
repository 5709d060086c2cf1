import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import type { Redis } from 'ioredis';
import type pg from 'pg';

/**
 * A believable support conversation, cycled to any length: what an on-call engineer sees when
 * they look inside a conversation should read like Zeus's real traffic, not `step 1 of …`.
 */
const SCRIPT: ReadonlyArray<{ role: string; agent?: string; content: string }> = [
  { role: 'user', content: 'My order #58213 says delivered but nothing arrived.' },
  {
    role: 'assistant',
    agent: 'zeus',
    content: 'Sorry about that — let me look up the delivery record for order #58213.',
  },
  {
    role: 'tool',
    agent: 'orders',
    content: '{"order":58213,"status":"delivered","carrier":"DPD","proof":"none"}',
  },
  {
    role: 'assistant',
    agent: 'zeus',
    content: 'The carrier marked it delivered without a photo. I can open a trace or send a replacement.',
  },
  { role: 'user', content: 'A replacement please, I need it before Friday.' },
  {
    role: 'assistant',
    agent: 'zeus',
    content: 'Done: replacement #58213-R ships today by express, arriving Thursday.',
  },
  { role: 'user', content: 'Great, and will I be charged twice?' },
  {
    role: 'assistant',
    agent: 'zeus',
    content: 'No — the replacement is free and the original charge stands once, as before.',
  },
];

/** A conversation as Zeus writes it, with a field the bot does not know (it must survive). */
export function demoConversation(
  id: string,
  steps: number,
  opts: { status?: string; ts0?: number } = {},
): string {
  const base = opts.ts0 ?? Date.parse('2026-11-23T02:40:00.000Z');
  return JSON.stringify({
    id,
    status: opts.status ?? 'active',
    zeus_meta: { shard: 7, model: 'zeus-2', trace_id: `tr-${id}` },
    steps: Array.from({ length: steps }, (_, i) => {
      const line = SCRIPT[i % SCRIPT.length] ?? { role: 'user', content: '…' };
      return {
        step: i + 1,
        role: line.role,
        ...(line.agent ? { agent: line.agent } : {}),
        content: line.content,
        ts: new Date(base + i * 4000).toISOString(),
      };
    }),
    checkpoint: Math.max(1, steps - 2),
    updated_at: new Date(base + steps * 4000).toISOString(),
  });
}

/** The conversations the demo seeds (and `npm run demo -- --clean` removes). */
export const DEMO_IDS: readonly string[] = ['c-healthy', 'c-lost', 'c-corrupt', 'c-archived', 'c-ahead'];

export interface DemoCase {
  id: string;
  story: string;
}

/**
 * The five situations the runbook deals with, one conversation each. Re-running puts every case
 * back as it was (the demo's restores are undone by reseeding).
 */
export async function seedDemo(t: {
  redis: Redis;
  keyPrefix: string;
  pool: pg.Pool;
  table: string;
  s3: S3Client;
  bucket: string;
  s3Prefix: string;
}): Promise<DemoCase[]> {
  await t.pool.query(
    `CREATE TABLE IF NOT EXISTS ${t.table} (id text primary key, state jsonb not null, updated_at timestamptz not null)`,
  );
  const put = {
    redis: (id: string, json: string) => t.redis.set(`${t.keyPrefix}${id}`, json, 'EX', 86_400),
    postgres: (id: string, json: string) =>
      t.pool.query(
        `INSERT INTO ${t.table} (id, state, updated_at) VALUES ($1, $2::jsonb, now())
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = now()`,
        [id, json],
      ),
    s3: (id: string, json: string) =>
      t.s3.send(new PutObjectCommand({ Bucket: t.bucket, Key: `${t.s3Prefix}${id}.json`, Body: json })),
  };
  const healthy = demoConversation('c-healthy', 6);
  await put.redis('c-healthy', healthy);
  await put.postgres('c-healthy', healthy);
  await put.s3('c-healthy', healthy);

  await t.redis.del(`${t.keyPrefix}c-lost`);
  await put.postgres('c-lost', demoConversation('c-lost', 8));
  await put.s3('c-lost', demoConversation('c-lost', 5));

  // Cut mid-write, as a crash during SET leaves it: not JSON at all.
  await put.redis('c-corrupt', `${demoConversation('c-corrupt', 7).slice(0, 180)}`);
  await put.postgres('c-corrupt', demoConversation('c-corrupt', 7));

  await t.redis.del(`${t.keyPrefix}c-archived`);
  await t.pool.query(`DELETE FROM ${t.table} WHERE id = 'c-archived'`);
  await put.s3('c-archived', demoConversation('c-archived', 12, { status: 'completed' }));

  await put.redis('c-ahead', demoConversation('c-ahead', 9));
  await put.postgres('c-ahead', demoConversation('c-ahead', 6));
  await put.s3('c-ahead', demoConversation('c-ahead', 4));

  return [
    { id: 'c-healthy', story: 'healthy: the same valid copy in all three tiers' },
    { id: 'c-lost', story: 'lost from Redis, still in Postgres (8 steps) and the archive (5 steps)' },
    { id: 'c-corrupt', story: 'corrupted in Redis (truncated JSON), good in Postgres' },
    { id: 'c-archived', story: 'archive-only: completed and evicted, only S3 has it' },
    { id: 'c-ahead', story: 'Redis ahead of Postgres (9 vs 6 steps): nothing to restore' },
  ];
}
