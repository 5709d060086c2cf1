import { z } from 'zod';
import type { RequestSettledData } from '../approval/settle-stuck.js';
import type { AuditAction, RecoveryRequest } from '../approval/types.js';
import type { DiffReport, ValidationReport } from '../recovery/operations.js';
import type { ReplayOutcome, ReplayPlan } from '../recovery/replay.js';
import type { ZeusStatusSummary } from '../recovery/zeus-api.js';
import type { InspectSummary } from './tiers.js';

/**
 * The `data` each audit action carries, as the thread delivery renders it. Rows come back from
 * Postgres as JSON, so every shape is checked at runtime before a view sees it; the
 * `satisfies`-style assignments at the bottom make the build fail if a schema drifts from the
 * core's types.
 */

const nullableString = z.string().nullable();
const nullableNumber = z.number().nullable();
const tierName = z.enum(['redis', 'postgres', 's3']);

const finding = z.object({ severity: z.enum(['error', 'warning']), code: z.string(), message: z.string() });
const stepSummary = z.object({
  step: z.number(),
  role: nullableString,
  ts: nullableString,
  hash: z.string(),
});

const analysis = z.object({
  bytes: z.number(),
  checksum: z.string(),
  contentHash: nullableString,
  parsed: z.boolean(),
  valid: z.boolean(),
  findings: z.array(finding),
  status: nullableString,
  steps: z.array(stepSummary).nullable(),
  stepCount: nullableNumber,
  lastStepAt: nullableString,
  checkpoint: nullableNumber,
  updatedAt: nullableString,
});

const tierReport = z.object({
  tier: tierName,
  location: z.string(),
  status: z.enum(['found', 'missing', 'unreachable']),
  reason: nullableString,
  analysis: analysis.nullable(),
  ttlMs: nullableNumber,
  latencyMs: z.number(),
});

const recommendation = z.object({ source: tierName.nullable(), reason: z.string() });

const tierSummary = z.object({
  status: z.enum(['found', 'missing', 'unreachable']),
  valid: z.boolean().nullable(),
  steps: nullableNumber,
  checksum: nullableString,
  contentHash: nullableString,
  bytes: nullableNumber,
  lastStepAt: nullableString,
  ttlMs: nullableNumber,
  location: z.string(),
  latencyMs: z.number(),
  problems: z.array(z.string()),
  findings: z.array(z.object({ severity: z.string(), code: z.string(), message: z.string() })),
});

export const inspectSummarySchema = z.object({
  conversationId: z.string(),
  at: z.string(),
  tiers: z.object({ redis: tierSummary, postgres: tierSummary, s3: tierSummary }),
  recommendation,
});

const tiers = z.object({ redis: tierReport, postgres: tierReport, s3: tierReport });

const zeusStatusSummary = z.object({
  state: z.string(),
  step: nullableNumber,
  total: nullableNumber,
  message: nullableString,
});

const validationReport = z.object({
  conversationId: z.string(),
  at: z.string(),
  tiers,
  agreement: z.object({
    groups: z.array(
      z.object({ tiers: z.array(tierName), contentHash: z.string(), stepCount: nullableNumber }),
    ),
    ahead: z.array(z.object({ tier: tierName, byStepsOver: tierName, steps: z.number() })),
    summary: z.string(),
  }),
  recommendation,
  verdict: z.enum(['healthy', 'degraded', 'broken']),
  summary: z.string(),
  next: nullableString,
  zeus: z.union([zeusStatusSummary, z.object({ error: z.string() })]).exactOptional(),
});

const stepDiff = z.object({
  added: z.array(stepSummary),
  removed: z.array(stepSummary),
  changed: z.array(z.object({ step: z.number(), from: stepSummary, to: stepSummary })),
  unchanged: z.number(),
  identical: z.boolean(),
});

const diffReport = z.object({
  conversationId: z.string(),
  source: z.string(),
  redis: tierReport,
  sourceAnalysis: analysis.nullable(),
  diff: stepDiff,
  summary: z.string(),
});

const restoreSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('tier'), tier: z.enum(['postgres', 's3']) }),
  z.object({ kind: z.literal('backup'), backupId: z.string() }),
  z.object({ kind: z.literal('file'), path: z.string() }),
]);

const restorePlan = z.object({
  conversationId: z.string(),
  source: restoreSource,
  sourceLabel: z.string(),
  target: z.object({
    exists: z.boolean(),
    checksum: nullableString,
    bytes: z.number(),
    analysis: analysis.nullable(),
  }),
  current: z.object({
    exists: z.boolean(),
    checksum: nullableString,
    bytes: z.number(),
    ttlMs: nullableNumber,
    analysis: analysis.nullable(),
  }),
  diff: stepDiff,
  diffSummary: z.string(),
  warnings: z.array(z.string()),
  createdAt: z.string(),
});

const replayPlan = z.object({
  conversationId: z.string(),
  fromStep: z.number(),
  stepCount: z.number(),
  checkpoint: nullableNumber,
  steps: z.array(stepSummary),
  redisChecksum: z.string(),
  warnings: z.array(z.string()),
  createdAt: z.string(),
});

// Neither shape parses as the other (a restore plan has no fromStep, a replay plan no source), so
// the union cannot pick the wrong one.
const plan = z.union([restorePlan, replayPlan]);

// What recovery/replay.ts `finish()` appends; only `outcome` differs between the four actions.
const replayFinish = <O extends ReplayOutcome>(outcome: O) =>
  z.object({
    fromStep: z.number(),
    outcome: z.literal(outcome),
    sent: z.boolean(),
    ambiguous: z.boolean(),
    replayId: nullableString,
    polls: z.number(),
    status: zeusStatusSummary.nullable(),
    detail: z.string(),
  });

/** `replay.failed` before or while sending (stale preview, Zeus refused): no status was followed. */
const replayFailedEarly = z.object({
  fromStep: z.number(),
  outcome: z.literal('failed'),
  /** Whether the request may have reached Zeus; false means Zeus certainly did nothing. */
  sent: z.boolean(),
  code: z.string(),
  error: z.string(),
  status: z.null(),
  polls: z.number(),
});

export const recoveryRequestSchema = z.object({
  id: z.string(),
  kind: z.enum(['restore', 'undo', 'replay']),
  conversationId: z.string(),
  channelId: z.string(),
  requester: z.string(),
  reason: z.string(),
  plan,
  state: z.enum([
    'requested',
    'approved',
    'executing',
    'succeeded',
    'failed',
    'unknown',
    'denied',
    'expired',
    'cancelled',
  ]),
  requiredApprovals: z.number(),
  approvals: z.array(z.object({ userId: z.string(), at: z.string() })),
  decidedBy: nullableString,
  decidedAt: nullableString,
  denyReason: nullableString,
  createdAt: z.string(),
  expiresAt: z.string(),
  result: z.record(z.string(), z.unknown()).nullable(),
});

const request = z.object({ request: recoveryRequestSchema });

export const auditDataSchemas = {
  'command.received': z.object({ command: z.string() }),
  'inspect.reported': z.object({ report: inspectSummarySchema }),
  'validate.reported': z.object({ report: validationReport }),
  'diff.reported': z.object({ report: diffReport }),
  'request.created': z.object({
    request: recoveryRequestSchema,
    inspect: inspectSummarySchema.optional(),
    approverHint: z.string(),
  }),
  'request.approved': request,
  'request.denied': request,
  'request.cancelled': request,
  'request.expired': request,
  'request.stale': z.object({ request: recoveryRequestSchema, detail: nullableString.optional() }),
  // Written by approval/settle-stuck.ts for a run its owner left unfinished (crash, kill -9).
  'request.settled': z.object({
    request: recoveryRequestSchema,
    outcome: z.enum(['succeeded', 'failed', 'unknown']),
    reached: z.enum(['not_started', 'before_write', 'write', 'sent']),
    observed: nullableString,
    before: nullableString,
    after: nullableString,
    backupId: nullableString,
    leaseExpiredAt: nullableString,
    detail: z.string(),
  }),
  // The restore.* rows are written by recovery/execute.ts; these mirror what it appends.
  'restore.started': z.object({
    source: z.string(),
    backupId: z.string(),
    before: nullableString,
    after: nullableString,
    reason: z.string().optional(),
  }),
  'restore.succeeded': z.object({
    source: z.string(),
    backupId: z.string(),
    before: nullableString,
    after: nullableString,
    ttlMs: nullableNumber,
    valid: z.boolean().nullable(),
    /** Absent before 2026-11: read back as written. false: acknowledged, but not readable after. */
    verified: z.boolean().optional(),
  }),
  'restore.failed': z.object({
    source: z.string(),
    backupId: nullableString,
    code: z.string(),
    error: z.string(),
  }),
  'restore.unknown': z.object({
    source: z.string(),
    backupId: z.string(),
    before: nullableString,
    after: nullableString,
    observed: nullableString,
    observedUnreadable: z.boolean(),
    code: z.string(),
    detail: z.string(),
  }),
  // The replay.* rows are written by recovery/replay.ts; these mirror what it appends. The
  // workflow adds a `request` snapshot to the terminal ones, which the thread view does not need.
  'replay.started': z.object({
    fromStep: z.number(),
    steps: z.number(),
    stepCount: z.number(),
    idempotencyKey: z.string(),
    redisChecksum: z.string(),
    reason: z.string(),
    statusBefore: zeusStatusSummary.nullable(),
  }),
  'replay.ambiguous': z.object({
    fromStep: z.number(),
    error: z.string(),
    statusBefore: zeusStatusSummary.nullable(),
    status: zeusStatusSummary.nullable(),
    statusError: nullableString,
  }),
  'replay.succeeded': replayFinish('done'),
  // The finish shape first: an early failure has no `detail`, a finish no `code`, so they never overlap.
  'replay.failed': z.union([replayFinish('failed'), replayFailedEarly]),
  'replay.timed_out': replayFinish('timed_out'),
  'replay.unknown': replayFinish('unknown'),
  'export.uploaded': z.object({
    tier: tierName,
    filename: z.string(),
    bytes: z.number(),
    checksum: z.string(),
  }),
  'export.refused': z.object({ tier: tierName, bytes: z.number(), limit: z.number(), cli: z.string() }),
} as const;

/** `export.uploaded`: the file shared in the thread; `export.refused`: too large for Slack. */
export type ExportUploadedData = z.output<(typeof auditDataSchemas)['export.uploaded']>;
export type ExportRefusedData = z.output<(typeof auditDataSchemas)['export.refused']>;

/** `command.received`: the command as typed; the actor is the entry's. */
export type CommandReceivedData = { command: string };
export type InspectReportedData = { report: InspectSummary };
export type ValidateReportedData = { report: ValidationReport };
export type DiffReportedData = { report: DiffReport };
/** The approval message: the request with its plan, the tier report shown with it, who may approve. */
export type RequestCreatedData = { request: RecoveryRequest; inspect?: InspectSummary; approverHint: string };
/** request.approved / denied / cancelled / expired: the request after the transition; the actor decided. */
export type RequestTransitionData = { request: RecoveryRequest };
export type RequestApprovedData = RequestTransitionData;
export type RequestDeniedData = RequestTransitionData;
export type RequestCancelledData = RequestTransitionData;
export type RequestExpiredData = RequestTransitionData;
/** `detail`: what changed since the preview, plain text (shown escaped). */
export type RequestStaleData = { request: RecoveryRequest; detail?: string | null };
export type RestoreStartedData = {
  source: string;
  backupId: string;
  before: string | null;
  after: string | null;
  reason?: string;
};
export type RestoreSucceededData = {
  source: string;
  backupId: string;
  before: string | null;
  after: string | null;
  ttlMs: number | null;
  valid: boolean | null;
  verified?: boolean | undefined;
};
export type RestoreFailedData = { source: string; backupId: string | null; code: string; error: string };
export type RestoreUnknownData = {
  source: string;
  backupId: string;
  before: string | null;
  after: string | null;
  observed: string | null;
  observedUnreadable: boolean;
  code: string;
  detail: string;
};

/** `replay.started`: the POST is about to go out; `statusBefore` is Zeus's status just before, if it answered. */
export type ReplayStartedData = {
  fromStep: number;
  steps: number;
  stepCount: number;
  idempotencyKey: string;
  redisChecksum: string;
  reason: string;
  statusBefore: ZeusStatusSummary | null;
};
/** `replay.ambiguous`: the POST's fate was unclear; it was not re-sent, and `status` is what Zeus said after. */
export type ReplayAmbiguousData = {
  fromStep: number;
  error: string;
  statusBefore: ZeusStatusSummary | null;
  status: ZeusStatusSummary | null;
  statusError: string | null;
};
/** A followed replay's end: `detail` is one sentence for a person, `status` Zeus's last word. */
export type ReplayFinishData<O extends ReplayOutcome = ReplayOutcome> = {
  fromStep: number;
  outcome: O;
  sent: boolean;
  ambiguous: boolean;
  replayId: string | null;
  polls: number;
  status: ZeusStatusSummary | null;
  detail: string;
};
export type ReplayFailedEarlyData = {
  fromStep: number;
  outcome: 'failed';
  sent: boolean;
  code: string;
  error: string;
  status: null;
  polls: number;
};
export type ReplaySucceededData = ReplayFinishData<'done'>;
export type ReplayFailedData = ReplayFinishData<'failed'> | ReplayFailedEarlyData;
export type ReplayTimedOutData = ReplayFinishData<'timed_out'>;
export type ReplayUnknownData = ReplayFinishData<'unknown'>;
/** Any terminal replay entry: succeeded, failed (either shape), timed_out, unknown. */
export type ReplayOutcomeData = ReplayFinishData | ReplayFailedEarlyData;

type Parsed<K extends keyof typeof auditDataSchemas> = z.output<(typeof auditDataSchemas)[K]>;

// Compile-time drift checks: each parsed shape must be usable as the type the views take.
type Assert<T extends true> = T;
type Fits<A, B> = A extends B ? true : false;
export type _DriftChecks = [
  // Every audit action has a shape, and nothing else does.
  Assert<Fits<AuditAction, keyof typeof auditDataSchemas>>,
  Assert<Fits<keyof typeof auditDataSchemas, AuditAction>>,
  Assert<Fits<Parsed<'inspect.reported'>['report'], InspectSummary>>,
  Assert<Fits<Parsed<'validate.reported'>['report'], ValidationReport>>,
  Assert<Fits<Parsed<'diff.reported'>['report'], DiffReport>>,
  Assert<Fits<Parsed<'request.approved'>['request'], RecoveryRequest>>,
  Assert<Fits<Parsed<'restore.succeeded'>, RestoreSucceededData>>,
  Assert<Fits<Parsed<'request.settled'>, RequestSettledData>>,
  Assert<Fits<RequestSettledData, Parsed<'request.settled'>>>,
  Assert<Fits<Parsed<'restore.failed'>, RestoreFailedData>>,
  Assert<Fits<Parsed<'restore.unknown'>, RestoreUnknownData>>,
  Assert<Fits<z.output<typeof replayPlan>, ReplayPlan>>,
  Assert<Fits<ReplayPlan, z.output<typeof replayPlan>>>,
  Assert<Fits<z.output<typeof zeusStatusSummary>, ZeusStatusSummary>>,
  Assert<Fits<Parsed<'replay.started'>, ReplayStartedData>>,
  Assert<Fits<Parsed<'replay.ambiguous'>, ReplayAmbiguousData>>,
  Assert<Fits<Parsed<'replay.succeeded'>, ReplaySucceededData>>,
  Assert<Fits<Parsed<'replay.failed'>, ReplayFailedData>>,
  Assert<Fits<Parsed<'replay.timed_out'>, ReplayTimedOutData>>,
  Assert<Fits<Parsed<'replay.unknown'>, ReplayUnknownData>>,
];
