import { Cluster, Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type JobEngine, startJobEngine } from '../../src/jobs.js';
import { VerdictCache } from '../../src/recovery/bulk/decide.js';
import {
  ChunkBusy,
  cancelBulkJob,
  jobStatus,
  resumeBulkJob,
  startBulkRestore,
  workChunk,
} from '../../src/recovery/bulk/job.js';
import type { BulkDeps } from '../../src/recovery/bulk/preview.js';
import { parseSelection } from '../../src/recovery/bulk/selection.js';
import { compileIdPattern, DEFAULT_ID_PATTERN } from '../../src/recovery/ids.js';
import { createPgPool } from '../../src/recovery/tiers/postgres.js';
import { createAuditLog } from '../../src/store/audit.js';
import { createBulkStore } from '../../src/store/bulk-jobs.js';
import { migrate } from '../../src/store/migrate.js';
import {
  cliBulkJobUnderWay,
  countWrites,
  expectEachRestoredOnce,
  mixedCounts,
  seedMixed,
} from '../helpers/bulk.js';
import { cli } from '../helpers/cli.js';
import { makeConversation } from '../helpers/conversations.js';
import { eventually } from '../helpers/eventually.js';
import { holding, startFaultProxyFor, throughProxy } from '../helpers/fault-proxy.js';
import { startRedisCluster } from '../helpers/redis-cluster.js';
import { startPrivateRedis } from '../helpers/redis-server.js';
import { type Stack, startStack } from '../helpers/stack.js';

const SCHEMA = 'zeus_recover';
const actor = { id: 'test:sre', reason: 'bulk test' };
let stack: Stack;
const engines: JobEngine[] = [];
const clients: Array<Redis | Cluster> = [];

beforeAll(async () => {
  stack = await startStack();
  await migrate(stack.db.pool, SCHEMA);
}, 60_000);
// A worker works whatever chunk is queued, with its own Redis and prefix: one test's workers
// must not take the next test's chunks (in production every replica has the same configuration).
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop()));
});
afterAll(async () => {
  for (const c of clients) c.disconnect();
  await stack.stop();
});

function deps(redis: Redis | Cluster = stack.redis.client, keyPrefix = stack.redis.prefix): BulkDeps {
  return {
    store: createBulkStore(stack.db.pool, SCHEMA, 'conversations'),
    redis,
    keyPrefix,
    idPattern: compileIdPattern(DEFAULT_ID_PATTERN),
    ttlPolicy: { kind: 'keep' },
    audit: createAuditLog(stack.db.pool, SCHEMA),
  };
}

/** The first one creates the queue, with the shortest heartbeat pg-boss allows (for the takeover test). */
async function engine(): Promise<JobEngine> {
  const e = await startJobEngine({
    connectionString: stack.db.url,
    botSchema: SCHEMA,
    superviseIntervalSeconds: 1,
    heartbeatSeconds: 10,
  });
  engines.push(e);
  return e;
}

async function until<T>(
  what: string,
  probe: () => Promise<T>,
  ok: (v: T) => boolean,
  ms = 60_000,
): Promise<T> {
  return eventually(
    async () => {
      const v = await probe();
      return ok(v) ? { v } : undefined;
    },
    what,
    ms,
    100,
  ).then((r) => r.v);
}

const finished = (d: BulkDeps, jobId: string) =>
  until(
    `job ${jobId} to end`,
    () => jobStatus(d, jobId),
    (s) => ['succeeded', 'failed', 'cancelled'].includes(s.state),
  );

/** The window the seeded rows are in, and only those whose id matches. */
const selectionOf = (match: string) => parseSelection({ since: '1h', match }, new Date());

describe('bulk restore jobs (core on pg-boss, real Postgres and Redis)', () => {
  it('skips as changed a conversation Zeus rewrites between the read and the write, and backs up nothing for it', async () => {
    const mixed = await seedMixed(stack.db.pool, stack.redis.client, stack.redis.key, 500, 'c-mid');
    const writer = new Redis(stack.redis.url);
    clients.push(writer);
    const zeusValues = new Map<string, string>();
    for (const id of [...mixed.ids.absent.slice(0, 3), ...mixed.ids.older.slice(0, 3)]) {
      zeusValues.set(stack.redis.key(id), makeConversation(id, 9));
    }
    let armed = false;
    // The real client; after a read pipeline returns, "Zeus" writes some of the keys it read.
    const base = stack.redis.client;
    const redis = new Proxy(base, {
      get(target, prop) {
        if (prop === 'pipeline') {
          return () => {
            const pipeline = target.pipeline();
            const keys: string[] = [];
            const getBuffer = pipeline.getBuffer.bind(pipeline);
            pipeline.getBuffer = ((key: string) => {
              keys.push(key);
              return getBuffer(key);
            }) as typeof pipeline.getBuffer;
            const exec = pipeline.exec.bind(pipeline);
            pipeline.exec = (async () => {
              const replies = await exec();
              if (armed) {
                for (const key of keys) {
                  const value = zeusValues.get(key);
                  if (value !== undefined) await writer.set(key, value);
                }
              }
              return replies;
            }) as typeof pipeline.exec;
            return pipeline;
          };
        }
        const value = Reflect.get(target, prop, target);
        return typeof value === 'function' ? value.bind(target) : value;
      },
    });
    const d = deps(redis);
    const e = await engine();
    const { jobId } = await startBulkRestore(
      d,
      selectionOf('c-mid-*'),
      { overwrite: false, maxRate: null },
      actor,
      e.queue,
    );
    armed = true;
    await e.workBulkChunks(d, 'test-worker');
    const status = await finished(d, jobId);
    expect(status.state).toBe('succeeded');
    expect(status.counts).toEqual({
      restored: 194,
      identical: 100,
      newer: 100,
      changed: 6,
      invalid: 100,
      failed: 0,
    });
    for (const [key, value] of zeusValues) expect(await base.get(key)).toBe(value);
    const items = await stack.db.pool.query<{ conversation_id: string; backup_id: string | null }>(
      `SELECT conversation_id, backup_id FROM ${SCHEMA}.bulk_job_items WHERE job_id = $1 AND outcome = 'changed'`,
      [jobId],
    );
    expect(items.rows.map((r) => stack.redis.key(r.conversation_id)).sort()).toEqual(
      [...zeusValues.keys()].sort(),
    );
    const backups = await stack.db.pool.query<{ conversation_id: string }>(
      `SELECT conversation_id FROM ${SCHEMA}.backups WHERE request_id = $1`,
      [jobId],
    );
    // Only the 97 older copies that were overwritten; none for the 3 Zeus rewrote.
    expect(backups.rows).toHaveLength(97);
    expect(backups.rows.map((r) => r.conversation_id)).not.toContain(mixed.ids.older[0]);
  }, 60_000);

  it('a worker that did not preview takes the kept decision for every copy unchanged since, and analyses only the changed ones', async () => {
    const mixed = await seedMixed(stack.db.pool, stack.redis.client, stack.redis.key, 100, 'c-kept');
    const e = await engine();
    const { jobId } = await startBulkRestore(
      deps(),
      selectionOf('c-kept-*'),
      { overwrite: false, maxRate: null },
      actor,
      e.queue,
    );
    // After the freeze: Zeus mends an invalid source, and a newer Redis copy gets broken.
    const mended = mixed.ids.invalid[0] as string;
    const mendedDoc = makeConversation(mended, 5);
    await stack.db.pool.query('UPDATE conversations SET state = $2::jsonb WHERE id = $1', [
      mended,
      mendedDoc,
    ]);
    const broken = mixed.ids.newer[0] as string;
    await stack.redis.client.set(stack.redis.key(broken), '{"broken"');
    // Another replica: its own cache, empty, records every copy it has to analyse.
    const cache = new VerdictCache();
    const replica: BulkDeps = { ...deps(), verdicts: cache };
    await e.workBulkChunks(replica, 'replica');
    const status = await finished(replica, jobId);
    expect(status.counts).toEqual({
      restored: 42,
      identical: 20,
      newer: 19,
      changed: 0,
      invalid: 19,
      failed: 0,
    });
    // The mended source (1 copy) and the broken Redis copy beside its source (2): nothing else.
    expect(cache.size).toBe(3);
    const written = (await stack.redis.client.get(stack.redis.key(mended))) as string;
    expect(JSON.parse(written)).toEqual(JSON.parse(mendedDoc));
    expect(await stack.redis.client.get(stack.redis.key(broken))).not.toBe('{"broken"');
  }, 60_000);

  it('analyses the items table at each freeze, so the chunks update their items by key however large the job', async () => {
    await seedMixed(stack.db.pool, stack.redis.client, stack.redis.key, 50, 'c-stats');
    const analyses = async () =>
      Number(
        (
          await stack.db.pool.query<{ n: string }>(
            `SELECT analyze_count AS n FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = 'bulk_job_items'`,
            [SCHEMA],
          )
        ).rows[0]?.n ?? 0,
      );
    const before = await analyses();
    const e = await engine();
    await startBulkRestore(
      deps(),
      selectionOf('c-stats-*'),
      { overwrite: false, maxRate: null },
      actor,
      e.queue,
    );
    // Cumulative statistics reach the view shortly after the transaction ends.
    await eventually(async () => (await analyses()) > before, 'the freeze to ANALYZE bulk_job_items');
  }, 60_000);

  it('cancels between chunks, reports it, and resumes from where it stopped: every conversation written once', async () => {
    const mixed = await seedMixed(stack.db.pool, stack.redis.client, stack.redis.key, 2000, 'c-cancel');
    const writes = await countWrites(stack.redis.url, `${stack.redis.prefix}c-cancel-`);
    try {
      const d = deps();
      const e = await engine();
      // 100 conv/s per worker: a 500-id chunk takes 5 s, and the first outcomes come after 1 s,
      // so the cancel lands while the first two chunks are worked, however slow the machine.
      const { jobId, chunks } = await startBulkRestore(
        d,
        selectionOf('c-cancel-*'),
        { overwrite: false, maxRate: 100 },
        actor,
        e.queue,
      );
      expect(chunks).toBe(4);
      await e.workBulkChunks(d, 'worker-a');
      await until(
        'a first conversation done',
        () => jobStatus(d, jobId),
        (s) => s.done > 0,
      );
      const cancelling = await cancelBulkJob(d, jobId, actor);
      expect(['cancelling', 'cancelled']).toContain(cancelling.state);
      const cancelled = await finished(d, jobId);
      expect(cancelled.state).toBe('cancelled');
      expect(cancelled.done).toBeLessThan(2000);
      // Stopped within one chunk: whole chunks only, the one being worked finished.
      expect(cancelled.done % 500).toBe(0);
      const chunkStates = await stack.db.pool.query<{ state: string; n: number }>(
        `SELECT state, count(*)::int AS n FROM ${SCHEMA}.bulk_job_chunks WHERE job_id = $1 GROUP BY state`,
        [jobId],
      );
      expect(Object.fromEntries(chunkStates.rows.map((r) => [r.state, r.n])).cancelled).toBeGreaterThan(0);

      await resumeBulkJob(d, jobId, actor, e.queue);
      const done = await finished(d, jobId);
      expect(done.state).toBe('succeeded');
      expect(done.counts).toEqual(mixedCounts(2000));
      expectEachRestoredOnce(writes, mixed, stack.redis.key);

      const audit = await stack.db.pool.query<{ action: string }>(
        `SELECT action FROM ${SCHEMA}.audit_log WHERE data LIKE $1 ORDER BY seq`,
        [`%${jobId}%`],
      );
      const actions = audit.rows.map((r) => r.action);
      expect(actions).toContain('bulk.cancel_requested');
      expect(actions).toContain('bulk.resumed');
      expect(actions.filter((a) => a === 'bulk.finished')).toHaveLength(2);
    } finally {
      writes.stop();
    }
  }, 90_000);

  it.each([
    ['never arrives', 'cut-before'],
    ['arrives and its reply is lost', 'cut-after'],
  ] as const)(
    'a chunk whose statement after its first writes %s: the next attempt counts them restored and sends none again',
    async (_what, fault) => {
      // 500 ids: one chunk of two batches; the first batch's 100 absent and older copies are written.
      const prefix = `c-sent-${fault}`;
      const mixed = await seedMixed(stack.db.pool, stack.redis.client, stack.redis.key, 500, prefix);
      const writes = await countWrites(stack.redis.url, `${stack.redis.prefix}${prefix}-`);
      const proxy = await startFaultProxyFor(stack.env.DATABASE_URL ?? '', 5432);
      // The bot's own pool, which keeps a cut connection's error from ending the process.
      const pool = createPgPool(throughProxy(stack.env.DATABASE_URL ?? '', proxy), 5000);
      try {
        const d = deps();
        const { jobId } = await startBulkRestore(
          d,
          selectionOf(`${prefix}-*`),
          { overwrite: false, maxRate: null },
          actor,
          { enqueue: async () => undefined },
        );
        // The statement that records the first batch's outcomes (and marks the second in flight)
        // is the chunk's second move of its in-flight set: the first batch's writes are out by then.
        const cut = proxy.arm({ match: holding('bulk_job_chunks', 'set writing'), nth: 2, fault });
        const worker: BulkDeps = { ...d, store: createBulkStore(pool, SCHEMA, 'conversations') };
        await expect(workChunk(worker, jobId, 0, { worker: 'w1', lastAttempt: false })).rejects.toThrow();
        expect(cut.hasFired).toBe(true);
        const between = await jobStatus(d, jobId);
        expect(between.chunks.working).toBe(1);
        // Cut before, nothing of it happened; cut after, it may have committed or not.
        if (fault === 'cut-before') expect(between.done).toBe(0);
        else expect([0, 250]).toContain(between.done);
        // The writes landed: Redis holds the first batch's sources already.
        expect(await stack.redis.client.get(stack.redis.key(mixed.ids.absent[0] as string))).not.toBeNull();

        await workChunk(worker, jobId, 0, { worker: 'w2', lastAttempt: false });
        const done = await jobStatus(d, jobId);
        expect(done.state).toBe('succeeded');
        // Written by the first attempt, so restored: not "identical", as Redis alone would say now.
        expect(done.counts).toEqual(mixedCounts(500));
        expectEachRestoredOnce(writes, mixed, stack.redis.key);
        const inFlight = await stack.db.pool.query<{ writing: string[] | null }>(
          `SELECT writing FROM ${SCHEMA}.bulk_job_chunks WHERE job_id = $1`,
          [jobId],
        );
        expect(inFlight.rows).toEqual([{ writing: [] }]);
      } finally {
        writes.stop();
        await pool.end();
        await proxy.stop();
      }
    },
    60_000,
  );

  it('paced, records a batch before its pause and reads the next one after it: a copy Zeus writes meanwhile is kept as newer', async () => {
    // 200 conversations at --max-rate 100: one chunk of two batches of 100, a pause after each.
    const mixed = await seedMixed(stack.db.pool, stack.redis.client, stack.redis.key, 200, 'c-paced');
    const d = deps();
    const { jobId } = await startBulkRestore(
      d,
      selectionOf('c-paced-*'),
      { overwrite: false, maxRate: 100 },
      actor,
      { enqueue: async () => undefined },
    );
    // Absent from Redis, in the second batch; Zeus writes a later copy during the first pause.
    const zeusId = 'c-paced-00100';
    expect(mixed.ids.absent).toContain(zeusId);
    const zeusCopy = makeConversation(zeusId, 9);
    let doneAtPause: number | null = null;
    await workChunk(d, jobId, 0, {
      worker: 'w',
      lastAttempt: false,
      sleep: async () => {
        if (doneAtPause !== null) return;
        doneAtPause = (await jobStatus(d, jobId)).done;
        await stack.redis.client.set(stack.redis.key(zeusId), zeusCopy);
      },
    });
    // The first batch's outcomes were recorded before its pause: progress showed them.
    expect(doneAtPause).toBe(100);
    // The second batch was read after the pause, so Zeus's copy was seen and kept: newer, not a
    // write refused as "changed" by a read from before it.
    const item = await stack.db.pool.query<{ outcome: string }>(
      `SELECT outcome FROM ${SCHEMA}.bulk_job_items WHERE job_id = $1 AND conversation_id = $2`,
      [jobId, zeusId],
    );
    expect(item.rows).toEqual([{ outcome: 'newer' }]);
    expect(await stack.redis.client.get(stack.redis.key(zeusId))).toBe(zeusCopy);
    expect((await jobStatus(d, jobId)).counts).toEqual({ ...mixedCounts(200), restored: 79, newer: 41 });
  }, 60_000);

  it('items marked in flight the old way (outcome "writing", before migration 0021) still count as restored', async () => {
    const mixed = await seedMixed(stack.db.pool, stack.redis.client, stack.redis.key, 50, 'c-legacy');
    const d = deps();
    const { jobId } = await startBulkRestore(
      d,
      selectionOf('c-legacy-*'),
      { overwrite: false, maxRate: null },
      actor,
      { enqueue: async () => undefined },
    );
    // An attempt by the code before 0021 marked the absent ones and its writes landed, then it died.
    const absent = mixed.ids.absent;
    const sources = await stack.db.pool.query<{ id: string; state: string }>(
      'SELECT id, state::text AS state FROM conversations WHERE id = ANY($1::text[])',
      [absent],
    );
    for (const row of sources.rows) await stack.redis.client.set(stack.redis.key(row.id), row.state);
    await stack.db.pool.query(
      `UPDATE ${SCHEMA}.bulk_job_items SET outcome = 'writing' WHERE job_id = $1 AND conversation_id = ANY($2::text[])`,
      [jobId, absent],
    );
    await workChunk(d, jobId, 0, { worker: 'w', lastAttempt: false });
    expect((await jobStatus(d, jobId)).counts).toEqual(mixedCounts(50));
  }, 60_000);

  it('two workers never work one chunk at once: a held chunk is not touched, and two engines write each conversation once', async () => {
    const mixed = await seedMixed(stack.db.pool, stack.redis.client, stack.redis.key, 1500, 'c-two');
    const writes = await countWrites(stack.redis.url, `${stack.redis.prefix}c-two-`);
    try {
      const d = deps();
      const queued: number[] = [];
      const { jobId } = await startBulkRestore(
        d,
        selectionOf('c-two-*'),
        { overwrite: false, maxRate: null },
        actor,
        { enqueue: async (_id, chunks) => void queued.push(...chunks) },
      );
      expect(queued).toEqual([0, 1, 2]);
      // Another worker holds chunk 0 (its session lock, on a connection of its own).
      const other = await stack.db.pool.connect();
      try {
        await other.query('SELECT pg_advisory_lock($1, hashtext($2))', [0x5a5202, `${jobId}:0`]);
        await expect(workChunk(d, jobId, 0, { worker: 'w2', lastAttempt: false })).rejects.toBeInstanceOf(
          ChunkBusy,
        );
        expect((await jobStatus(d, jobId)).done).toBe(0);
      } finally {
        await other.query('SELECT pg_advisory_unlock_all()');
        other.release();
      }
      // Two engines, each with two local workers, all on the same job's chunks at once.
      const a = await engine();
      const b = await engine();
      await a.queue.enqueue(jobId, [0, 1, 2]);
      await Promise.all([a.workBulkChunks(d, 'engine-a', 2), b.workBulkChunks(d, 'engine-b', 2)]);
      const done = await finished(d, jobId);
      expect(done.state).toBe('succeeded');
      expect(done.counts).toEqual(mixedCounts(1500));
      expectEachRestoredOnce(writes, mixed, stack.redis.key);
      const chunks = await stack.db.pool.query<{ state: string }>(
        `SELECT state FROM ${SCHEMA}.bulk_job_chunks WHERE job_id = $1`,
        [jobId],
      );
      expect(chunks.rows.map((r) => r.state)).toEqual(['done', 'done', 'done']);
    } finally {
      writes.stop();
    }
  }, 90_000);

  it('refuses a second job of the same selection while one is live; resume picks up one left without a worker', async () => {
    await seedMixed(stack.db.pool, stack.redis.client, stack.redis.key, 50, 'c-dup');
    const d = deps();
    const parked = { enqueue: async () => undefined };
    const first = await startBulkRestore(
      d,
      selectionOf('c-dup-*'),
      { overwrite: false, maxRate: null },
      actor,
      parked,
    );
    await expect(
      startBulkRestore(d, selectionOf('c-dup-*'), { overwrite: true, maxRate: null }, actor, parked),
    ).rejects.toThrow('already pending or running');
    const cancelled = await cancelBulkJob(d, first.jobId, actor);
    expect(cancelled.state).toBe('cancelled');
    const second = await startBulkRestore(
      d,
      selectionOf('c-dup-*'),
      { overwrite: false, maxRate: null },
      actor,
      parked,
    );
    expect(second.jobId).not.toBe(first.jobId);
    await expect(resumeBulkJob(d, first.jobId, actor, parked)).rejects.toThrow(
      'another job of the same selection',
    );
    // The second was never worked (nothing took its chunks): the CLI's resume works it to its end.
    expect((await jobStatus(d, second.jobId)).liveWorkers).toBe(0);
    const r = await cli(['resume', second.jobId, '--yes', '--reason', 'pick it up', '--json'], stack.env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      jobId: second.jobId,
      state: 'succeeded',
      counts: mixedCounts(50),
    });
  }, 60_000);

  it('refuses a selection too large for an evicting Redis, and writes nothing', async () => {
    await seedMixed(stack.db.pool, stack.redis.client, stack.redis.key, 1000, 'c-big');
    const small = await startPrivateRedis();
    try {
      const info = await small.client.info('memory');
      const used = Number(/^used_memory:(\d+)/m.exec(info)?.[1]);
      await small.client.config('SET', 'maxmemory', String(used + 200_000));
      await small.client.config('SET', 'maxmemory-policy', 'allkeys-lru');
      const env = { ...stack.env, REDIS_URL: small.url };
      const preview = await cli(
        ['bulk-restore', '--from', 'postgres', '--since', '1h', '--match', 'c-big-*', '--dry-run', '--json'],
        env,
      );
      expect(preview.code).toBe(1);
      const json = JSON.parse(preview.stdout);
      expect(json.memory).toMatchObject({ evicting: true, fits: false, policies: ['allkeys-lru'] });
      expect(json.refusal).toContain('Redis would evict keys');
      const run = await cli(
        [
          'bulk-restore',
          '--from',
          'postgres',
          '--since',
          '1h',
          '--match',
          'c-big-*',
          '--yes',
          '--reason',
          'x',
        ],
        env,
      );
      expect(run.code).toBe(1);
      expect(run.stderr).toContain('Redis would evict keys');
      expect(run.stderr).toContain('maxmemory-policy is allkeys-lru');
      expect(run.stderr).toContain('Nothing was written');
      expect(await small.client.dbsize()).toBe(0);
    } finally {
      await small.stop();
    }
  }, 60_000);

  it('restores into a Redis Cluster, pipelined per node', async () => {
    const cluster = await startRedisCluster(3);
    const client = new Cluster(
      cluster.nodes.map((n) => ({ host: '127.0.0.1', port: Number(n.split(':')[1]) })),
    );
    client.on('error', () => undefined);
    try {
      const prefix = 'zrbulk:conversation:';
      const mixed = await seedMixed(stack.db.pool, client, (id) => `${prefix}${id}`, 1000, 'c-clu');
      const { REDIS_URL: _, ...rest } = stack.env;
      const env = { ...rest, REDIS_CLUSTER_NODES: cluster.nodes.join(','), REDIS_KEY_PREFIX: prefix };
      const r = await cli(
        [
          'bulk-restore',
          '--from',
          'postgres',
          '--since',
          '1h',
          '--match',
          'c-clu-*',
          '--yes',
          '--reason',
          'cluster',
          '--json',
        ],
        env,
      );
      expect(r.stderr).toBe('');
      expect(r.code).toBe(0);
      expect(JSON.parse(r.stdout)).toMatchObject({
        state: 'succeeded',
        counts: mixedCounts(1000),
      });
      const src = await stack.db.pool.query<{ id: string; s: string }>(
        `SELECT id, state::text AS s FROM conversations WHERE id = ANY($1)`,
        [[...mixed.ids.absent, ...mixed.ids.older]],
      );
      for (const row of src.rows) expect(await client.get(`${prefix}${row.id}`)).toBe(row.s);
      // The keys really are spread over the masters.
      const perNode = await Promise.all(client.nodes('master').map((n) => n.dbsize()));
      expect(perNode.filter((n) => n > 0).length).toBe(3);
    } finally {
      client.disconnect();
      await cluster.stop();
    }
  }, 120_000);

  it('a killed CLI worker’s chunk is taken over after its heartbeat runs out: nothing missed, nothing written twice', async () => {
    const mixed = await seedMixed(stack.db.pool, stack.redis.client, stack.redis.key, 2000, 'c-kill');
    const writes = await countWrites(stack.redis.url, `${stack.redis.prefix}c-kill-`);
    const rescuer = await engine();
    try {
      const { child, jobId } = await cliBulkJobUnderWay(stack.env, stack.db.pool, SCHEMA, {
        match: 'c-kill-*',
        maxRate: 300,
      });
      const d = deps();
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      const atKill = await jobStatus(d, jobId);
      expect(atKill.state).toBe('running');
      expect(atKill.done).toBeLessThan(2000);
      // Running, with nobody on it: `job` says so (the chunk locks died with the worker's sessions).
      const orphaned = await until(
        'no live worker',
        () => jobStatus(d, jobId),
        (s) => s.liveWorkers === 0,
      );
      expect(orphaned.state).toBe('running');
      const shown = await cli(['job', jobId], stack.env);
      expect(shown.stdout).toContain('No worker is on this job right now');

      await rescuer.workBulkChunks(d, 'rescuer');
      const done = await finished(d, jobId);
      expect(done.state).toBe('succeeded');
      expect(done.done).toBe(2000);
      expect(done.counts).toEqual(mixedCounts(2000));
      expectEachRestoredOnce(writes, mixed, stack.redis.key);
    } finally {
      writes.stop();
    }
  }, 120_000);
});
