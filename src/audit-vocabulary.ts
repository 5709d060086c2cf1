import { z } from 'zod';

/**
 * The audit log's vocabulary, written once: every action and the `data` it carries. Writers are
 * typed from it (`AuditLog.append` takes an `AuditEvent`, so a wrong action or shape fails the
 * build), and the thread views parse stored rows with these same schemas, because a row read
 * back may predate this version or have been edited by hand.
 *
 * A leaf: it imports only zod, so the store, the core and the views may all depend on it.
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

/** A conversation's lock as inspect shows it (recovery/lock-state.ts). */
export const lockSummary = z.object({
  holder: z.string(),
  requestId: nullableString,
  since: z.string(),
  expiresAt: z.string(),
  gone: z.boolean(),
});

export const inspectSummary = z.object({
  conversationId: z.string(),
  at: z.string(),
  tiers: z.object({ redis: tierSummary, postgres: tierSummary, s3: tierSummary }),
  recommendation,
  lock: z.union([lockSummary, z.literal('unreadable'), z.null()]).optional(),
});

const tiers = z.object({ redis: tierReport, postgres: tierReport, s3: tierReport });

export const zeusStatusSummary = z.object({
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

export const replayPlan = z.object({
  conversationId: z.string(),
  fromStep: z.number(),
  stepCount: z.number(),
  checkpoint: nullableNumber,
  steps: z.array(stepSummary),
  redisChecksum: z.string(),
  warnings: z.array(z.string()),
  createdAt: z.string(),
});

/** An unlock request's plan (recovery/unlock.ts): the lock as seen, and the lease a break must find. */
const unlockPlan = z.object({
  conversationId: z.string(),
  lock: lockSummary,
  token: z.string(),
  createdAt: z.string(),
});

// No shape parses as another (a restore plan has no fromStep, a replay plan no source, an unlock
// plan neither), so the union cannot pick the wrong one.
const plan = z.union([restorePlan, replayPlan, unlockPlan]);

/** A request's life (approval/types.ts RequestState): see RecoveryRequest there. */
export const requestState = z.enum([
  'requested',
  'approved',
  'executing',
  'succeeded',
  'failed',
  'unknown',
  'denied',
  'expired',
  'cancelled',
]);

export const recoveryRequest = z.object({
  id: z.string(),
  kind: z.enum(['restore', 'undo', 'replay', 'unlock']),
  conversationId: z.string(),
  channelId: z.string(),
  requester: z.string(),
  reason: z.string(),
  plan,
  state: requestState,
  requiredApprovals: z.number(),
  approvals: z.array(z.object({ userId: z.string(), at: z.string(), groupId: nullableString.optional() })),
  decidedBy: nullableString,
  decidedAt: nullableString,
  denyReason: nullableString,
  createdAt: z.string(),
  expiresAt: z.string(),
  result: z.record(z.string(), z.unknown()).nullable(),
  approverGroups: z.array(z.string()).optional(),
  breakGlassReason: nullableString.optional(),
  needsReview: z.boolean().optional(),
  reviewedBy: nullableString.optional(),
});

/**
 * What the workflow adds to an operation's final entry: the request as it ended, so delivering
 * the entry also turns the approval message into the outcome. `.catch`: a snapshot this version
 * cannot read must not keep the outcome itself from being shown.
 */
const requestSnapshot = recoveryRequest.optional().catch(undefined);

/**
 * An operation's outcome entry (restore.succeeded/failed/unknown, replay's ends). recovery/record.ts
 * marks it with `entryId` so a retried append finds the one whose answer was lost.
 */
function outcomeEntry<S extends z.core.$ZodLooseShape>(shape: S) {
  return z.object({ ...shape, entryId: z.string().optional(), request: requestSnapshot });
}

// What recovery/replay.ts `finish()` appends; only `outcome` differs between the four actions.
const replayFinish = <O extends 'done' | 'failed' | 'timed_out' | 'unknown'>(outcome: O) =>
  outcomeEntry({
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
const replayFailedEarly = outcomeEntry({
  fromStep: z.number(),
  outcome: z.literal('failed'),
  /** Whether the request may have reached Zeus; false means Zeus certainly did nothing. */
  sent: z.boolean(),
  code: z.string(),
  error: z.string(),
  status: z.null(),
  polls: z.number(),
});

const request = z.object({ request: recoveryRequest });

const bulkJobState = z.enum(['pending', 'running', 'cancelling', 'cancelled', 'failed', 'succeeded']);
const bulkCounts = z.object({
  restored: z.number(),
  identical: z.number(),
  newer: z.number(),
  changed: z.number(),
  invalid: z.number(),
  failed: z.number(),
});

export const AUDIT_DATA = {
  /** The command as typed; the actor is the entry's. */
  /** `clicked`: the button's label when a click, not typing, asked for it (the thread says so). */
  'command.received': z.object({ command: z.string(), clicked: z.string().optional() }),
  'inspect.reported': z.object({ report: inspectSummary }),
  'validate.reported': z.object({ report: validationReport }),
  'diff.reported': z.object({ report: diffReport }),
  /** The approval message: the request with its plan, the tier report shown with it, who may approve. */
  'request.created': z.object({
    request: recoveryRequest,
    inspect: inspectSummary.optional(),
    approverHint: z.string(),
  }),
  /** request.approved / denied / cancelled / expired: the request after the transition; the actor decided. */
  'request.approved': request,
  'request.denied': request,
  /** `reason`: why the requester withdrew it (required from Slack since 2026-11; older rows have none). */
  'request.cancelled': request.extend({ reason: z.string().optional() }),
  'request.expired': request,
  /** BREAK_GLASS: the requester approved their own request; `notify` mentions the approvers. */
  'request.break_glass': z.object({ request: recoveryRequest, reason: z.string(), notify: z.string() }),
  /** Someone other than the requester looked at a break-glass approval; the flag is cleared. */
  'request.reviewed': request,
  /** A request refused by a blast-radius limit (audit only; the person is told privately). */
  'policy.refused': z.object({
    rule: z.enum(['hourly_limit', 'breaker_open']),
    kind: z.string(),
    used: nullableNumber,
    max: nullableNumber,
    freesAt: nullableString,
    failuresInARow: nullableNumber,
    threshold: nullableNumber,
  }),
  /** `breaker-reset`: asks to close the circuit breaker; another person approves it. */
  'breaker.reset_requested': z.object({
    resetId: z.string(),
    requester: z.string(),
    reason: z.string(),
    failuresInARow: z.number(),
    state: z.enum(['requested', 'approved']),
  }),
  'breaker.reset_approved': z.object({
    resetId: z.string(),
    requester: z.string(),
    reason: z.string(),
    approvedBy: z.string(),
  }),
  /** The "expires soon" reply, once per request (store/expiry-warnings.ts); `approverHint`: who can approve. */
  'request.expiring': z.object({ request: recoveryRequest, approverHint: z.string() }),
  /** An expired request filed again with a fresh plan; `changed`: what Redis did since (plain text), or null. */
  'request.renewed': z.object({
    request: recoveryRequest,
    renewedAs: z.string(),
    changed: nullableString,
  }),
  /** `detail`: what changed since the preview, plain text (shown escaped). */
  'request.stale': z.object({
    request: recoveryRequest,
    detail: nullableString.optional(),
    /** False when no fresh plan could be made (nothing left to approve); absent in older entries: true. */
    refreshed: z.boolean().optional(),
  }),
  /** A run its owner left unfinished (crash, kill -9), settled by approval/settle-stuck.ts. */
  'request.settled': z.object({
    request: recoveryRequest,
    outcome: z.enum(['succeeded', 'failed', 'unknown']),
    reached: z.enum(['not_started', 'before_write', 'write', 'sent']),
    observed: nullableString,
    before: nullableString,
    after: nullableString,
    backupId: nullableString,
    leaseExpiredAt: nullableString,
    detail: z.string(),
  }),
  // restore.* are written by recovery/execute.ts.
  /** A conversation's lock broken (unlock), only while the lease that was seen still held it. */
  'lock.broken': outcomeEntry({ lock: lockSummary, reason: z.string() }),
  /**
   * An approved unlock that broke nothing: the lease it was approved for no longer held the lock.
   * `now`: who holds it now, or null when it was released meanwhile.
   */
  'lock.not_broken': outcomeEntry({
    lock: lockSummary,
    now: lockSummary.nullable(),
    reason: z.string(),
    /** The same in one plain sentence (the approval message's status line reads it). */
    error: z.string(),
  }),
  'restore.started': z.object({
    source: z.string(),
    backupId: z.string(),
    before: nullableString,
    after: nullableString,
    reason: z.string().optional(),
  }),
  'restore.succeeded': outcomeEntry({
    source: z.string(),
    backupId: z.string(),
    before: nullableString,
    after: nullableString,
    ttlMs: nullableNumber,
    valid: z.boolean().nullable(),
    /** Absent before 2026-11: read back as written. false: acknowledged, but not readable after. */
    verified: z.boolean().optional(),
  }),
  'restore.failed': outcomeEntry({
    source: z.string(),
    backupId: nullableString,
    code: z.string(),
    error: z.string(),
  }),
  'restore.unknown': outcomeEntry({
    source: z.string(),
    backupId: z.string(),
    before: nullableString,
    after: nullableString,
    observed: nullableString,
    observedUnreadable: z.boolean(),
    code: z.string(),
    detail: z.string(),
  }),
  // replay.* are written by recovery/replay.ts.
  /** The POST is about to go out; `statusBefore` is Zeus's status just before, if it answered. */
  'replay.started': z.object({
    fromStep: z.number(),
    steps: z.number(),
    stepCount: z.number(),
    idempotencyKey: z.string(),
    redisChecksum: z.string(),
    reason: z.string(),
    statusBefore: zeusStatusSummary.nullable(),
  }),
  /** The POST's fate was unclear; it was not re-sent, and `status` is what Zeus said after. */
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
  /** The file shared in the thread. */
  'export.uploaded': z.object({
    tier: tierName,
    filename: z.string(),
    bytes: z.number(),
    checksum: z.string(),
  }),
  /** Too large for Slack: the CLI command that exports it instead. */
  'export.refused': z.object({ tier: tierName, bytes: z.number(), limit: z.number(), cli: z.string() }),
  // bulk.* are written by recovery/bulk/job.ts for the CLI's bulk restore (no thread).
  'bulk.started': z.object({
    jobId: z.string(),
    reason: z.string(),
    selection: z.record(z.string(), z.unknown()),
    total: z.number(),
    chunks: z.number(),
    groups: z.record(z.string(), z.number()),
    overwrite: z.boolean(),
    maxRate: nullableNumber,
  }),
  'bulk.cancel_requested': z.object({
    jobId: z.string(),
    reason: z.string(),
    state: bulkJobState.nullable(),
  }),
  'bulk.resumed': z.object({ jobId: z.string(), reason: z.string(), chunks: z.number() }),
  'bulk.chunk': z.object({ jobId: z.string(), chunk: z.number(), counts: z.record(z.string(), z.number()) }),
  'bulk.chunk_failed': z.object({ jobId: z.string(), chunk: z.number(), error: z.string() }),
  'bulk.finished': z.object({ jobId: z.string(), state: bulkJobState, counts: bulkCounts }),
  /** Left running with unfinished chunks and no worker, nor pg-boss copy, to work them (recovery/bulk/orphans.ts). */
  'bulk.orphaned': z.object({
    jobId: z.string(),
    state: z.enum(['failed', 'cancelled']),
    unfinished: z.number(),
    error: z.string(),
  }),
  // Slack's bulk jobs (workflow/bulk.ts), delivered to the job's own thread (keyed by the job id).
  /** The preview and approval card: what two people approve, as it was counted. */
  'bulk.requested': z.object({
    jobId: z.string(),
    reason: z.string(),
    requester: z.string(),
    selection: z.record(z.string(), z.unknown()),
    overwrite: z.boolean(),
    maxRate: nullableNumber,
    total: z.number(),
    bytes: z.number(),
    toRestore: z.number(),
    bytesToRestore: z.number(),
    groups: z.record(z.string(), z.number()),
    samples: z.record(z.string(), z.array(z.string())),
    invalidReasons: z.record(z.string(), z.number()),
    memory: z.object({
      usedBytes: z.number(),
      maxBytes: z.number(),
      policies: z.array(z.string()),
      bytesToWrite: z.number(),
      headroomBytes: nullableNumber,
    }),
    requiredApprovals: z.number(),
    expiresAt: z.string(),
    approverHint: z.string(),
  }),
  /** Approved and queued: delivered as the progress message, edited in place while it runs. */
  'bulk.approved': z.object({ jobId: z.string(), total: z.number(), approvedBy: z.array(z.string()) }),
  'bulk.denied': z.object({ jobId: z.string(), reason: z.string() }),
  /** BREAK_GLASS: the requester approved their own bulk job; `notify` mentions the approvers. */
  'bulk.break_glass': z.object({
    jobId: z.string(),
    total: z.number(),
    requester: z.string(),
    reason: z.string(),
    decidedAt: z.string(),
    notify: z.string(),
  }),
  /** Someone other than the requester looked at a break-glass bulk job; the flag is cleared. */
  'bulk.reviewed': z.object({ jobId: z.string(), total: z.number(), requester: z.string() }),
  'bulk.expired': z.object({ jobId: z.string() }),
  /** The "expires soon" reply of a pending bulk job, once per job. */
  'bulk.expiring': z.object({
    jobId: z.string(),
    requester: z.string(),
    expiresAt: z.string(),
    approverHint: z.string(),
  }),
  /** The final report; `file`: all the failures, shared in the thread when there are too many to list. */
  'bulk.reported': z.object({
    jobId: z.string(),
    state: bulkJobState,
    total: z.number(),
    counts: bulkCounts,
    failureCount: z.number(),
    failures: z.array(z.object({ conversationId: z.string(), outcome: z.string(), detail: nullableString })),
    file: nullableString,
  }),
} as const;

export type AuditAction = keyof typeof AUDIT_DATA;

export const AUDIT_ACTIONS = Object.keys(AUDIT_DATA) as AuditAction[];

export const isAuditAction = (action: unknown): action is AuditAction =>
  typeof action === 'string' && Object.hasOwn(AUDIT_DATA, action);

/** The actions that end an operation: their data may carry `entryId` and `request` (outcomeEntry). */
export const OUTCOME_ACTIONS = [
  'restore.succeeded',
  'restore.failed',
  'restore.unknown',
  'replay.succeeded',
  'replay.failed',
  'replay.timed_out',
  'replay.unknown',
  'lock.broken',
  'lock.not_broken',
] as const satisfies readonly AuditAction[];
export type OutcomeAction = (typeof OUTCOME_ACTIONS)[number];

/** What a writer passes for action `A` (the views read `z.output` of the same schema). */
export type AuditData<A extends AuditAction> = z.input<(typeof AUDIT_DATA)[A]>;

/** An action with its data; a union over actions, so the action decides the shape. */
export type AuditRecord<A extends AuditAction = AuditAction> = {
  [K in A]: { action: K; data: AuditData<K> };
}[A];

/** One event to append: an action with its data, who did it and what it is about. */
export type AuditEvent<A extends AuditAction = AuditAction> = AuditRecord<A> & {
  /** `slack:U123`, `cli:alice`, `system`. */
  actor: string;
  conversationId: string | null;
  requestId: string | null;
};

export const isOutcomeEvent = (event: AuditEvent): event is AuditEvent<OutcomeAction> =>
  (OUTCOME_ACTIONS as readonly string[]).includes(event.action);

/** What every outcome entry's data may carry besides its own fields (see outcomeEntry). */
export type OutcomeMarks = Partial<Pick<AuditData<'restore.succeeded'>, 'entryId' | 'request'>>;

/** An outcome event with `marks` added to its data, which every outcome schema declares. */
export function withOutcomeMarks(
  event: AuditEvent<OutcomeAction>,
  marks: OutcomeMarks,
): AuditEvent<OutcomeAction> {
  // TypeScript cannot follow a spread through the union of actions; outcomeEntry guarantees the fit.
  return { ...event, data: { ...event.data, ...marks } } as AuditEvent<OutcomeAction>;
}
