/**
 * Hand-built reports for the view tests: built here rather than by the core so that a change in
 * the core's wording does not churn these snapshots. `huge*` variants push every list and string
 * past what a message can hold; `HOSTILE` is what an attacker or a broken store could put in.
 */
import type { RecoveryRequest } from '../../../src/approval/types.js';
import type { RestoreResult } from '../../../src/recovery/execute.js';
import type { DiffReport, ValidationReport } from '../../../src/recovery/operations.js';
import type { RestorePlan } from '../../../src/recovery/plan.js';
import type { ReplayPlan } from '../../../src/recovery/replay.js';
import { inspectJson } from '../../../src/recovery/summary.js';
import type {
  ConversationAnalysis,
  Finding,
  InspectReport,
  StepSummary,
  TierName,
  TierReport,
} from '../../../src/recovery/types.js';
import type {
  InspectSummary,
  ReplayAmbiguousData,
  ReplayFailedEarlyData,
  ReplayFinishData,
  ReplayStartedData,
} from '../../../src/views/index.js';
import type { RestoreUnknown } from '../../../src/views/restore.js';

export const NOW = new Date('2025-12-13T03:11:00.000Z');
/** The request states the views draw (an 'unknown' outcome has its own view). */
export const VIEW_STATES = [
  'requested',
  'approved',
  'executing',
  'succeeded',
  'failed',
  'denied',
  'expired',
  'cancelled',
] as const satisfies readonly RecoveryRequest['state'][];
export const ID = 'c-7f3a9e';
export const LONG_ID = `c${'x'.repeat(127)}`;
export const REQUEST_ID = 'rq_8d4a5c2e-6f1b-4c3a-9e7d-2b1f0a9c8d7e';
export const BACKUP_ID = 'bk_Q2x9LmP4vT7rN1sK8wYz';
export const HOSTILE = '<!channel> <@U0BADBAD> <https://evil.example|click here> & *bold* `tick` ```fence';
export const HUGE_REASON = `${HOSTILE} ${'why '.repeat(2500)}`;

const hex = (seed: string): string => seed.repeat(64).slice(0, 64);

export function step(
  n: number,
  role = 'assistant',
  ts = `2025-12-13T02:${String(n % 60).padStart(2, '0')}:04.000Z`,
): StepSummary {
  return { step: n, role, ts, hash: `sha256:${hex(String(n % 10))}` };
}

export function analysis(over: Partial<ConversationAnalysis> = {}): ConversationAnalysis {
  const stepCount = over.stepCount ?? 12;
  return {
    bytes: 4321,
    checksum: `sha256:${hex('1a2b3c')}`,
    // Copies with different step counts never share content.
    contentHash: `sha256:${hex(`9f8e${stepCount}`)}`,
    parsed: true,
    valid: true,
    findings: [],
    status: 'active',
    // Capped: the views never list an analysis's steps, and 100,000 of them only slow the tests.
    steps: Array.from({ length: Math.min(stepCount, 20) }, (_, i) => step(i + 1)),
    stepCount,
    lastStepAt: '2025-12-13T02:58:04.000Z',
    checkpoint: stepCount,
    updatedAt: '2025-12-13T02:58:05.000Z',
    ...over,
  };
}

const LOCATION: Record<TierName, (id: string) => string> = {
  redis: (id) => `redis key zeus:conversation:${id}`,
  postgres: (id) => `postgres conversations id=${id}`,
  s3: (id) => `s3://kosmos-conversations/archive/${id}.json`,
};

export function tier(name: TierName, id: string, over: Partial<TierReport> = {}): TierReport {
  return {
    tier: name,
    location: LOCATION[name](id),
    status: 'found',
    reason: null,
    analysis: analysis(),
    ttlMs: name === 'redis' ? 6 * 3600_000 : null,
    latencyMs: 12,
    ...over,
  };
}

export const GAP: Finding = {
  severity: 'error',
  code: 'step_gap',
  message: 'Steps 9–11 are missing (the steps jump from 8 to 12).',
};

/** The 3 a.m. case: Redis lost steps, Postgres is good, S3 is down. */
export function inspectReport(id = ID): InspectReport {
  return {
    conversationId: id,
    at: '2025-12-13T03:10:00.000Z',
    tiers: {
      redis: tier('redis', id, {
        analysis: analysis({
          valid: false,
          findings: [GAP],
          stepCount: 9,
          checksum: `sha256:${hex('77aa')}`,
        }),
      }),
      postgres: tier('postgres', id, {
        analysis: analysis({ stepCount: 14, bytes: 5012, checksum: `sha256:${hex('c0ffee')}` }),
        ttlMs: null,
      }),
      s3: tier('s3', id, {
        status: 'unreachable',
        reason: 'timeout after 2000 ms',
        analysis: null,
        ttlMs: null,
      }),
    },
    recommendation: { source: 'postgres', reason: 'postgres holds a valid copy with the most steps (14).' },
  };
}

export const inspectSummary = (id = ID): InspectSummary => inspectJson(inspectReport(id));

function hugeFindings(n: number): Finding[] {
  return Array.from({ length: n }, (_, i) => ({
    severity: i % 3 === 0 ? 'warning' : 'error',
    code: `code_${i}`,
    message: `${HOSTILE} finding ${i} ${'detail '.repeat(1500)}`,
  }));
}

export function hugeInspectReport(): InspectReport {
  const bad = (name: TierName): TierReport =>
    tier(name, LONG_ID, {
      location: `${LOCATION[name](LONG_ID)}${'/deep'.repeat(400)}`,
      analysis: analysis({
        valid: false,
        findings: hugeFindings(500),
        stepCount: 100_000,
        bytes: 9 * 1024 ** 3,
      }),
    });
  return {
    conversationId: LONG_ID,
    at: '2025-12-10T23:59:59.000Z',
    tiers: {
      redis: bad('redis'),
      postgres: bad('postgres'),
      s3: tier('s3', LONG_ID, {
        status: 'unreachable',
        reason: `${HOSTILE} ${'socket hang up '.repeat(800)}`,
        analysis: null,
      }),
    },
    recommendation: { source: null, reason: `${HOSTILE} ${'no usable copy '.repeat(700)}` },
  };
}

export function validationReport(over: Partial<ValidationReport> = {}): ValidationReport {
  const r = inspectReport();
  return {
    conversationId: ID,
    at: r.at,
    tiers: r.tiers,
    agreement: {
      groups: [],
      ahead: [],
      summary: 'postgres has 14 steps; redis is 5 steps behind; s3 is unreachable',
    },
    recommendation: r.recommendation,
    verdict: 'broken',
    summary: 'The active copy in Redis is not valid (step_gap).',
    next: `/zeus-recover restore ${ID} --from postgres`,
    ...over,
  };
}

export function hugeValidationReport(): ValidationReport {
  const r = hugeInspectReport();
  return {
    conversationId: LONG_ID,
    at: r.at,
    tiers: r.tiers,
    agreement: { groups: [], ahead: [], summary: `${HOSTILE} ${'disagree '.repeat(800)}` },
    recommendation: r.recommendation,
    verdict: 'broken',
    summary: `${HOSTILE} ${'broken '.repeat(900)}`,
    next: `/zeus-recover export ${LONG_ID}`,
  };
}

export function diffReport(over: Partial<DiffReport> = {}): DiffReport {
  return {
    conversationId: ID,
    source: 'postgres',
    redis: inspectReport().tiers.redis,
    sourceAnalysis: analysis({ stepCount: 14 }),
    diff: {
      added: [step(9, 'tool'), step(10, 'assistant'), step(13, 'user'), step(14, 'assistant')],
      removed: [],
      changed: [{ step: 12, from: step(12, 'user'), to: step(12, 'assistant') }],
      unchanged: 9,
      identical: false,
    },
    summary: '+4 steps added, 1 changed, 9 unchanged',
    ...over,
  };
}

export function hugeDiffReport(): DiffReport {
  const many = (n: number, role: string): StepSummary[] =>
    Array.from({ length: n }, (_, i) => step(i + 1, role));
  return {
    conversationId: LONG_ID,
    source: `backup:${BACKUP_ID}`,
    redis: hugeInspectReport().tiers.redis,
    sourceAnalysis: analysis({ valid: false, findings: hugeFindings(50) }),
    diff: {
      added: many(1000, `${HOSTILE}${'r'.repeat(300)}`),
      removed: many(1000, 'tool'),
      changed: many(1000, 'user').map((s) => ({ step: s.step, from: s, to: { ...s, role: 'assistant' } })),
      unchanged: 0,
      identical: false,
    },
    summary: `${HOSTILE} ${'changes '.repeat(900)}`,
  };
}

export function plan(over: Partial<RestorePlan> = {}): RestorePlan {
  return {
    conversationId: ID,
    source: { kind: 'tier', tier: 'postgres' },
    sourceLabel: 'postgres',
    target: {
      exists: true,
      checksum: `sha256:${hex('c0ffee')}`,
      bytes: 5012,
      analysis: analysis({ stepCount: 14 }),
    },
    current: {
      exists: true,
      checksum: `sha256:${hex('77aa')}`,
      bytes: 4321,
      ttlMs: 6 * 3600_000,
      analysis: analysis({ valid: false, findings: [GAP], stepCount: 9 }),
    },
    diff: diffReport().diff,
    diffSummary: '+4 steps added, 1 changed, 9 unchanged',
    warnings: [],
    createdAt: '2025-12-13T03:10:30.000Z',
    ...over,
  };
}

export function request(over: Partial<RecoveryRequest> = {}): RecoveryRequest {
  return {
    id: REQUEST_ID,
    kind: 'restore',
    conversationId: ID,
    channelId: 'C0INC1234',
    requester: 'U0REQUEST',
    reason: 'Redis lost steps 9–11 after the failover; Postgres has all 14.',
    plan: plan(),
    state: 'requested',
    requiredApprovals: 1,
    approvals: [],
    decidedBy: null,
    decidedAt: null,
    denyReason: null,
    createdAt: '2025-12-13T03:11:00.000Z',
    expiresAt: '2025-12-13T03:41:00.000Z',
    result: null,
    ...over,
  };
}

export function hugeRequest(over: Partial<RecoveryRequest> = {}): RecoveryRequest {
  return request({
    id: `rq_${'9'.repeat(125)}`,
    conversationId: LONG_ID,
    requester: 'U0REQUEST',
    reason: HUGE_REASON,
    plan: plan({
      conversationId: LONG_ID,
      source: { kind: 'backup', backupId: `bk_${'B'.repeat(64)}` },
      sourceLabel: `backup:bk_${'B'.repeat(64)}`,
      diffSummary: `${HOSTILE} ${'diff '.repeat(1000)}`,
      warnings: Array.from({ length: 200 }, (_, i) => `${HOSTILE} warning ${i} ${'w'.repeat(500)}`),
    }),
    requiredApprovals: 2,
    denyReason: HUGE_REASON,
    ...over,
  });
}

export function restoreResult(over: Partial<RestoreResult> = {}): RestoreResult {
  return {
    restored: true,
    conversationId: ID,
    source: 'postgres',
    backupId: BACKUP_ID,
    before: `sha256:${hex('77aa')}`,
    after: `sha256:${hex('c0ffee')}`,
    ttlMs: 6 * 3600_000,
    validation: analysis({ stepCount: 14 }),
    verified: true,
    recorded: true,
    diffSummary: '+4 steps added, 1 changed, 9 unchanged',
    ...over,
  };
}

/** A restore whose write Redis never confirmed: what the thread says instead of a result. */
export function restoreUnknown(over: Partial<RestoreUnknown> = {}): RestoreUnknown {
  return {
    conversationId: ID,
    source: 'postgres',
    backupId: BACKUP_ID,
    before: `sha256:${hex('77aa')}`,
    after: `sha256:${hex('c0ffee')}`,
    observed: null,
    detail: 'Redis could not be read back after 6 tries (connection refused).',
    ...over,
  };
}

/** Replay c-7f3a9e from step 5 of 8, past a checkpoint at 6: the warning an approver must see. */
export function replayPlan(over: Partial<ReplayPlan> = {}): ReplayPlan {
  const fromStep = over.fromStep ?? 5;
  const stepCount = over.stepCount ?? 8;
  return {
    conversationId: ID,
    fromStep,
    stepCount,
    checkpoint: 6,
    steps: Array.from({ length: stepCount - fromStep + 1 }, (_, i) =>
      step(fromStep + i, (fromStep + i) % 2 === 0 ? 'tool' : 'assistant'),
    ),
    redisChecksum: `sha256:${hex('77aa')}`,
    warnings: ['Step 5 is before the checkpoint (6): step 5 was already checkpointed and will be re-run.'],
    createdAt: '2025-12-13T03:10:30.000Z',
    ...over,
  };
}

export function replayRequest(over: Partial<RecoveryRequest> = {}): RecoveryRequest {
  return request({
    kind: 'replay',
    reason: 'Zeus crashed mid-tool-call at step 5; the tool result never landed.',
    plan: replayPlan(),
    ...over,
  });
}

/** 1000 steps to re-run, hostile roles, warnings and a reason far past any limit. */
export function hugeReplayRequest(over: Partial<RecoveryRequest> = {}): RecoveryRequest {
  return replayRequest({
    id: `rq_${'9'.repeat(125)}`,
    conversationId: LONG_ID,
    reason: HUGE_REASON,
    plan: replayPlan({
      conversationId: LONG_ID,
      fromStep: 1,
      stepCount: 1000,
      checkpoint: 999,
      steps: Array.from({ length: 1000 }, (_, i) => step(i + 1, `${HOSTILE}${'r'.repeat(300)}`)),
      warnings: Array.from({ length: 200 }, (_, i) => `${HOSTILE} warning ${i} ${'w'.repeat(500)}`),
    }),
    requiredApprovals: 2,
    denyReason: HUGE_REASON,
    ...over,
  });
}

export const HUGE_DETAIL = `${HOSTILE} ${'detail '.repeat(1500)}`;

export const zeusRunning = { state: 'running', step: 7, total: 8, message: 'replaying tool call' };

export function replayStarted(over: Partial<ReplayStartedData> = {}): ReplayStartedData {
  return {
    fromStep: 5,
    steps: 4,
    stepCount: 8,
    idempotencyKey: REQUEST_ID,
    redisChecksum: `sha256:${hex('77aa')}`,
    reason: 'Zeus crashed mid-tool-call',
    statusBefore: { state: 'idle', step: null, total: null, message: null },
    ...over,
  };
}

export function replayFinish<O extends ReplayFinishData['outcome']>(
  outcome: O,
  over: Partial<ReplayFinishData<O>> = {},
): ReplayFinishData<O> {
  const said: Record<ReplayFinishData['outcome'], string> = {
    done: `The replay of ${ID} from step 5 finished at step 8/8.`,
    failed: `The replay of ${ID} from step 5 failed at step 7/8: tool timeout.`,
    timed_out: `The replay of ${ID} from step 5 had not finished after 10 min (last status: running, step 7/8); stopped following it, but Zeus may still finish it.`,
    unknown: `The replay of ${ID} from step 5 may or may not have reached Zeus (timeout after 10000 ms), and its status could not be read either (connection refused). Nothing was re-sent.`,
  };
  return {
    fromStep: 5,
    outcome,
    sent: true,
    ambiguous: outcome === 'unknown',
    replayId: outcome === 'unknown' ? null : 'rp_42',
    polls: 6,
    status:
      outcome === 'unknown'
        ? null
        : outcome === 'timed_out'
          ? zeusRunning
          : { state: outcome, step: outcome === 'done' ? 8 : 7, total: 8, message: null },
    detail: said[outcome],
    ...over,
  };
}

export function replayFailedEarly(over: Partial<ReplayFailedEarlyData> = {}): ReplayFailedEarlyData {
  return {
    fromStep: 5,
    outcome: 'failed',
    sent: false,
    code: 'stale',
    error: `Redis changed since the replay preview of ${ID} (sha256:77aa → sha256:9911); Zeus may be writing to it.`,
    status: null,
    polls: 0,
    ...over,
  };
}

export function replayAmbiguous(over: Partial<ReplayAmbiguousData> = {}): ReplayAmbiguousData {
  return {
    fromStep: 5,
    error: 'timeout after 10000 ms',
    statusBefore: { state: 'idle', step: null, total: null, message: null },
    status: zeusRunning,
    statusError: null,
    ...over,
  };
}
