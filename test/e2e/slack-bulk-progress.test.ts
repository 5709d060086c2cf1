import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockText, type StoredMessage } from '../../sandbox/slack/local-slack.js';
import { mixedCounts, seedMixed } from '../helpers/bulk.js';
import { CHANNEL, findButton, type Harness, startHarness } from './bot-harness.js';

/**
 * The progress message between chunk ends, after a resume, and once settled. The sweep ticks
 * once at start and then every 10 minutes here, so nothing but the progress beat (jobs.ts
 * BULK_PROGRESS_QUEUE) moves the message inside a chunk.
 */
const INTERVAL_MS = 1000;

let h: Harness;
const jobsSeen: string[] = [];

beforeAll(async () => {
  h = await startHarness(
    { BULK_PROGRESS_INTERVAL_MS: String(INTERVAL_MS), BULK_WORKERS: '1' },
    { sweepIntervalMs: 600_000 },
  );
}, 60_000);
afterAll(async () => h.stop());

function bulkThread(jobId: string): StoredMessage[] {
  const root = h.slack
    .messagesInChannel(CHANNEL)
    .find((m) => m.thread_ts === null && m.text.includes(`Zeus bulk restore: ${jobId}`));
  return root ? h.slack.messagesInThread(CHANNEL, root.ts) : [];
}

const text = (m: StoredMessage) => `${m.text}\n${blockText(m.blocks).join('\n')}`;

async function approvedJob(match: string, maxRate: number) {
  await h.slash(
    `bulk-restore --from postgres --since 1h --match ${match} --max-rate ${maxRate} --reason INC-42`,
    {
      user: 'U_ALICE',
    },
  );
  const card = await h.slack.waitFor(
    () => {
      for (const root of h.slack.messagesInChannel(CHANNEL)) {
        const jobId = /Zeus bulk restore: (bj_[A-Za-z0-9_-]{20})/.exec(root.text)?.[1];
        if (!jobId || jobsSeen.includes(jobId)) continue;
        const m = bulkThread(jobId).find((x) => findButton(x.blocks, 'bulk_approve') === jobId);
        if (m) return { ts: m.ts, jobId };
      }
      return undefined;
    },
    20_000,
    `bulk card for ${match}`,
  );
  jobsSeen.push(card.jobId);
  await h.click('bulk_approve', card.jobId, 'U_BOB', card.ts);
  return card.jobId;
}

function progressMessage(jobId: string): StoredMessage | undefined {
  return bulkThread(jobId).find((m) => /bulk restore `?bj_/.test(m.text) && /\d+\/\d+ \(\d+%\)/.test(m.text));
}

function report(jobId: string, state: RegExp): StoredMessage | undefined {
  return bulkThread(jobId).find((m) => /restored of/.test(m.text) && state.test(m.text));
}

/** The done counts of every edit of the progress message, in order, and when each reached Slack. */
function edits(progress: StoredMessage, total: number): Array<{ done: number; at: number }> {
  return h.slack
    .okCalls('chat.update')
    .filter((c) => c.args.ts === progress.ts)
    .map((c) => ({
      done: Number(new RegExp(`(\\d+)/${total} \\(`).exec(String(c.args.text))?.[1] ?? Number.NaN),
      at: c.at,
    }));
}

describe('the bulk progress message, end to end over signed HTTP', () => {
  it('moves every interval inside one slow chunk (the progress beat), at most one edit per interval', async () => {
    // One chunk of 100 at 10 conv/s: about 10 s with no chunk ending in between.
    await seedMixed(h.stack.db.pool, h.stack.redis.client, h.stack.redis.key, 100, 'c-beat');
    const jobId = await approvedJob('c-beat-*', 10);
    const done = await h.slack.waitFor(() => report(jobId, /Finished/), 60_000, 'report');
    expect(done).toBeDefined();
    const progress = progressMessage(jobId) as StoredMessage;
    const seen = edits(progress, 100);
    const partial = new Set(seen.map((e) => e.done).filter((d) => d > 0 && d < 100));
    // Chunk ends and the sweep would show 0 and 100 only.
    expect(partial.size, JSON.stringify(seen)).toBeGreaterThanOrEqual(3);
    for (let i = 1; i < seen.length; i++) {
      expect((seen[i]?.at as number) - (seen[i - 1]?.at as number), `edit ${i}`).toBeGreaterThanOrEqual(
        INTERVAL_MS,
      );
    }
  }, 90_000);

  it('after a resume the rate counts from the resume, and the settled message counts as the report does', async () => {
    // Two chunks (500 + 200) worked one after the other by the one worker: Cancel during the
    // first leaves the second for the resume.
    const n = 700;
    await seedMixed(h.stack.db.pool, h.stack.redis.client, h.stack.redis.key, n, 'c-resume');
    const jobId = await approvedJob('c-resume-*', 100);
    const running = await h.slack.waitFor(
      () => {
        const m = progressMessage(jobId);
        return m && findButton(m.blocks, 'bulk_cancel') ? m : undefined;
      },
      30_000,
      'progress with Cancel',
    );
    await h.cancelBulk(jobId, 'U_ALICE', running.ts, 'pausing the restore');
    await h.slack.waitFor(() => report(jobId, /Cancelled/), 30_000, 'cancelled report');
    // It sat cancelled for hours: the approval moved back rather than waited for.
    await h.stack.db.pool.query(
      `UPDATE zeus_recover.bulk_jobs SET decided_at = decided_at - interval '3 hours' WHERE id = $1`,
      [jobId],
    );
    const { rows } = await h.stack.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM zeus_recover.bulk_job_items
        WHERE job_id = $1 AND outcome IS NOT NULL AND outcome <> 'writing'`,
      [jobId],
    );
    const doneBefore = rows[0]?.n ?? 0;
    expect(doneBefore).toBeLessThan(n);
    const before = Date.now();
    await h.slash(`resume ${jobId} --reason pick it up`, { user: 'U_ALICE' });
    const finished = await h.slack.waitFor(() => report(jobId, /Finished/), 60_000, 'report after resume');
    const after = Date.now();

    const last = text(progressMessage(jobId) as StoredMessage);
    expect(last).toMatch(new RegExp(`${n}/${n} \\(100%\\)`));
    const rate = Number(/, ([\d.]+) conv\/s/.exec(last)?.[1]);
    // At least what was done since the resume over the time the test saw it take (from the
    // approval three hours back, it would be under 0.1 conv/s).
    const floor = (n - doneBefore) / ((after - before) / 1000);
    expect(rate, last).toBeGreaterThanOrEqual(Math.floor(floor * 0.9));

    // The settled message and the report say the same counts in the same words.
    const reportText = text(finished);
    const c = mixedCounts(n);
    for (const [label, count] of [
      ['Restored', c.restored],
      ['Identical', c.identical],
      ['Newer in Redis, kept', c.newer],
      ['Changed under it, skipped', c.changed],
      ['Invalid at the source', c.invalid],
      ['Failed', c.failed],
    ] as const) {
      expect(last).toContain(`${label} ${count}`);
      expect(reportText).toContain(`*${label}*\n${count}`);
    }
    expect(last).not.toMatch(/failures so far/);
  }, 120_000);
});
