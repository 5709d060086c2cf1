import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type JobEngine, jobSchema, startJobEngine } from '../../src/jobs.js';
import { jobStatus, startBulkRestore } from '../../src/recovery/bulk/job.js';
import { type OrphanDeps, reportOrphanedJobs } from '../../src/recovery/bulk/orphans.js';
import type { BulkDeps } from '../../src/recovery/bulk/preview.js';
import { parseSelection } from '../../src/recovery/bulk/selection.js';
import { compileIdPattern, DEFAULT_ID_PATTERN } from '../../src/recovery/ids.js';
import { createPgPool } from '../../src/recovery/tiers/postgres.js';
import { createAuditLog } from '../../src/store/audit.js';
import { createBulkStore, ORPHANED_ERROR } from '../../src/store/bulk-jobs.js';
import { migrate } from '../../src/store/migrate.js';
import {
  cliBulkJobUnderWay,
  countWrites,
  expectEachRestoredOnce,
  mixedCounts,
  seedMixed,
} from '../helpers/bulk.js';
import { cli } from '../helpers/cli.js';
import { eventually } from '../helpers/eventually.js';
import { holding, startFaultProxyFor, throughProxy } from '../helpers/fault-proxy.js';
import { type Stack, startStack } from '../helpers/stack.js';

/**
 * A bulk job is never left "running" with no one to work it: the sweep finds it, marks it once,
 * says so (in its thread when it has one), and `resume` goes on from where it stopped. While
 * pg-boss still holds a copy of a chunk (it will hand it to another worker), nothing is said.
 */

const SCHEMA = 'zeus_recover';
let stack: Stack;
const engines: JobEngine[] = [];

beforeAll(async () => {
  stack = await startStack();
  await migrate(stack.db.pool, SCHEMA);
}, 60_000);
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop()));
});
afterAll(async () => stack.stop());

function deps(): BulkDeps {
  return {
    store: createBulkStore(stack.db.pool, SCHEMA, 'conversations'),
    redis: stack.redis.client,
    keyPrefix: stack.redis.prefix,
    idPattern: compileIdPattern(DEFAULT_ID_PATTERN),
    ttlPolicy: { kind: 'keep' },
    audit: createAuditLog(stack.db.pool, SCHEMA),
  };
}

/** The sweep as the bot runs it for bulk jobs: on pg-boss ticks, with a short grace. */
async function sweeping(graceMs: number): Promise<{ ticks: number; errors: unknown[] }> {
  const engine = await startJobEngine({
    connectionString: stack.db.url,
    botSchema: SCHEMA,
    sweeps: true,
    superviseIntervalSeconds: 1,
  });
  engines.push(engine);
  const seen = { ticks: 0, errors: [] as unknown[] };
  const d = deps();
  const orphans: OrphanDeps = {
    store: d.store,
    liveChunkCopies: (id) => engine.liveChunkCopies(id),
  };
  await engine.runSweeps({
    intervalMs: 200,
    sweep: async () => {
      await reportOrphanedJobs(orphans, { graceMs });
      seen.ticks++;
    },
    onError: (err) => seen.errors.push(err),
  });
  return seen;
}

async function orphanedEntries(
  jobId: string,
): Promise<Array<{ data: string; conversation_id: string | null }>> {
  const res = await stack.db.pool.query<{ data: string; conversation_id: string | null }>(
    `SELECT data, conversation_id FROM ${SCHEMA}.audit_log WHERE action = 'bulk.orphaned' AND data LIKE $1`,
    [`%${jobId}%`],
  );
  return res.rows;
}

describe('a bulk job left without a worker', () => {
  it('kill -9 of the CLI working it: silent while pg-boss holds its chunks, reported once when it does not, resumed to the end', async () => {
    const n = 1500;
    const mixed = await seedMixed(stack.db.pool, stack.redis.client, stack.redis.key, n, 'c-orph');
    const writes = await countWrites(stack.redis.url, `${stack.redis.prefix}c-orph-`);
    const { child, jobId } = await cliBulkJobUnderWay(stack.env, stack.db.pool, SCHEMA, {
      match: 'c-orph-*',
      maxRate: 200,
    });
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const d = deps();
    expect((await jobStatus(d, jobId)).state).toBe('running');

    // pg-boss still holds the killed worker's chunks (active until their heartbeat runs out, the
    // rest queued): another worker would take them over, so the sweep says nothing.
    const sweep = await sweeping(300);
    await eventually(() => sweep.ticks >= 5, 'a few sweeps');
    expect((await jobStatus(d, jobId)).state).toBe('running');
    expect(await orphanedEntries(jobId)).toEqual([]);

    // pg-boss's copies are lost (a restored database, a wiped schema): no one will ever work them.
    await stack.db.pool.query(
      `DELETE FROM ${jobSchema(SCHEMA)}.job WHERE name = 'bulk-restore-chunk' AND data->>'jobId' = $1`,
      [jobId],
    );
    const failed = await eventually(async () => {
      const s = await jobStatus(d, jobId);
      return s.state === 'failed' ? s : null;
    }, 'the job marked as left without a worker');
    expect(failed.error).toBe(ORPHANED_ERROR);
    expect(failed.done).toBeLessThan(n);
    const ticks = sweep.ticks;
    await eventually(() => sweep.ticks >= ticks + 5, 'more sweeps');
    const entries = await orphanedEntries(jobId);
    expect(entries).toHaveLength(1); // exactly once, however many sweeps looked
    expect(entries[0]?.conversation_id).toBeNull(); // a CLI job has no thread
    expect(JSON.parse(entries[0]?.data ?? '{}')).toMatchObject({
      jobId,
      state: 'failed',
      error: ORPHANED_ERROR,
    });
    expect(sweep.errors).toEqual([]);

    const shown = await cli(['job', jobId], stack.env);
    expect(shown.stdout).toContain(`Job ${jobId}: failed`);
    expect(shown.stdout).toContain(`Stopped: ${ORPHANED_ERROR}`);
    expect(shown.stdout).toContain(`zeus-recover resume ${jobId} --yes --reason`);
    const json = JSON.parse((await cli(['job', jobId, '--json'], stack.env)).stdout);
    expect(json).toMatchObject({ jobId, state: 'failed', error: ORPHANED_ERROR });

    // Resume goes on from where it stopped: nothing redone, nothing skipped.
    const resumed = await cli(
      ['resume', jobId, '--yes', '--reason', 'after the orphan report', '--json'],
      stack.env,
    );
    expect(resumed.stderr).toBe('');
    expect(JSON.parse(resumed.stdout)).toMatchObject({ jobId, state: 'succeeded', counts: mixedCounts(n) });
    expectEachRestoredOnce(writes, mixed, stack.redis.key);
    writes.stop();
    expect(await orphanedEntries(jobId)).toHaveLength(1);
  }, 180_000);

  it('queued on pg-boss with no worker: silent; its copies out of retries (failed): reported', async () => {
    await seedMixed(stack.db.pool, stack.redis.client, stack.redis.key, 20, 'c-orphretry');
    const engine = await startJobEngine({ connectionString: stack.db.url, botSchema: SCHEMA });
    engines.push(engine);
    const d = deps();
    const { jobId } = await startBulkRestore(
      d,
      parseSelection({ since: '1h', match: 'c-orphretry-*' }, new Date()),
      { overwrite: false, maxRate: null, chunkSize: 10 },
      { id: 'test:sre', reason: 'orphan test' },
      engine.queue,
    );
    await stack.db.pool.query(
      `UPDATE ${SCHEMA}.bulk_jobs SET updated_at = now() - interval '1 minute' WHERE id = $1`,
      [jobId],
    );
    const orphans: OrphanDeps = {
      store: d.store,
      liveChunkCopies: (id) => engine.liveChunkCopies(id),
    };
    expect(await engine.liveChunkCopies(jobId)).toBe(2);
    // Queued: whichever worker starts next works them.
    expect(await reportOrphanedJobs(orphans, { graceMs: 1000 })).toEqual([]);
    // Every attempt used up (as pg-boss leaves a chunk whose last attempt's worker was killed).
    await stack.db.pool.query(
      `UPDATE ${jobSchema(SCHEMA)}.job SET state = 'failed' WHERE name = 'bulk-restore-chunk' AND data->>'jobId' = $1`,
      [jobId],
    );
    expect(await reportOrphanedJobs(orphans, { graceMs: 1000 })).toEqual([
      { jobId, state: 'failed', unfinished: 2 },
    ]);
    expect(await reportOrphanedJobs(orphans, { graceMs: 1000 })).toEqual([]);
    expect(await orphanedEntries(jobId)).toHaveLength(1);
  });

  it('a Slack job is reported in its own thread; two sweeps at once mark it once', async () => {
    await seedMixed(stack.db.pool, stack.redis.client, stack.redis.key, 20, 'c-orphslack');
    const d = deps();
    // Frozen and running, but its chunks never reached pg-boss (lost with its rows).
    const { jobId } = await startBulkRestore(
      d,
      parseSelection({ since: '1h', match: 'c-orphslack-*' }, new Date()),
      { overwrite: false, maxRate: null, chunkSize: 5 },
      { id: 'slack:U_ALICE', reason: 'orphan test' },
      { enqueue: async () => {} },
    );
    await stack.db.pool.query(
      `UPDATE ${SCHEMA}.bulk_jobs SET channel_id = 'C_INC', updated_at = now() - interval '1 minute' WHERE id = $1`,
      [jobId],
    );
    const orphans: OrphanDeps = { store: d.store, liveChunkCopies: async () => 0 };
    let kicks = 0;
    const [a, b] = await Promise.all([
      reportOrphanedJobs({ ...orphans, kick: () => kicks++ }, { graceMs: 1000 }),
      reportOrphanedJobs({ ...orphans, kick: () => kicks++ }, { graceMs: 1000 }),
    ]);
    expect([...(a ?? []), ...(b ?? [])].filter((j) => j.jobId === jobId)).toEqual([
      { jobId, state: 'failed', unfinished: 4 },
    ]);
    expect(kicks).toBe(1);
    const delivered = await stack.db.pool.query(
      `SELECT d.channel_id, a.conversation_id FROM ${SCHEMA}.audit_deliveries d JOIN ${SCHEMA}.audit_log a ON a.seq = d.seq
        WHERE a.action = 'bulk.orphaned' AND a.conversation_id = $1`,
      [jobId],
    );
    expect(delivered.rows).toEqual([{ channel_id: 'C_INC', conversation_id: jobId }]);
    const chunks = await stack.db.pool.query(
      `SELECT DISTINCT state, error FROM ${SCHEMA}.bulk_job_chunks WHERE job_id = $1`,
      [jobId],
    );
    expect(chunks.rows).toEqual([{ state: 'failed', error: ORPHANED_ERROR }]);
  });
  it('a connection cut between marking the job and appending its entry leaves neither; the next sweep marks and tells it once', async () => {
    await seedMixed(stack.db.pool, stack.redis.client, stack.redis.key, 10, 'c-orphcut');
    const proxy = await startFaultProxyFor(stack.env.DATABASE_URL ?? '', 5432);
    // The bot's own pool, which keeps a cut connection's error from ending the process.
    const pool = createPgPool(throughProxy(stack.env.DATABASE_URL ?? '', proxy), 5000);
    try {
      const { jobId } = await startBulkRestore(
        deps(),
        parseSelection({ since: '1h', match: 'c-orphcut-*' }, new Date()),
        { overwrite: false, maxRate: null, chunkSize: 5 },
        { id: 'slack:U_ALICE', reason: 'orphan cut test' },
        { enqueue: async () => {} },
      );
      await stack.db.pool.query(
        `UPDATE ${SCHEMA}.bulk_jobs SET channel_id = 'C_INC', updated_at = now() - interval '1 minute' WHERE id = $1`,
        [jobId],
      );
      const orphans: OrphanDeps = {
        store: createBulkStore(pool, SCHEMA, 'conversations'),
        liveChunkCopies: async () => 0,
      };
      // After the job's UPDATE went through on this connection: the entry's INSERT never arrives.
      const cut = proxy.arm({ match: holding('insert into', 'audit_log'), fault: 'cut-before' });
      await expect(reportOrphanedJobs(orphans, { graceMs: 1000 })).rejects.toThrow();
      expect(cut.hasFired).toBe(true);
      expect((await jobStatus(deps(), jobId)).state).toBe('running');
      expect(await orphanedEntries(jobId)).toEqual([]);

      expect(await reportOrphanedJobs(orphans, { graceMs: 1000 })).toEqual([
        { jobId, state: 'failed', unfinished: 2 },
      ]);
      expect(await reportOrphanedJobs(orphans, { graceMs: 1000 })).toEqual([]);
      const told = await stack.db.pool.query(
        `SELECT d.channel_id FROM ${SCHEMA}.audit_deliveries d JOIN ${SCHEMA}.audit_log a ON a.seq = d.seq
          WHERE a.action = 'bulk.orphaned' AND a.conversation_id = $1`,
        [jobId],
      );
      expect(told.rows).toEqual([{ channel_id: 'C_INC' }]);
    } finally {
      await pool.end();
      await proxy.stop();
    }
  });
});
