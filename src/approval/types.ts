import type { z } from 'zod';
import { requestState, type AuditAction as VocabularyAction } from '../audit-vocabulary.js';
import type { RestorePlan } from '../recovery/plan.js';
import type { ReplayPlan } from '../recovery/replay.js';
import type { UnlockPlan } from '../recovery/unlock.js';

/**
 * A destructive operation asked for in Slack. It moves
 *   requested → approved → executing → succeeded | failed | unknown
 *   requested → denied | expired | cancelled
 * `unknown`: the write was sent, its reply lost, and Redis then held neither the old nor the new
 * value (or could not be read back); someone has to look at Redis.
 * and every move is one conditional UPDATE in Postgres (… WHERE state = <expected>), so a
 * double click, a Slack retry or two replicas can never run it twice.
 */
export type RequestState = z.output<typeof requestState>;

export const TERMINAL_STATES: readonly RequestState[] = requestState.exclude([
  'requested',
  'approved',
  'executing',
]).options;

export type RequestKind = 'restore' | 'undo' | 'replay' | 'unlock';

/** What a request runs: a RestorePlan (restore, undo), a ReplayPlan, or an UnlockPlan (break-glass). */
export type RequestPlan = RestorePlan | ReplayPlan | UnlockPlan;

/** Narrows a request's plan: replays carry a ReplayPlan, restores and undos a RestorePlan. */
export function isReplayPlan(plan: RequestPlan): plan is ReplayPlan {
  return 'fromStep' in plan && 'redisChecksum' in plan;
}

/** An unlock request's plan: the lock as it was seen, and the lease that a break must still find. */
export function isUnlockPlan(plan: RequestPlan): plan is UnlockPlan {
  return 'token' in plan && 'lock' in plan;
}

export interface Approval {
  userId: string;
  at: string;
  /** The approver group it counted for (APPROVER_GROUPS); absent or null without groups. */
  groupId?: string | null | undefined;
}

export interface RecoveryRequest {
  /** `rq_<uuid>`; also the Idempotency-Key of a replay. */
  id: string;
  kind: RequestKind;
  conversationId: string;
  channelId: string;
  /** Slack user id of who asked. */
  requester: string;
  reason: string;
  /**
   * The preview the approver sees; execution is bound to its checksums (an unlock's, to the lease
   * it saw). A ReplayPlan iff kind is 'replay', an UnlockPlan iff kind is 'unlock'.
   */
  plan: RequestPlan;
  state: RequestState;
  requiredApprovals: number;
  approvals: Approval[];
  /** Who moved it to its final decision (denied/cancelled), and why. */
  decidedBy: string | null;
  decidedAt: string | null;
  denyReason: string | null;
  createdAt: string;
  expiresAt: string;
  /** Outcome details once terminal: backup id, checksums, or the error. */
  result: Record<string, unknown> | null;
  /** APPROVER_GROUPS when it was opened: one approval from each, up to requiredApprovals. */
  approverGroups?: string[] | undefined;
  /** Set when the requester approved it themselves (BREAK_GLASS=on), with why. */
  breakGlassReason?: string | null | undefined;
  /** A break-glass approval nobody else has marked reviewed yet. */
  needsReview?: boolean | undefined;
  reviewedBy?: string | null | undefined;
}

/**
 * The audit actions the Slack face writes (the core writes `restore.*` itself), by name; what
 * each carries is in src/audit-vocabulary.ts. Each entry is delivered to the conversation's
 * incident thread from the audit log, so `data` carries what the thread message shows —
 * summaries and checksums, never conversation content.
 */
export const AuditAction = {
  CommandReceived: 'command.received',
  InspectReported: 'inspect.reported',
  ValidateReported: 'validate.reported',
  DiffReported: 'diff.reported',
  RequestCreated: 'request.created',
  RequestApproved: 'request.approved',
  RequestDenied: 'request.denied',
  RequestCancelled: 'request.cancelled',
  RequestExpired: 'request.expired',
  RequestStale: 'request.stale',
  RequestSettled: 'request.settled',
  RestoreStarted: 'restore.started',
  RestoreSucceeded: 'restore.succeeded',
  RestoreFailed: 'restore.failed',
  RestoreUnknown: 'restore.unknown',
  ReplayStarted: 'replay.started',
  ReplayAmbiguous: 'replay.ambiguous',
  ReplaySucceeded: 'replay.succeeded',
  ReplayFailed: 'replay.failed',
  ReplayTimedOut: 'replay.timed_out',
  ReplayUnknown: 'replay.unknown',
  ExportUploaded: 'export.uploaded',
  ExportRefused: 'export.refused',
} as const satisfies Record<string, VocabularyAction>;
export type AuditAction = (typeof AuditAction)[keyof typeof AuditAction];
