import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startBulkRestore } from '../../src/recovery/bulk/job.js';
import { parseSelection } from '../../src/recovery/bulk/selection.js';
import { compileIdPattern, DEFAULT_ID_PATTERN } from '../../src/recovery/ids.js';
import { createAuditLog } from '../../src/store/audit.js';
import { createBulkStore, ORPHANED_ERROR } from '../../src/store/bulk-jobs.js';
import { seedMixed } from '../helpers/bulk.js';
import { CHANNEL, eventually, type Harness, startHarness } from './bot-harness.js';

/**
 * The bot's sweep reports a Slack bulk job left without a worker in the job's own thread, once.
 * The job's chunks never reached pg-boss (as if its rows were lost), and this bot works no chunks.
 */

const SCHEMA = 'zeus_recover';
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ BULK_WORKERS: '0', LOCK_LEASE_MS: '1000' });
}, 60_000);
afterAll(async () => h?.stop());

/** What the job's own thread says, reply by reply. */
function threadTexts(jobId: string): string[] {
  const root = h.slack
    .messagesInChannel(CHANNEL)
    .find((m) => m.thread_ts === null && m.text.includes(`Zeus bulk restore: ${jobId}`));
  return root ? h.slack.messagesInThread(CHANNEL, root.ts).map((m) => m.text) : [];
}

function depsOn(stack: Harness['stack']) {
  return {
    redis: stack.redis.client,
    keyPrefix: stack.redis.prefix,
    idPattern: compileIdPattern(DEFAULT_ID_PATTERN),
    ttlPolicy: { kind: 'keep' as const },
  };
}

describe('a Slack bulk job with no worker left', () => {
  it('is marked failed and told in its thread once, with how to resume it', async () => {
    const { stack } = h;
    await seedMixed(stack.db.pool, stack.redis.client, stack.redis.key, 10, 'c-lost');
    const deps = {
      ...depsOn(stack),
      store: createBulkStore(stack.db.pool, SCHEMA, 'conversations'),
      audit: createAuditLog(stack.db.pool, SCHEMA),
    };
    const { jobId } = await startBulkRestore(
      deps,
      parseSelection({ since: '1h', match: 'c-lost-*' }, new Date()),
      { overwrite: false, maxRate: null, chunkSize: 5 },
      { id: 'slack:U_ALICE', reason: 'INC-9 lost jobs' },
      { enqueue: async () => {} },
    );
    await stack.db.pool.query(`UPDATE ${SCHEMA}.bulk_jobs SET channel_id = $2 WHERE id = $1`, [
      jobId,
      CHANNEL,
    ]);

    const said = () => threadTexts(jobId).filter((t) => t.includes('no live worker'));
    const [report] = await eventually(
      () => (said().length > 0 ? said() : null),
      'the report in the job thread',
    );
    expect(report).toContain(jobId);
    expect(report).toContain('it is now *failed*');
    expect(report).toContain(`resume ${jobId}`);
    const job = await stack.db.pool.query(`SELECT state, error FROM ${SCHEMA}.bulk_jobs WHERE id = $1`, [
      jobId,
    ]);
    expect(job.rows).toEqual([{ state: 'failed', error: ORPHANED_ERROR }]);
    // More sweeps (every 200 ms here) say nothing more.
    await new Promise((r) => setTimeout(r, 1500));
    expect(said()).toHaveLength(1);
  });
  it('marked by a sweep that died before its report: the next sweep tick reports it', async () => {
    const { stack } = h;
    await seedMixed(stack.db.pool, stack.redis.client, stack.redis.key, 10, 'c-unreported');
    const store = createBulkStore(stack.db.pool, SCHEMA, 'conversations');
    const audit = createAuditLog(stack.db.pool, SCHEMA);
    const { jobId } = await startBulkRestore(
      { ...depsOn(stack), store, audit },
      parseSelection({ since: '1h', match: 'c-unreported-*' }, new Date()),
      { overwrite: false, maxRate: null, chunkSize: 5 },
      { id: 'slack:U_ALICE', reason: 'INC-9 unreported' },
      { enqueue: async () => {} },
    );
    // Out of this bot's own sweep's reach while the test plays the dead one.
    await stack.db.pool.query(
      `UPDATE ${SCHEMA}.bulk_jobs SET updated_at = now() + interval '1 hour' WHERE id = $1`,
      [jobId],
    );
    const progress = await audit.append(
      {
        action: 'bulk.approved',
        actor: 'slack:U_BOB',
        conversationId: jobId,
        requestId: null,
        data: { jobId, total: 10, approvedBy: ['slack:U_BOB'] },
      },
      { deliverTo: { channelId: CHANNEL } },
    );
    await stack.db.pool.query(
      `UPDATE ${SCHEMA}.bulk_jobs SET channel_id = $2, progress_seq = $3 WHERE id = $1`,
      [jobId, CHANNEL, progress.seq],
    );
    // The dead sweep's transaction: marked and told, then the process died before its report.
    const marked = await store.markOrphaned(jobId, (state) => ({
      event: {
        action: 'bulk.orphaned',
        actor: 'system',
        conversationId: jobId,
        requestId: null,
        data: { jobId, state, unfinished: 2, error: ORPHANED_ERROR },
      },
      options: { deliverTo: { channelId: CHANNEL } },
    }));
    expect(marked?.state).toBe('failed');

    const reports = () => threadTexts(jobId).filter((t) => t.includes(jobId) && t.includes('restored of'));
    const [report] = await eventually(() => (reports().length > 0 ? reports() : null), 'the report');
    expect(report).toContain('restored of 10');
    await new Promise((r) => setTimeout(r, 1500));
    expect(reports()).toHaveLength(1);
  });
});
