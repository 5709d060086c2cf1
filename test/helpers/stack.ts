import { loadConfig } from '../../src/config.js';
import { createRuntime, type Runtime } from '../../src/wiring.js';
import { createTestDatabase, createZeusTable, putZeusRow, type TestDatabase } from './pg.js';
import { createTestRedis, type TestRedis } from './redis.js';
import { startTestS3, type TestS3 } from './s3.js';

export interface Stack {
  env: Record<string, string>;
  db: TestDatabase;
  redis: TestRedis;
  s3: TestS3;
  /** Put a conversation into one tier exactly as given. */
  seed(
    tier: 'redis' | 'postgres' | 's3',
    id: string,
    json: string | Buffer,
    ttlSeconds?: number,
  ): Promise<void>;
  runtime(overrides?: Record<string, string>): Promise<Runtime>;
  stop(): Promise<void>;
}

/**
 * All three real tiers for one test file: its own Postgres database (with Zeus's table), its
 * own Redis key prefix and its own s3rver. `env` is what the CLI or the app would be given.
 */
export async function startStack(opts: { redisUrl?: string } = {}): Promise<Stack> {
  const [db, redis, s3] = await Promise.all([
    createTestDatabase(),
    createTestRedis(opts.redisUrl),
    startTestS3(),
  ]);
  await createZeusTable(db.pool);
  // The SDK's default credential chain reads these; s3rver accepts only this pair.
  process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
  process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
  const env: Record<string, string> = {
    REDIS_URL: redis.url,
    REDIS_KEY_PREFIX: redis.prefix,
    DATABASE_URL: db.url,
    S3_ENDPOINT: s3.endpoint,
    S3_BUCKET: s3.bucket,
    S3_PREFIX: 'archive/',
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'S3RVER',
    AWS_SECRET_ACCESS_KEY: 'S3RVER',
    LOG_LEVEL: 'silent',
  };
  const runtimes: Runtime[] = [];
  return {
    env,
    db,
    redis,
    s3,
    async seed(tier, id, json, ttlSeconds) {
      if (tier === 'redis') {
        if (ttlSeconds) await redis.client.set(redis.key(id), json, 'EX', ttlSeconds);
        else await redis.client.set(redis.key(id), json);
      } else if (tier === 'postgres') {
        await putZeusRow(db.pool, id, json);
      } else {
        await s3.put(`archive/${id}.json`, json);
      }
    },
    async runtime(overrides = {}) {
      const rt = await createRuntime(loadConfig({ ...env, ...overrides }, 'cli'));
      runtimes.push(rt);
      return rt;
    },
    async stop() {
      await Promise.all(runtimes.map((r) => r.close()));
      await Promise.allSettled([db.drop(), redis.cleanup(), s3.stop()]);
    },
  };
}
