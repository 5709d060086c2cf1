import { describe, expect, it } from 'vitest';
import { checkMessageLimits } from '../../../sandbox/slack/block-kit.js';
import type { AuditData } from '../../../src/audit-vocabulary.js';
import type { BulkJobStatus } from '../../../src/recovery/bulk/job.js';
import type { BulkRequest } from '../../../src/store/bulk-requests.js';
import {
  bulkApprovedView,
  bulkCancelRequestedView,
  bulkDecidedView,
  bulkDeniedView,
  bulkExpiredView,
  bulkJobsView,
  bulkJobView,
  bulkProgressView,
  bulkRate,
  bulkReportView,
  bulkRequestView,
  bulkResumedView,
  bulkThreadRootView,
} from '../../../src/views/bulk.js';
import { FALLBACK_TEXT_MAX, type SlackMessage, toPlainText } from '../../../src/views/index.js';
import { HOSTILE, HUGE_REASON, LONG_ID, NOW } from './fixtures.js';

const JOB = 'bj_AAAAAAAAAAAAAAAAAAAA';
const counts = { restored: 400, identical: 100, newer: 100, changed: 3, invalid: 100, failed: 2 };

function requested(reason: string, id: string): AuditData<'bulk.requested'> {
  const samples = Object.fromEntries(
    ['absent', 'identical', 'older', 'newer', 'invalid'].map((g) => [g, Array.from({ length: 5 }, () => id)]),
  );
  return {
    jobId: JOB,
    reason,
    requester: 'slack:U0ALICE',
    selection: {
      since: '2025-12-13T02:00:00.000Z',
      until: null,
      status: 'active',
      match: reason.slice(0, 200),
    },
    overwrite: true,
    maxRate: 500,
    total: 1_000_000,
    bytes: 8_000_000_000,
    toRestore: 600_000,
    bytesToRestore: 4_800_000_000,
    groups: { absent: 400_000, identical: 100_000, older: 200_000, newer: 200_000, invalid: 100_000 },
    samples,
    invalidReasons: { bad_status: 100_000 },
    memory: {
      usedBytes: 1e9,
      maxBytes: 8e9,
      policies: ['allkeys-lru', reason.slice(0, 100)],
      bytesToWrite: 5e9,
      headroomBytes: 7e9,
    },
    requiredApprovals: 2,
    expiresAt: '2025-12-13T03:41:00.000Z',
    approverHint: 'an approver (<@U0BOB>)',
  };
}

const job: BulkRequest = {
  jobId: JOB,
  state: 'pending',
  channelId: 'C_INC',
  requester: 'U0ALICE',
  reason: HUGE_REASON,
  total: 1000,
  chunks: 2,
  overwrite: false,
  requiredApprovals: 1,
  approvals: [{ userId: 'U0BOB', at: NOW.toISOString() }],
  expiresAt: NOW.toISOString(),
  decidedBy: null,
  decidedAt: null,
  denyReason: null,
  cardSeq: 1,
  progressSeq: 2,
  breakGlassReason: null,
  needsReview: false,
  reviewedBy: null,
};

function status(over: Partial<BulkJobStatus> = {}): BulkJobStatus {
  return {
    jobId: JOB,
    state: 'running',
    done: 705,
    total: 1000,
    counts,
    chunks: { pending: 0, working: 1, done: 1, cancelled: 0, failed: 0, live: 0, total: 2 },
    liveWorkers: 0,
    overwrite: false,
    maxRate: null,
    selection: { since: '2025-12-13T02:00:00.000Z', until: null, status: null, match: HOSTILE },
    actor: 'slack:U0ALICE',
    createdAt: NOW.toISOString(),
    finishedAt: null,
    error: null,
    ...over,
  };
}

const failures = Array.from({ length: 20 }, (_, i) => ({
  conversationId: `${LONG_ID.slice(0, 120)}${i}`,
  outcome: 'failed',
  detail: HUGE_REASON,
}));

const views: Record<string, () => SlackMessage> = {
  root: () => bulkThreadRootView(JOB),
  request: () => bulkRequestView(requested('redis lost after the failover', 'c-7f3a9e'), { now: NOW }),
  requestHuge: () => bulkRequestView(requested(HUGE_REASON, LONG_ID), { now: NOW }),
  approvedCard: () => bulkDecidedView(job, { kind: 'approved', by: ['U0BOB', 'U0DAVE'] }),
  deniedCard: () => bulkDecidedView(job, { kind: 'denied', by: 'U0BOB', reason: HUGE_REASON }),
  cancelledCard: () => bulkDecidedView(job, { kind: 'cancelled', by: 'U0ALICE' }),
  expiredCard: () => bulkDecidedView(job, { kind: 'expired' }),
  denied: () => bulkDeniedView({ jobId: JOB, reason: HUGE_REASON }, 'slack:U0BOB'),
  expired: () => bulkExpiredView({ jobId: JOB }),
  cancel: () =>
    bulkCancelRequestedView({ jobId: JOB, reason: HUGE_REASON, state: 'cancelling' }, 'slack:U0BOB'),
  resumed: () => bulkResumedView({ jobId: JOB, reason: HUGE_REASON, chunks: 3 }, 'slack:U0BOB'),
  approved: () => bulkApprovedView({ jobId: JOB, total: 1000, approvedBy: ['slack:U0BOB'] }),
  progress: () => bulkProgressView({ ...status(), rate: 412.7 }),
  progressDone: () => bulkProgressView({ ...status({ state: 'succeeded', done: 1000 }), rate: 400 }),
  report: () =>
    bulkReportView({
      jobId: JOB,
      state: 'failed',
      total: 1000,
      counts,
      failureCount: 5000,
      failures,
      file: null,
    }),
  reportFile: () =>
    bulkReportView({
      jobId: JOB,
      state: 'succeeded',
      total: 1000,
      counts,
      failureCount: 5000,
      failures,
      file: `${JOB}-not-restored.tsv`,
    }),
  job: () => bulkJobView(status(), { now: NOW }),
  jobError: () => bulkJobView(status({ state: 'failed', error: HUGE_REASON }), { now: NOW }),
  jobs: () => bulkJobsView(Array.from({ length: 40 }, () => status())),
  noJobs: () => bulkJobsView([]),
};

describe('bulk views', () => {
  it.each(Object.keys(views))('%s stays within Slack limits and pings nobody', (name) => {
    const msg = views[name]?.() as SlackMessage;
    expect(checkMessageLimits(msg)).toEqual([]);
    expect(msg.text.length).toBeGreaterThan(0);
    expect(msg.text.length).toBeLessThanOrEqual(FALLBACK_TEXT_MAX);
    const all = JSON.stringify(msg);
    expect(all).not.toContain('<!channel>');
    expect(all).not.toContain('<@U0BADBAD>');
    expect(all).not.toContain('<https://evil');
  });

  it('the card shows what is approved: counts per group, bytes, samples, memory and eviction policy', () => {
    const plain = toPlainText(bulkRequestView(requested('failover', 'c-7f3a9e'), { now: NOW }));
    expect(plain).toContain('1000000 conversations (7.5 GB)');
    expect(plain).toContain('400000 absent from Redis — e.g. `c-7f3a9e`');
    expect(plain).toContain('allkeys-lru');
    expect(plain).toMatch(/Needs 2 approvals from an approver/);
  });

  it('a card that would write nothing says so, and why, before anyone approves it', () => {
    const noop = {
      ...requested('failover', 'c-7f3a9e'),
      overwrite: false,
      total: 4,
      toRestore: 0,
      bytesToRestore: 0,
      groups: { absent: 0, identical: 3, older: 0, newer: 1, invalid: 0 },
    };
    const plain = toPlainText(bulkRequestView(noop, { now: NOW }));
    expect(plain).toContain('0 would be written (0 B)');
    expect(plain).toMatch(
      /Nothing would be written now \(3 identical in Redis; 1 newer in Redis, kept without --overwrite\)/,
    );
    expect(plain).toMatch(/if nothing was lost, cancel the request/);
    // A card that writes something has no such line.
    expect(toPlainText(bulkRequestView(requested('failover', 'c-7f3a9e'), { now: NOW }))).not.toContain(
      'Nothing would be written',
    );
  });

  it('jobs names the selection as a window on updated_at, not as when the job ran', () => {
    const plain = toPlainText(bulkJobsView([status({ state: 'succeeded', done: 1000 })]));
    expect(plain).toContain('1000/1000 · conversations updated since `2025-12-13T02:00:00.000Z`');
  });

  it('the approved card says nothing that goes stale once the job ends (it is not edited then)', () => {
    for (const breakGlass of [false, true]) {
      const plain = toPlainText(bulkDecidedView(job, { kind: 'approved', by: ['U0BOB'], breakGlass }));
      expect(plain).toMatch(/approved by/i);
      expect(plain).toContain('its report follow in this thread');
      expect(plain).not.toMatch(/running|in progress|now/i);
    }
  });

  it('the progress message has a bar, done/total, rate, ETA, failures so far, and Cancel only while it runs', () => {
    const running = bulkProgressView({ ...status(), rate: 100 });
    const plain = toPlainText(running);
    expect(plain).toContain('705/1000 (70%)');
    expect(plain).toContain('██████████████░░░░░░');
    expect(plain).toContain('100 conv/s, about 3 s left');
    expect(plain).toContain('failures so far 105');
    expect(JSON.stringify(running.blocks)).toContain('bulk_cancel');
    expect(
      JSON.stringify(bulkProgressView({ ...status({ state: 'cancelled' }), rate: 1 }).blocks),
    ).not.toContain('bulk_cancel');
  });

  it('after a resume, rate and ETA count from the resume, not from the approval hours before', () => {
    const resumedAt = new Date(NOW.getTime() - 10_000);
    // 500 done before it was cancelled, 205 in the 10 s since the resume.
    const rate = bulkRate(705, { at: resumedAt, done: 500 }, NOW);
    expect(rate).toBeCloseTo(20.5);
    const plain = toPlainText(bulkProgressView({ ...status(), rate }));
    expect(plain).toContain('21 conv/s, about 14 s left');
    // Nothing done since the resume yet: no rate, rather than one from before it.
    expect(bulkRate(500, { at: resumedAt, done: 500 }, NOW)).toBeNull();
    expect(bulkRate(705, null, NOW)).toBeNull();
  });

  it('settled, the progress message counts in the words and numbers of the report', () => {
    const settled = toPlainText(bulkProgressView({ ...status({ state: 'succeeded', done: 705 }), rate: 1 }));
    const report = toPlainText(
      bulkReportView({
        jobId: JOB,
        state: 'succeeded',
        total: 1000,
        counts,
        failureCount: 0,
        failures: [],
        file: null,
      }),
    );
    for (const [label, n] of [
      ['Restored', counts.restored],
      ['Newer in Redis, kept', counts.newer],
      ['Changed under it, skipped', counts.changed],
      ['Invalid at the source', counts.invalid],
      ['Failed', counts.failed],
    ] as const) {
      expect(settled).toContain(`${label} ${n}`);
      expect(report).toMatch(new RegExp(`${label}\\*?\\s+${n}\\b`));
    }
    expect(settled).not.toContain('failures so far');
  });

  it('a stranded running job says to resume it', () => {
    expect(toPlainText(bulkJobView(status(), { now: NOW }))).toContain(
      'no worker holds it right now: resume it',
    );
  });
});
