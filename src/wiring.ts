import { readFile } from 'node:fs/promises';
import type { Config } from './config.js';
import type { JobEngine } from './jobs.js';
import { VerdictCache } from './recovery/bulk/decide.js';
import type { BulkDeps } from './recovery/bulk/preview.js';
import type { CoreDeps } from './recovery/deps.js';
import { compileIdPattern } from './recovery/ids.js';
import { createPgPool, createPostgresTier } from './recovery/tiers/postgres.js';
import { createRedisClient, createRedisTier } from './recovery/tiers/redis.js';
import { createS3Client, createS3Tier } from './recovery/tiers/s3.js';
import type { TtlPolicy } from './recovery/types.js';
import { createZeusClient } from './recovery/zeus-api.js';
import { createBulkStore } from './store/bulk-jobs.js';
import { createBotStore } from './store/index.js';
import { migrate } from './store/migrate.js';

export interface Runtime {
  deps: CoreDeps;
  /** Ordinary checkouts are refused as busy past its limits; see `runWithPriority`. */
  pool: ReturnType<typeof createPgPool>;
  redisClient: ReturnType<typeof createRedisClient>;
  close(): Promise<void>;
}

export function ttlPolicyFrom(config: Config): TtlPolicy {
  const { restoreTtlPolicy, restoreDefaultTtlSeconds } = config.policy;
  if (restoreTtlPolicy === 'none') return { kind: 'none' };
  if (restoreTtlPolicy === 'default') {
    return restoreDefaultTtlSeconds > 0
      ? { kind: 'fixed', ttlMs: restoreDefaultTtlSeconds * 1000 }
      : { kind: 'none' };
  }
  return { kind: 'keep' };
}

/**
 * The composition root: the only place that turns configuration into live clients. Faces call
 * this; the core receives what it builds.
 */
export async function createRuntime(
  config: Config,
  options: {
    migrate?: boolean;
    /** The bot under load: commands are refused as busy past their share of the pool. */
    shedLoad?: boolean;
  } = {},
): Promise<Runtime> {
  const pool = createPgPool(config.postgres.url, config.postgres.timeoutMs, {
    max: config.load.poolSize,
    gate: options.shedLoad
      ? {
          reserve: config.load.poolReserve,
          waitMs: config.load.poolWaitMs,
          // Beyond this many waiting, a wait would outlast its budget anyway: refuse at once.
          queueMax: config.load.poolSize * 4,
        }
      : // One operator at a terminal has nothing to shed: wait as long as Postgres's own timeout.
        { reserve: 0, waitMs: config.postgres.timeoutMs, queueMax: Number.POSITIVE_INFINITY },
  });
  const redisClient = createRedisClient({
    ...(config.redis.url ? { url: config.redis.url } : {}),
    ...(config.redis.clusterNodes ? { clusterNodes: config.redis.clusterNodes } : {}),
    timeoutMs: config.redis.timeoutMs,
  });
  const s3Client = createS3Client({
    region: config.s3.region,
    ...(config.s3.endpoint ? { endpoint: config.s3.endpoint } : {}),
    forcePathStyle: config.s3.forcePathStyle,
    checksumWhenRequired: config.s3.checksumWhenRequired,
    timeoutMs: config.s3.timeoutMs,
  });
  const close = async () => {
    s3Client.destroy();
    redisClient.disconnect();
    await pool.end().catch(() => undefined);
  };
  try {
    if (options.migrate !== false) await migrate(pool, config.postgres.botSchema);
  } catch (err) {
    await close();
    throw err;
  }
  const store = createBotStore(pool, config.postgres.botSchema);
  const backstop = (timeoutMs: number) => config.load.tierReadMaxMs + 2 * timeoutMs;
  const deps: CoreDeps = {
    redis: createRedisTier({
      client: redisClient,
      keyPrefix: config.redis.keyPrefix,
      timeoutMs: config.redis.timeoutMs,
      maxReadMs: config.load.tierReadMaxMs,
    }),
    postgres: createPostgresTier({
      pool,
      table: config.postgres.zeusTable,
      timeoutMs: config.postgres.timeoutMs,
      maxReadMs: config.load.tierReadMaxMs,
    }),
    s3: createS3Tier({
      client: s3Client,
      bucket: config.s3.bucket,
      prefix: config.s3.prefix,
      timeoutMs: config.s3.timeoutMs,
      maxReadMs: config.load.tierReadMaxMs,
    }),
    backups: store.backups,
    audit: store.audit,
    locks: store.locks,
    idPattern: compileIdPattern(config.policy.conversationIdPattern),
    // Each adapter bounds its own reads (silence by the tier's timeout, a big value by its size,
    // up to TIER_READ_MAX_MS); the core's own clock is only the backstop behind them.
    timeoutsMs: {
      redis: backstop(config.redis.timeoutMs),
      postgres: backstop(config.postgres.timeoutMs),
      s3: backstop(config.s3.timeoutMs),
    },
    ttlPolicy: ttlPolicyFrom(config),
    readFile: (path) => readFile(path),
    // loadConfig refuses ZEUS_API_URL without ZEUS_API_TOKEN, so both are set or neither is.
    ...(config.zeus.apiUrl && config.zeus.apiToken
      ? { zeus: createZeusClient({ baseUrl: config.zeus.apiUrl, token: config.zeus.apiToken }) }
      : {}),
  };
  return { deps, pool, redisClient, close };
}

/** The bulk restore's clients, on the runtime's own pool and Redis client. */
export function createBulkDeps(config: Config, rt: Runtime): BulkDeps {
  return {
    store: createBulkStore(rt.pool, config.postgres.botSchema, config.postgres.zeusTable),
    redis: rt.redisClient,
    keyPrefix: config.redis.keyPrefix,
    idPattern: rt.deps.idPattern,
    ttlPolicy: rt.deps.ttlPolicy,
    audit: rt.deps.audit,
    verdicts: new VerdictCache(),
  };
}

/**
 * The job engine (pg-boss) for the faces that run bulk jobs. Loaded on demand, so commands that
 * never run a job do not load pg-boss.
 */
export async function startBulkEngine(
  config: Config,
  options: { sweeps?: boolean } = {},
): Promise<JobEngine> {
  const { startJobEngine } = await import('./jobs.js');
  return startJobEngine({
    connectionString: config.postgres.url,
    botSchema: config.postgres.botSchema,
    sweeps: options.sweeps === true,
  });
}
