import type { z } from 'zod';
import type { RequestSettledData } from '../approval/settle-stuck.js';
import type { RecoveryRequest } from '../approval/types.js';
import type { AUDIT_DATA, AuditAction, replayPlan, zeusStatusSummary } from '../audit-vocabulary.js';
import type { DiffReport, ValidationReport } from '../recovery/operations.js';
import type { ReplayOutcome, ReplayPlan } from '../recovery/replay.js';
import type { ZeusStatusSummary } from '../recovery/zeus-api.js';
import type { InspectSummary } from './tiers.js';

/**
 * The `data` each audit action carries, as the thread delivery renders it: the shapes are the
 * audit vocabulary's (src/audit-vocabulary.ts), parsed at runtime before a view sees them because
 * rows come back from Postgres as JSON. The checks at the bottom make the build fail if a shape
 * drifts from the core's types.
 */

/** The data of action `A` as a view receives it, after parsing. */
export type Parsed<A extends AuditAction> = z.output<(typeof AUDIT_DATA)[A]>;

export type ExportUploadedData = Parsed<'export.uploaded'>;
export type ExportRefusedData = Parsed<'export.refused'>;
export type ReplayStartedData = Parsed<'replay.started'>;
export type ReplayAmbiguousData = Parsed<'replay.ambiguous'>;

/**
 * A followed replay's end: `detail` is one sentence for a person, `status` Zeus's last word. The
 * four end actions share this shape and differ only in `outcome`.
 */
export type ReplayFinishData<O extends ReplayOutcome = ReplayOutcome> = Omit<
  Parsed<'replay.succeeded'>,
  'outcome'
> & { outcome: O };
/** `replay.failed` before or while sending (stale preview, Zeus refused): no status was followed. */
export type ReplayFailedEarlyData = Extract<Parsed<'replay.failed'>, { code: string }>;
/** Any terminal replay entry: succeeded, failed (either shape), timed_out, unknown. */
export type ReplayOutcomeData = ReplayFinishData | ReplayFailedEarlyData;

// Compile-time drift checks: each parsed shape must be usable as the type the views take.
type Assert<T extends true> = T;
type Fits<A, B> = A extends B ? true : false;
export type _DriftChecks = [
  Assert<Fits<Parsed<'inspect.reported'>['report'], InspectSummary>>,
  Assert<Fits<Parsed<'validate.reported'>['report'], ValidationReport>>,
  Assert<Fits<Parsed<'diff.reported'>['report'], DiffReport>>,
  Assert<Fits<Parsed<'request.approved'>['request'], RecoveryRequest>>,
  Assert<Fits<Parsed<'request.settled'>, RequestSettledData>>,
  Assert<Fits<RequestSettledData, Parsed<'request.settled'>>>,
  Assert<Fits<z.output<typeof replayPlan>, ReplayPlan>>,
  Assert<Fits<ReplayPlan, z.output<typeof replayPlan>>>,
  Assert<Fits<z.output<typeof zeusStatusSummary>, ZeusStatusSummary>>,
];
