import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockText, type StoredMessage } from '../../sandbox/slack/local-slack.js';
import { startBulkRestore } from '../../src/recovery/bulk/job.js';
import { parseSelection } from '../../src/recovery/bulk/selection.js';
import { compileIdPattern, DEFAULT_ID_PATTERN } from '../../src/recovery/ids.js';
import { createAuditLog } from '../../src/store/audit.js';
import { createBulkStore } from '../../src/store/bulk-jobs.js';
import { mixedCounts, seedMixed } from '../helpers/bulk.js';
import { startPrivateRedis } from '../helpers/redis-server.js';
import { CHANNEL, eventually, findButton, type Harness, startHarness, withoutButton } from './bot-harness.js';

/** The test's own interval: the edits' spacing is checked against it on the local Slack's records. */
const INTERVAL_MS = 2000;
const CHUNK = 500;

let h: Harness;
const jobsSeen: string[] = [];

beforeAll(async () => {
  h = await startHarness({ BULK_PROGRESS_INTERVAL_MS: String(INTERVAL_MS) });
  // Two replicas, both working chunks and poking the progress message: only the claim in
  // Postgres keeps their edits apart.
  await h.startAnotherBot();
}, 60_000);
afterAll(async () => h.stop());

function bulkRoot(jobId: string): StoredMessage | undefined {
  return h.slack
    .messagesInChannel(CHANNEL)
    .find((m) => m.thread_ts === null && m.text.includes(`Zeus bulk restore: ${jobId}`));
}

function bulkThread(jobId: string): StoredMessage[] {
  const root = bulkRoot(jobId);
  return root ? h.slack.messagesInThread(CHANNEL, root.ts) : [];
}

const text = (m: StoredMessage) => `${m.text}\n${blockText(m.blocks).join('\n')}`;

/** Asks for a bulk restore and returns the card (the message with the Approve button) and the job id. */
async function requestBulk(args: string, user = 'U_ALICE') {
  const res = await h.slash(`bulk-restore --from postgres --since 1h ${args} --reason INC-42 redis lost`, {
    user,
  });
  expect(res.status).toBe(200);
  const known = new Set(jobsSeen);
  const card = await h.slack.waitFor(
    () => {
      for (const root of h.slack.messagesInChannel(CHANNEL)) {
        const jobId = /Zeus bulk restore: (bj_[A-Za-z0-9_-]{20})/.exec(root.text)?.[1];
        if (!jobId || known.has(jobId)) continue;
        const m = bulkThread(jobId).find((x) => findButton(x.blocks, 'bulk_approve') === jobId);
        if (m) return { ts: m.ts, jobId };
      }
      return undefined;
    },
    20_000,
    `bulk card for ${args}`,
  );
  jobsSeen.push(card.jobId);
  return card;
}

async function ephemeral(responseId: string): Promise<string> {
  await h.slack.waitFor(() => h.slack.responses(responseId).length > 0, 10_000, 'ephemeral answer');
  return JSON.stringify(h.slack.responses(responseId).map((r) => r.body));
}

async function jobRow(jobId: string) {
  const { rows } = await h.stack.db.pool.query<{ state: string }>(
    'SELECT state FROM zeus_recover.bulk_jobs WHERE id = $1',
    [jobId],
  );
  return rows[0];
}

async function doneCount(jobId: string): Promise<number> {
  const { rows } = await h.stack.db.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM zeus_recover.bulk_job_items WHERE job_id = $1 AND outcome IS NOT NULL AND outcome <> 'writing'`,
    [jobId],
  );
  return Number(rows[0]?.n ?? 0);
}

/** The progress message: the thread reply whose text names the job's progress. */
function progressMessage(jobId: string): StoredMessage | undefined {
  return bulkThread(jobId).find((m) => /bulk restore `?bj_/.test(m.text) && /\d+\/\d+ \(\d+%\)/.test(m.text));
}

function report(jobId: string, state: RegExp): StoredMessage | undefined {
  return bulkThread(jobId).find((m) => /restored of/.test(m.text) && state.test(m.text));
}

describe('bulk restore in Slack, end to end over signed HTTP', () => {
  it('previews, is approved by a second person, runs to the end, edits one progress message at most once per interval, and reports with a file past 20 failures', async () => {
    const n = 2000;
    const mixed = await seedMixed(h.stack.db.pool, h.stack.redis.client, h.stack.redis.key, n, 'c-e2e-full');
    const card = await requestBulk('--match c-e2e-full-* --max-rate 400');
    const shown = text(bulkThread(card.jobId).find((m) => m.ts === card.ts) as StoredMessage);
    // The preview: counts per group, bytes, samples, memory and eviction policy, what approval binds.
    expect(shown).toContain(`*${n}* conversations`);
    for (const g of [
      'absent from Redis',
      'identical',
      'older in Redis',
      'newer in Redis',
      'invalid at the source',
    ])
      expect(shown).toContain(`*${n / 5}* ${g}`);
    expect(shown).toContain(mixed.ids.absent[0]);
    expect(shown).toMatch(/Eviction policy/);
    expect(shown).toMatch(/noeviction|allkeys|volatile/);
    expect(await jobRow(card.jobId)).toEqual({ state: 'pending' });
    // Nothing is queued or written before approval.
    expect(await h.stack.redis.client.exists(h.stack.redis.key(mixed.ids.absent[0] as string))).toBe(0);

    // The requester cannot approve; someone off the approver list cannot either.
    const self = await h.click('bulk_approve', card.jobId, 'U_ALICE', card.ts);
    expect(await ephemeral(self.responseId)).toMatch(/someone else must approve/);
    const carol = await h.click('bulk_approve', card.jobId, 'U_CAROL', card.ts);
    expect(await ephemeral(carol.responseId)).toMatch(/not an approver/);
    expect(await jobRow(card.jobId)).toEqual({ state: 'pending' });

    const bob = await h.click('bulk_approve', card.jobId, 'U_BOB', card.ts);
    expect(await ephemeral(bob.responseId)).toMatch(/is running/);
    const done = await h.slack.waitFor(() => report(card.jobId, /Finished/), 60_000, 'final report');
    expect(await jobRow(card.jobId)).toEqual({ state: 'succeeded' });
    const counts = mixedCounts(n);
    const reportText = text(done);
    expect(reportText).toContain(`${counts.restored} restored of ${n}`);
    expect(reportText).toContain(`*Invalid at the source*\n${counts.invalid}`);
    // 400 invalid sources: more than 20, so all of them go as a file in the thread.
    const file = await h.slack.waitFor(
      () => bulkThread(card.jobId).find((m) => m.files.some((f) => f.name.endsWith('-not-restored.tsv'))),
      10_000,
      'failures file',
    );
    expect(file).toBeDefined();
    for (const id of [...mixed.ids.absent, ...mixed.ids.older].slice(0, 50)) {
      const { rows } = await h.stack.db.pool.query<{ s: string }>(
        'SELECT state::text AS s FROM conversations WHERE id = $1',
        [id],
      );
      expect((await h.stack.redis.client.get(h.stack.redis.key(id))) ?? '').toBe(rows[0]?.s);
    }
    // The card lost its buttons once approved.
    const decided = bulkThread(card.jobId).find((m) => m.ts === card.ts) as StoredMessage;
    expect(findButton(decided.blocks, 'bulk_approve')).toBeUndefined();
    expect(text(decided)).toMatch(/Approved by/);

    // ONE progress message, edited in place; its edits reach Slack at least the interval apart.
    const progress = progressMessage(card.jobId);
    expect(progress).toBeDefined();
    expect(text(progress as StoredMessage)).toMatch(new RegExp(`${n}/${n} \\(100%\\)`));
    const edits = h.slack
      .okCalls('chat.update')
      .filter((c) => c.args.ts === progress?.ts)
      .map((c) => c.at);
    // Chunks of 500 at 400 conv/s per worker end every ~0.6 s across the two replicas, each poking
    // the message: only the claim spaces the edits.
    expect(edits.length).toBeGreaterThanOrEqual(2);
    if (process.env.BULK_E2E_FIGURES)
      console.log(
        'progress edit spacing (ms):',
        edits.slice(1).map((t, i) => t - (edits[i] as number)),
      );
    for (let i = 1; i < edits.length; i++) {
      expect(
        (edits[i] as number) - (edits[i - 1] as number),
        `edit ${i} of ${edits.length}`,
      ).toBeGreaterThanOrEqual(INTERVAL_MS);
    }
    expect(findButton((progress as StoredMessage).blocks, 'bulk_cancel')).toBeUndefined();
  }, 120_000);

  it('Cancel obeys the rules and stops the job within one chunk; resume finishes it', async () => {
    const n = 3000;
    await seedMixed(h.stack.db.pool, h.stack.redis.client, h.stack.redis.key, n, 'c-e2e-stop');
    const card = await requestBulk('--match c-e2e-stop-* --max-rate 250');
    await h.click('bulk_approve', card.jobId, 'U_BOB', card.ts);
    const progress = await h.slack.waitFor(
      () => {
        const m = progressMessage(card.jobId);
        return m && findButton(m.blocks, 'bulk_cancel') && /[1-9]\d*\/3000/.test(m.text) ? m : undefined;
      },
      30_000,
      'progress with a Cancel button',
    );
    // Neither the requester nor an approver: refused, and the job runs on.
    const carol = await h.click('bulk_cancel', card.jobId, 'U_CAROL', progress.ts);
    expect(await ephemeral(carol.responseId)).toMatch(
      /Only the person who asked for this bulk restore or an approver/,
    );
    expect(await jobRow(card.jobId)).toEqual({ state: 'running' });

    const before = await doneCount(card.jobId);
    // An approver's Cancel asks why first; the reason goes to the thread.
    await h.cancelBulk(card.jobId, 'U_DAVE', progress.ts, 'wrong window, stop it');
    await h.slack.waitFor(() => report(card.jobId, /Cancelled/), 30_000, 'cancelled report');
    expect(await jobRow(card.jobId)).toEqual({ state: 'cancelled' });
    const after = await doneCount(card.jobId);
    // Each worker (one per replica) finishes at most the chunk it had in hand after the click.
    expect(after - before).toBeLessThanOrEqual(CHUNK * h.bots.length);
    expect(after).toBeLessThan(n);
    expect(bulkThread(card.jobId).some((m) => /U_DAVE.*cancelled bulk restore/.test(text(m)))).toBe(true);
    expect(bulkThread(card.jobId).some((m) => /wrong window, stop it/.test(text(m)))).toBe(true);

    const resumed = await h.slash(`resume ${card.jobId} --reason pick it up`, { user: 'U_ALICE' });
    expect(await ephemeral(resumed.responseId)).toMatch(/resumed/);
    await h.slack.waitFor(() => report(card.jobId, /Finished/), 60_000, 'report after resume');
    expect(await jobRow(card.jobId)).toEqual({ state: 'succeeded' });
    expect(await doneCount(card.jobId)).toBe(n);
  }, 120_000);

  it('a slow chunk still shows progress: the sweep tick pokes live jobs, within the interval', async () => {
    // One chunk of 100 at 20 conv/s: about 5 s with no chunk ending in between.
    await seedMixed(h.stack.db.pool, h.stack.redis.client, h.stack.redis.key, 100, 'c-e2e-slow');
    const card = await requestBulk('--match c-e2e-slow-* --max-rate 20');
    await h.click('bulk_approve', card.jobId, 'U_BOB', card.ts);
    const partial = await h.slack.waitFor(
      () => {
        const m = progressMessage(card.jobId);
        return m && /Restoring — bulk restore `?bj_[^ ]+ ?: ([1-9]\d?)\/100/.test(text(m)) ? m : undefined;
      },
      20_000,
      'a partial count while the one chunk is worked',
    );
    expect(text(partial)).not.toMatch(/100\/100/);
    await h.slack.waitFor(() => report(card.jobId, /Finished/), 30_000, 'report');
  }, 60_000);

  it('deny cancels the pending job and writes nothing; job and jobs answer privately', async () => {
    const mixed = await seedMixed(h.stack.db.pool, h.stack.redis.client, h.stack.redis.key, 50, 'c-e2e-deny');
    const card = await requestBulk('--match c-e2e-deny-*');
    // The requester is pointed at Cancel; an approver gets the reason form.
    const ownDeny = await h.click('bulk_deny', card.jobId, 'U_ALICE', card.ts);
    expect(await ephemeral(ownDeny.responseId)).toMatch(/cancel it instead/);
    await h.click('bulk_deny', card.jobId, 'U_BOB', card.ts);
    await h.slack.waitFor(() => h.slack.okCalls('views.open').length > 0, 10_000, 'deny reason form');
    const view = await h.submitView(
      'deny_reason_modal',
      'U_BOB',
      { deny_reason: 'wrong window' },
      card.jobId,
    );
    expect(view.status).toBe(200);
    await eventually(
      async () => (await jobRow(card.jobId))?.state === 'cancelled',
      'the denied job cancelled',
    );
    await h.slack.waitFor(
      () => bulkThread(card.jobId).find((m) => /denied bulk restore/.test(m.text)),
      10_000,
      'deny in the thread',
    );
    expect(await h.stack.redis.client.exists(h.stack.redis.key(mixed.ids.absent[0] as string))).toBe(0);
    // Never approved, so nothing to resume: resuming would run what nobody approved.
    const resume = await h.slash(`resume ${card.jobId} --reason try anyway`);
    expect(await ephemeral(resume.responseId)).toMatch(/never approved/);
    expect(await jobRow(card.jobId)).toEqual({ state: 'cancelled' });

    // The requester's own Cancel before approval: the card says so, and that cannot be resumed either.
    const own = await requestBulk('--match c-e2e-deny-* --overwrite');
    await h.cancelBulk(own.jobId, 'U_ALICE', own.ts, 'asked for the wrong window');
    await h.slack.waitFor(
      () => bulkThread(own.jobId).find((m) => m.ts === own.ts && /Cancelled by/.test(text(m))),
      10_000,
      'card cancelled',
    );
    const again = await h.slash(`resume ${own.jobId} --reason try anyway`);
    expect(await ephemeral(again.responseId)).toMatch(/never approved/);
    expect(await h.stack.redis.client.exists(h.stack.redis.key(mixed.ids.absent[0] as string))).toBe(0);

    const job = await h.slash(`job ${card.jobId}`);
    expect(await ephemeral(job.responseId)).toContain(card.jobId);
    const jobs = await h.slash('jobs');
    expect(await ephemeral(jobs.responseId)).toContain(card.jobId);
  }, 60_000);

  it('a pending request past its expiry is cancelled on the sweep, said in its thread, and its card loses its buttons', async () => {
    const mixed = await seedMixed(h.stack.db.pool, h.stack.redis.client, h.stack.redis.key, 20, 'c-e2e-late');
    const card = await requestBulk('--match c-e2e-late-*');
    // Expiry is judged by the database clock: move the deadline rather than wait REQUEST_TTL_MINUTES.
    await h.stack.db.pool.query(
      `UPDATE zeus_recover.bulk_jobs SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [card.jobId],
    );
    await h.slack.waitFor(
      () => bulkThread(card.jobId).find((m) => /expired without approval/.test(m.text)),
      15_000,
      'expiry in the thread',
    );
    expect(await jobRow(card.jobId)).toEqual({ state: 'cancelled' });
    const decided = await withoutButton(
      h,
      () => bulkThread(card.jobId),
      card.ts,
      'bulk_approve',
      'card without buttons',
    );
    expect(text(decided)).toMatch(/Expired without approval/);
    const late = await h.click('bulk_approve', card.jobId, 'U_BOB', card.ts);
    expect(await ephemeral(late.responseId)).toMatch(/cancelled, no longer waiting/);
    expect(await h.stack.redis.client.exists(h.stack.redis.key(mixed.ids.absent[0] as string))).toBe(0);
  }, 60_000);

  it('a job frozen by a process that stopped before opening its request expires on the sweep, tells no thread, and frees its selection', async () => {
    await seedMixed(h.stack.db.pool, h.stack.redis.client, h.stack.redis.key, 20, 'c-e2e-unopened');
    // What the dead process left: the list frozen pending with the bot's TTL, no request, no card.
    const { jobId } = await startBulkRestore(
      {
        store: createBulkStore(h.stack.db.pool, 'zeus_recover', 'conversations'),
        redis: h.stack.redis.client,
        keyPrefix: h.stack.redis.prefix,
        idPattern: compileIdPattern(DEFAULT_ID_PATTERN),
        ttlPolicy: { kind: 'keep' },
        audit: createAuditLog(h.stack.db.pool, 'zeus_recover'),
      },
      parseSelection({ since: '1h', match: 'c-e2e-unopened-*' }, new Date()),
      { overwrite: false, maxRate: null, awaitApproval: { ttlMinutes: 30 } },
      { id: 'slack:U_ALICE', reason: 'INC-42 redis lost' },
      { enqueue: async () => {} },
    );
    const blocked = await h.slash(
      'bulk-restore --from postgres --since 1h --match c-e2e-unopened-* --reason INC-42 redis lost',
    );
    expect(await ephemeral(blocked.responseId)).toMatch(/already pending or running/);
    // Its expiry, judged by the database clock, moved rather than waited for.
    await h.stack.db.pool.query(
      `UPDATE zeus_recover.bulk_jobs SET expires_at = expires_at - interval '30 minutes' WHERE id = $1`,
      [jobId],
    );
    await eventually(async () => (await jobRow(jobId))?.state === 'cancelled', 'the sweep expiring it');
    const { rows } = await h.stack.db.pool.query<{ n: string }>(
      `SELECT count(*) AS n FROM zeus_recover.audit_log a LEFT JOIN zeus_recover.audit_deliveries d ON d.seq = a.seq
        WHERE a.action = 'bulk.expired' AND a.data LIKE $1 AND d.seq IS NULL`,
      [`%${jobId}%`],
    );
    expect(rows[0]?.n).toBe('1');
    expect(bulkRoot(jobId)).toBeUndefined();
    const card = await requestBulk('--match c-e2e-unopened-*');
    expect(card.jobId).not.toBe(jobId);
  }, 60_000);

  it('bad input is a private error that writes nothing', async () => {
    await seedMixed(h.stack.db.pool, h.stack.redis.client, h.stack.redis.key, 10, 'c-e2e-bad');
    const count = async () => {
      const { rows } = await h.stack.db.pool.query<{ jobs: string; audit: string }>(
        'SELECT (SELECT count(*) FROM zeus_recover.bulk_jobs) AS jobs, (SELECT count(*) FROM zeus_recover.audit_log) AS audit',
      );
      return rows[0];
    };
    const cases: Array<[string, RegExp]> = [
      ['bulk-restore --from postgres --since yesterday --reason x', /neither a duration nor a timestamp/],
      ["bulk-restore --from postgres --since 1h --match c-%'; --reason x", /not an id pattern/],
      ['bulk-restore --from postgres --since 1h --match nothing-here-* --reason x', /No conversation/],
      ['bulk-restore --from s3 --since 1h --reason x', /reads only from postgres/],
      ['bulk-restore --from postgres --since 1h', /needs `--reason`/],
      ['job bj_nope', /not a bulk job id/],
    ];
    const posts = h.slack.okCalls('chat.postMessage').length;
    const start = await count();
    for (const [command, expected] of cases) {
      const res = await h.slash(command);
      // A grammar error is the ack itself; the rest is answered after it, through the response_url.
      const acked = JSON.stringify(res.json ?? '');
      const answer = expected.test(acked) ? acked : await ephemeral(res.responseId);
      expect(answer, command).toMatch(expected);
    }
    expect(await count()).toEqual(start);
    expect(h.slack.okCalls('chat.postMessage').length).toBe(posts);
  }, 60_000);

  it('a selection too large for an evicting Redis is refused privately, and nothing is written', async () => {
    const small = await startPrivateRedis();
    // A bot of its own on a small evicting Redis (and its own stack: Zeus's table, bot schema).
    const tight = await startHarness({ REDIS_URL: small.url });
    try {
      const info = await small.client.info('memory');
      const used = Number(/^used_memory:(\d+)/m.exec(info)?.[1]);
      await small.client.config('SET', 'maxmemory', String(used + 200_000));
      await small.client.config('SET', 'maxmemory-policy', 'allkeys-lru');
      const mixed = await seedMixed(
        tight.stack.db.pool,
        small.client,
        tight.stack.redis.key,
        1000,
        'c-e2e-big',
      );
      const res = await tight.slash(
        'bulk-restore --from postgres --since 1h --match c-e2e-big-* --reason INC-42',
      );
      await tight.slack.waitFor(() => tight.slack.responses(res.responseId).length > 0, 20_000, 'refusal');
      const answer = JSON.stringify(tight.slack.responses(res.responseId).map((r) => r.body));
      expect(answer).toMatch(/Redis would evict keys/);
      expect(answer).toMatch(/allkeys-lru/);
      const { rows } = await tight.stack.db.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM zeus_recover.bulk_jobs',
      );
      expect(rows[0]?.n).toBe(0);
      expect(tight.slack.okCalls('chat.postMessage')).toEqual([]);
      // The seed itself may be evicted, so what shows a write is an absent conversation appearing.
      expect(await small.client.exists(...mixed.ids.absent.map((id) => tight.stack.redis.key(id)))).toBe(0);
    } finally {
      await tight.stop();
      await small.stop();
    }
  }, 90_000);
});
