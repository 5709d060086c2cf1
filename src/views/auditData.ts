import { z } from 'zod';
import type { AuditAction, RecoveryRequest } from '../approval/types.js';
import type { DiffReport, ValidationReport } from '../recovery/operations.js';
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

const plan = z.object({
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
  }),
  'restore.failed': z.object({
    source: z.string(),
    backupId: nullableString,
    code: z.string(),
    error: z.string(),
  }),
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
};
export type RestoreFailedData = { source: string; backupId: string | null; code: string; error: string };

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
  Assert<Fits<Parsed<'restore.failed'>, RestoreFailedData>>,
];
