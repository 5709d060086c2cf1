import { PgBoss } from 'pg-boss';
import { ErrorCode, errorMessage, RecoveryError } from './errors.js';
import { type ChunkQueue, workChunk } from './recovery/bulk/job.js';
import type { BulkDeps } from './recovery/bulk/preview.js';

/**
 * The job engine: pg-boss, installed in a schema of its own next to the bot's (`<BOT_DB_SCHEMA>_jobs`,
 * same database, same credentials). Its own schema because pg-boss migrates its tables itself and
 * names them generically (`job`, `queue`, `version`); kept apart, its upgrades can never touch the
 * bot's tables and the bot's numbered migrations never touch its own.
 *
 * pg-boss carries only "work chunk N of job J". It is at-least-once: a worker that stops
 * heartbeating has its chunk handed to another. What was approved and what happened to each
 * conversation is in the bot's schema (store/bulk-jobs.ts), so a chunk worked again finds it.
 */

export const BULK_CHUNK_QUEUE = 'bulk-restore-chunk';

export interface JobEngineOptions {
  connectionString: string;
  botSchema: string;
  /** How long a silent worker keeps its chunk before another takes it (pg-boss minimum: 10). */
  heartbeatSeconds?: number;
  /** How often this instance looks for jobs whose worker went silent. */
  superviseIntervalSeconds?: number;
  pollingIntervalSeconds?: number;
}

export interface JobEngine {
  queue: ChunkQueue;
  /** Starts working chunks in this process until `stop`. */
  workBulkChunks(deps: BulkDeps, worker: string, concurrency?: number): Promise<void>;
  stop(): Promise<void>;
}

/** Attempts per chunk: enough to outlast a Redis or Postgres failover and another worker's lock. */
const RETRY_LIMIT = 30;

export function jobSchema(botSchema: string): string {
  return `${botSchema}_jobs`;
}

export async function startJobEngine(options: JobEngineOptions): Promise<JobEngine> {
  const boss = new PgBoss({
    connectionString: options.connectionString,
    schema: jobSchema(options.botSchema),
    application_name: 'zeus-recover-jobs',
    max: 4,
    // Cron is not used yet: the sweeper moves onto pg-boss schedules in a later step.
    schedule: false,
    superviseIntervalSeconds: options.superviseIntervalSeconds ?? 30,
    monitorIntervalSeconds: options.superviseIntervalSeconds ?? 30,
  });
  // Failures reach the caller per call; a background error (a lost connection during polling)
  // must not kill the process.
  boss.on('error', () => undefined);
  try {
    await boss.start();
    if (!(await boss.getQueue(BULK_CHUNK_QUEUE))) {
      await boss
        .createQueue(BULK_CHUNK_QUEUE, {
          retryLimit: RETRY_LIMIT,
          retryDelay: 1,
          heartbeatSeconds: Math.max(10, options.heartbeatSeconds ?? 30),
          expireInSeconds: 3600,
        })
        .catch(async (err: unknown) => {
          // Another process created it at the same moment.
          if (!(await boss.getQueue(BULK_CHUNK_QUEUE))) throw err;
        });
    }
  } catch (err) {
    await boss.stop({ graceful: false }).catch(() => undefined);
    throw new RecoveryError(
      ErrorCode.TierUnreachable,
      `The job engine (pg-boss) could not start: ${errorMessage(err)}.`,
      'Check DATABASE_URL and that the bot may create the schema for its jobs, then retry.',
      { cause: err },
    );
  }
  return {
    queue: {
      async enqueue(jobId, chunks) {
        if (chunks.length === 0) return;
        await boss.insert(
          BULK_CHUNK_QUEUE,
          chunks.map((chunk) => ({ data: { jobId, chunk } })),
        );
      },
    },
    async workBulkChunks(deps, worker, concurrency = 1) {
      await boss.work<{ jobId: string; chunk: number }>(
        BULK_CHUNK_QUEUE,
        {
          batchSize: 1,
          localConcurrency: concurrency,
          pollingIntervalSeconds: options.pollingIntervalSeconds ?? 0.5,
        },
        async ([job]) => {
          if (!job) return;
          // A throw (ChunkBusy included: another worker holds the chunk) is retried after the delay.
          await workChunk(deps, job.data.jobId, job.data.chunk, {
            worker,
            lastAttempt: job.retryCount >= RETRY_LIMIT,
          });
        },
      );
    },
    async stop() {
      await boss.stop({ graceful: true, timeout: 10_000 }).catch(() => undefined);
    },
  };
}
