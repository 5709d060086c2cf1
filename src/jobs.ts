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
/**
 * The request sweep (expire due approvals, settle crashed runs, report bulk jobs left without a
 * worker): one tick at a time across every replica. See `runSweeps`.
 */
export const SWEEP_QUEUE = 'zeus-recover-sweep';
/**
 * App Home refreshes (views.publish): a job per person, and one "something changed" job that
 * queues one for everyone who looked lately. Keys coalesce them: `stately` keeps at most one
 * queued per key, so a burst of changes becomes one publish per person.
 */
export const HOME_QUEUE = 'zeus-recover-home';
/**
 * A running bulk job's progress beat: one job per bulk job (its id is the key, `stately`: at most
 * one queued and one active), each re-sending the next one interval ahead while the bulk job is
 * live. So the progress message moves between chunk ends, with any number of replicas.
 */
export const BULK_PROGRESS_QUEUE = 'bulk-restore-progress';
const HOME_FANOUT_KEY = 'all';
/** Between two people's refreshes in one fan-out: at most ~90 publishes a minute for the app. */
const HOME_PUBLISH_SPACING_MS = 667;

/** Every tick carries this key: the `stately` policy allows one queued and one active per key. */
const SWEEP_KEY = 'tick';
/**
 * The schedule that restarts a broken chain of ticks. pg-boss cron sends at most one job per
 * minute (one 60 s throttle slot per schedule, timekeeper.js OCCURRENCE_WINDOW_SECONDS), so it is
 * the backstop, not the beat.
 */
const SWEEP_BACKSTOP_CRON = '* * * * *';

export interface JobEngineOptions {
  connectionString: string;
  botSchema: string;
  /** How long a silent worker keeps its chunk before another takes it (pg-boss minimum: 10). */
  heartbeatSeconds?: number;
  /** How often this instance looks for jobs whose worker went silent. */
  superviseIntervalSeconds?: number;
  pollingIntervalSeconds?: number;
  /**
   * This process may run the sweep (the bot): pg-boss's cron runs here (`schedule: true`), which
   * forwards the backstop schedule's ticks. The CLI leaves it off.
   */
  sweeps?: boolean;
}

export interface SweepSchedule {
  /** Between two ticks (SWEEP_INTERVAL_MS); a tick is picked up within a polling interval after. */
  intervalMs: number;
  /** One sweep; a failure inside it is its own to report (the tick is done either way). */
  sweep: () => Promise<void>;
  /** A tick that could not queue the next one, or a sweep that threw. */
  onError: (err: unknown) => void;
}

export interface HomeRefreshWork {
  /** Who is shown changes (opened the Home tab lately). */
  viewers: () => Promise<string[]>;
  /** Builds and publishes one person's Home tab (skipping it when it would not change). */
  publish: (userId: string) => Promise<void>;
  /** A change is published at most this often per person (views.publish is rate-limited). */
  intervalMs: number;
}

export interface BulkProgressWork {
  /** BULK_PROGRESS_INTERVAL_MS: between two beats of one job. */
  intervalMs: number;
  /** Shows where the job stands; false once it needs no more beats (settled, or gone). */
  beat: (jobId: string) => Promise<boolean>;
}

export interface JobEngine {
  queue: ChunkQueue;
  /** Starts working chunks in this process until `stop`. */
  workBulkChunks(deps: BulkDeps, worker: string, concurrency?: number): Promise<void>;
  /**
   * Takes part in the sweep: every replica calls it, and each tick is run by exactly one of them.
   * Resolves once this process works ticks and has asked for one now (a restarted bot settles what
   * it left behind without waiting an interval).
   */
  runSweeps(schedule: SweepSchedule): Promise<void>;
  /**
   * How many pg-boss copies of the job's chunks are still to be worked (queued, waiting for a
   * retry, or held by a worker). None, with chunks unfinished, means no one will ever work them.
   */
  liveChunkCopies(jobId: string): Promise<number>;
  /** Works progress beats in this process (every replica may; each beat runs once). */
  runBulkProgress(work: BulkProgressWork): Promise<void>;
  /** Starts a job's beat (approved or resumed); a beat already queued for it stands. */
  bulkProgressStarted(jobId: string): Promise<void>;
  /** Works App Home refreshes in this process (every replica may; each job runs once). */
  runHomeRefresh(work: HomeRefreshWork): Promise<void>;
  /** Something App Home shows changed: refresh everyone who looked lately, coalesced. */
  homeChanged(): Promise<void>;
  /** Refresh one person's Home tab now (they opened it). */
  refreshHome(userId: string): Promise<void>;
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
    // The cron pass (one instance per pass, claimed in the database) forwards the sweep's backstop.
    schedule: options.sweeps === true,
    // Also how soon a killed worker's chunk or sweep tick, its heartbeat stopped, is handed on.
    superviseIntervalSeconds: options.superviseIntervalSeconds ?? 10,
    monitorIntervalSeconds: options.superviseIntervalSeconds ?? 10,
  });
  // Failures reach the caller per call; a background error (a lost connection during polling)
  // must not kill the process.
  boss.on('error', () => undefined);
  const ensureQueue = async (name: string, queue: Parameters<PgBoss['createQueue']>[1]) => {
    if (await boss.getQueue(name)) return;
    await boss.createQueue(name, queue).catch(async (err: unknown) => {
      // Another process created it at the same moment.
      if (!(await boss.getQueue(name))) throw err;
    });
  };
  try {
    await boss.start();
    await ensureQueue(BULK_CHUNK_QUEUE, {
      retryLimit: RETRY_LIMIT,
      retryDelay: 1,
      heartbeatSeconds: Math.max(10, options.heartbeatSeconds ?? 30),
      expireInSeconds: 3600,
    });
  } catch (err) {
    await boss.stop({ graceful: false }).catch(() => undefined);
    throw new RecoveryError(
      ErrorCode.TierUnreachable,
      `The job engine (pg-boss) could not start: ${errorMessage(err)}.`,
      'Check DATABASE_URL and that the bot may create the schema for its jobs, then retry.',
      { cause: err },
    );
  }
  // Until runHomeRefresh says otherwise (a replica that only sends changes uses the default).
  let homeDelaySeconds = 3;
  // Until runBulkProgress says otherwise (the CLI starts no beats).
  let beatSeconds = 5;
  const ensureProgressQueue = () =>
    ensureQueue(BULK_PROGRESS_QUEUE, {
      policy: 'stately',
      heartbeatSeconds: 10,
      expireInSeconds: 120,
      retryLimit: 5,
      retryDelay: 1,
      deleteAfterSeconds: 3600,
    });
  const sendBeat = (jobId: string) =>
    boss.send(BULK_PROGRESS_QUEUE, { jobId }, { singletonKey: jobId, startAfter: beatSeconds });
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
      // `concurrency` chunks fetched together and worked side by side. A worker that fetched one
      // job at a time would wait out the polling interval after every chunk (a chunk takes less),
      // which was most of a run; a full batch makes pg-boss fetch again at once (burst).
      const batchSize = Math.max(1, Math.floor(concurrency));
      await boss.work<{ jobId: string; chunk: number }>(
        BULK_CHUNK_QUEUE,
        {
          batchSize,
          burstWhenBatchFull: batchSize > 1,
          perJobResults: true,
          pollingIntervalSeconds: options.pollingIntervalSeconds ?? 0.5,
        },
        (jobs) =>
          Promise.all(
            jobs.map(async (job) => {
              try {
                await workChunk(deps, job.data.jobId, job.data.chunk, {
                  worker,
                  lastAttempt: job.retryCount >= RETRY_LIMIT,
                });
                return { id: job.id, status: 'completed' as const };
              } catch (err) {
                // A failure (ChunkBusy included: another worker holds the chunk) fails this chunk
                // alone; pg-boss retries it after the delay.
                return { id: job.id, status: 'failed' as const, output: { message: errorMessage(err) } };
              }
            }),
          ),
      );
    },
    async runSweeps(schedule) {
      await ensureQueue(SWEEP_QUEUE, {
        // One tick queued and one active per key (plans.js job_i3; the fetch skips a key whose
        // active slot is taken): never two sweeps at once, however many replicas poll.
        policy: 'stately',
        // A tick whose sweeper was killed is handed on after 10 s without a heartbeat (pg-boss's
        // minimum); one that could not queue its successor is retried, which queues it then.
        heartbeatSeconds: 10,
        expireInSeconds: 600,
        retryLimit: 20,
        retryDelay: 1,
        // Ticks are bookkeeping: an hour of them is enough to look at.
        deleteAfterSeconds: 3600,
      });
      const seconds = schedule.intervalMs / 1000;
      // A chain of ticks broken for longer than its retries (Postgres down for minutes, pg-boss's
      // rows lost) starts again from this schedule within a minute. While the chain is alive its
      // forwarded tick finds one queued and is dropped, or (sent while a tick runs, before that
      // tick queues its successor) stands in for the successor, one interval away like it.
      await boss.schedule(SWEEP_QUEUE, SWEEP_BACKSTOP_CRON, null, {
        singletonKey: SWEEP_KEY,
        startAfter: seconds,
      });
      await boss.work(
        SWEEP_QUEUE,
        {
          batchSize: 1,
          pollingIntervalSeconds: Math.min(2, Math.max(0.5, seconds / 4)),
        },
        async () => {
          // The next tick first, so a sweep that dies half-way leaves its successor queued. It
          // waits behind this one (stately) however long this sweep takes. A throw here (Postgres
          // unreachable) fails the tick, and pg-boss retries it: the chain is not dropped.
          await boss.send(SWEEP_QUEUE, null, { singletonKey: SWEEP_KEY, startAfter: seconds });
          try {
            await schedule.sweep();
          } catch (err) {
            schedule.onError(err);
          }
        },
      );
      // A (re)started replica sweeps now: the queued tick is pulled forward, or one is queued.
      await boss.upsert(SWEEP_QUEUE, null, { singletonKey: SWEEP_KEY, startAfter: 0 });
    },
    async liveChunkCopies(jobId) {
      const copies = await boss.findJobs<{ jobId: string }>(BULK_CHUNK_QUEUE, {
        data: { jobId },
        limit: 100_000,
      });
      return copies.filter((c) => c.state === 'created' || c.state === 'retry' || c.state === 'active')
        .length;
    },
    async runBulkProgress(work) {
      // A beat lands just after the claim's window opens again (workflow/bulk.ts CLAIM_GUARD_MS).
      beatSeconds = (work.intervalMs + 200) / 1000;
      await ensureProgressQueue();
      await boss.work<{ jobId: string }>(
        BULK_PROGRESS_QUEUE,
        { batchSize: 1, pollingIntervalSeconds: Math.min(2, Math.max(0.5, beatSeconds / 4)) },
        async ([job]) => {
          const jobId = job?.data?.jobId;
          if (!jobId) return;
          // The next beat after this one's edit: a throw (Postgres or Slack cut) fails this beat,
          // and pg-boss retries it, so the chain is not dropped while the job runs.
          if (await work.beat(jobId)) await sendBeat(jobId);
        },
      );
    },
    async bulkProgressStarted(jobId) {
      await ensureProgressQueue();
      await sendBeat(jobId);
    },
    async runHomeRefresh(work) {
      homeDelaySeconds = Math.max(1, Math.ceil(work.intervalMs / 1000));
      await ensureQueue(HOME_QUEUE, {
        policy: 'stately',
        retryLimit: 3,
        retryDelay: homeDelaySeconds,
        retryBackoff: true,
        expireInSeconds: 120,
        deleteAfterSeconds: 3600,
      });
      await boss.work<{ userId?: string }>(
        HOME_QUEUE,
        { batchSize: 1, pollingIntervalSeconds: 0.5 },
        async ([job]) => {
          const userId = job?.data?.userId;
          if (userId) return work.publish(userId);
          // Spaced so that however many people look, the app stays under views.publish's budget
          // (Tier 4, ~100 a minute for the whole app): a person whose refresh is still queued
          // gets no second one (stately), so a fan-out never runs ahead of the spacing.
          const viewers = await work.viewers();
          for (const [i, viewer] of viewers.entries()) {
            await boss.send(
              HOME_QUEUE,
              { userId: viewer },
              { singletonKey: `u:${viewer}`, startAfter: new Date(Date.now() + i * HOME_PUBLISH_SPACING_MS) },
            );
          }
        },
      );
    },
    async homeChanged() {
      // Queued a little ahead, so the changes of one click (a request moving, its thread reply) make one publish.
      await boss.send(HOME_QUEUE, {}, { singletonKey: HOME_FANOUT_KEY, startAfter: homeDelaySeconds });
    },
    async refreshHome(userId) {
      await boss.send(HOME_QUEUE, { userId }, { singletonKey: `u:${userId}` });
    },
    async stop() {
      await boss.stop({ graceful: true, timeout: 10_000 }).catch(() => undefined);
    },
  };
}
