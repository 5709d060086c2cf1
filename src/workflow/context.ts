import type { RecoveryRequest, RequestKind, RequestPlan } from '../approval/types.js';
import { AuditAction } from '../approval/types.js';
import type { Config } from '../config.js';
import { ErrorCode, errorMessage, RecoveryError } from '../errors.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { ChunkQueue } from '../recovery/bulk/job.js';
import type { BulkDeps } from '../recovery/bulk/preview.js';
import {
  type CoreDeps,
  inspectConversation,
  type ListResult,
  type ValidationReport,
  validateConversation,
} from '../recovery/index.js';
import { inspectJson } from '../recovery/summary.js';
import type { ToldEntry } from '../store/audit.js';
import type { RequestAuditLookup } from '../store/audit-lookup.js';
import {
  type BlastRadiusStatus,
  type BreakerResetStore,
  HourlyLimitReached,
  hourlyRefusedEvent,
} from '../store/blast-radius.js';
import type { BulkRequest, BulkRequestStore } from '../store/bulk-requests.js';
import type { ExpiryWarningStore } from '../store/expiry-warnings.js';
import type { RenewalStore } from '../store/renewals.js';
import { type ExpiryNotice, OpenRequestConflict, type RequestStore } from '../store/requests.js';
import type { AuditEvent } from '../store/types.js';
import { approverHint, openConflictText } from '../views/approval-refusals.js';
import { groupsApproverHint, hourlyLimitText } from '../views/policies.js';
import { replies } from '../views/replies.js';
import type { ChatNames, MessagingPort } from './messaging.js';

/** Who did something, always taken from the signed payload of the chat it came from. */
export interface Actor {
  userId: string;
  channelId: string;
}

/** A private answer to one person (ephemeral); the thread gets the public story. */
export interface Reply {
  ok: boolean;
  message: string;
  hint?: string;
  /** The RecoveryError's code when there is one: shown with the answer and counted in metrics. */
  code?: ErrorCode;
  /** Where to answer when there is no response_url (modal submissions). */
  channelId?: string;
  /** The message names people as `<@U…>` (views/approval-refusals.ts, which escapes any user text in it). */
  mentions?: boolean;
  /** A link to the thread message the command started, once it is posted (null: not posted in time). */
  link?: string | null;
  /** Ids the person may have meant (an id no tier holds); offered as buttons. */
  near?: string[];
}

export interface WorkflowDeps {
  core: CoreDeps;
  requests: RequestStore;
  policy: Config['policy'];
  groupMembers: () => Promise<ReadonlySet<string> | null>;
  /** Members of any user group (APPROVER_GROUPS); null when Slack has not answered for it. */
  groupMembersOf?: (groupId: string) => Promise<ReadonlySet<string> | null>;
  /** Circuit breaker resets (docs/approval-policies.md); absent, `breaker-reset` says it is not set up. */
  breakerResets?: BreakerResetStore;
  /** The hourly limit and the breaker as they stand (store/blast-radius.ts). */
  blastRadius?: () => Promise<BlastRadiusStatus>;
  messaging: MessagingPort;
  names: ChatNames;
  metrics?: Metrics;
  /** Finds the message a later step edits: the restore result an undo used (its Undo button), a break-glass notice once reviewed. */
  lookup: Pick<RequestAuditLookup, 'restoreThatTook' | 'latest' | 'latestIn'>;
  /** Bulk restore from Slack (workflow/bulk.ts); absent, the bulk verbs say it is not set up. */
  bulk?: BulkWorkflowDeps;
  /** Claims of the "expires soon" replies (workflow/expiry.ts); absent, none are posted. */
  expiryWarnings?: ExpiryWarningStore;
  /** One renewal per expired request (workflow/expiry.ts); absent, Renew is not guarded. */
  renewals?: RenewalStore;
  /** How a replay is followed through Zeus's status endpoint. */
  replay?: { pollMs: number; timeoutMs: number };
  logger: Logger;
}

/** What the bot needs to run bulk jobs from Slack; absent, the bulk verbs say so. */
export interface BulkWorkflowDeps {
  deps: BulkDeps;
  queue: ChunkQueue;
  requests: BulkRequestStore;
  /** At most one edit of a job's progress message per this many ms, across replicas (5 s). */
  progressIntervalMs: number;
  /**
   * Starts the job's progress beat (jobs.ts BULK_PROGRESS_QUEUE), which shows progress every
   * interval while it runs; absent, only chunk ends and the sweep tick move the message.
   */
  startBeat?: (jobId: string) => Promise<void>;
}

/** A page of `list`, or why there is none. */
export type ListReply = { ok: true; result: ListResult } | (Reply & { ok: false });

/** The moves `transition` records; only `request.stale` carries a `detail` (what changed). */
type RequestTransition = 'request.approved' | 'request.denied' | 'request.cancelled' | 'request.stale';

/** An entry to a bulk job's thread, keyed by the job id, for the store to append. */
export function jobThreadEntry(
  job: Pick<BulkRequest, 'jobId' | 'channelId'>,
  event: Omit<AuditEvent, 'conversationId' | 'requestId'>,
): ToldEntry {
  return {
    event: { ...event, conversationId: job.jobId, requestId: null } as AuditEvent,
    options: { deliverTo: { channelId: job.channelId } },
  };
}

/** A request's move to its thread, as `transition` records it or a store appends it with the move. */
export function transitionEntry(
  action: RequestTransition,
  request: RecoveryRequest,
  actor: string,
  extra: { detail?: string | null; reason?: string; refreshed?: boolean } = {},
): ToldEntry {
  return {
    event: {
      action,
      actor,
      conversationId: request.conversationId,
      requestId: request.id,
      data: { request, ...extra },
    },
    options: { deliverTo: { channelId: request.channelId } },
  };
}

/** What every use case shares: the deps and the few steps they all take. */
export interface WorkflowContext extends WorkflowDeps {
  /** "an approver (<!subteam^S…>)": shown on every approval message. */
  approverHint: string;
  /** The audit log's name for a chat user (ChatNames.actor). */
  actorId(userId: string): string;
  /** Audit first, then the thread (see MessagingPort.postToThread). */
  record(channelId: string, event: AuditEvent): Promise<void>;
  /** A request moved: its new state goes to the audit log and the thread. */
  transition(
    action: RequestTransition,
    request: RecoveryRequest,
    actor: string,
    extra?: { detail?: string | null; reason?: string },
  ): Promise<void>;
  /**
   * The `request.expired` entry with its delivery to the thread, for the store to append in the
   * transaction that expires the request (sweep or click); the deliverer is woken after it.
   */
  expiryNotice: ExpiryNotice;
  /** Any error as the Reply the person sees; unexpected ones are logged. */
  failure(err: unknown): Reply;
  reportValidation(
    id: string,
    channelId: string,
    actor: string,
    requestId?: string | null,
  ): Promise<ValidationReport>;
  /** Creates a request for `plan` and posts the approval message (with a fresh inspect) to the thread. */
  openRequest(
    kind: RequestKind,
    plan: RequestPlan,
    who: Actor,
    /** Required: every face refuses a destructive command without one. */
    reason: string,
  ): Promise<RecoveryRequest>;
  /** How long the request waited for `decision`, for the approval-wait histogram. */
  observeWait(request: RecoveryRequest, decision: string): void;
}

/** `request.expired` to the request's thread, as the store appends it with the expiry. */
export const expiryNotice: ExpiryNotice = (request) => ({
  event: {
    action: AuditAction.RequestExpired,
    actor: 'system',
    conversationId: request.conversationId,
    requestId: request.id,
    data: { request },
  },
  options: { deliverTo: { channelId: request.channelId } },
});

export function createContext(deps: WorkflowDeps): WorkflowContext {
  const { core, requests, policy, logger, messaging } = deps;
  const hint =
    policy.approverGroups.length > 0
      ? groupsApproverHint(policy.approverGroups)
      : approverHint({
          approverUserIds: policy.approverUserIds,
          approverUsergroupId: policy.approverUsergroupId,
        });

  async function record(channelId: string, event: AuditEvent): Promise<void> {
    await messaging.postToThread(channelId, event);
  }

  async function transition(
    action: RequestTransition,
    request: RecoveryRequest,
    actor: string,
    extra: { detail?: string | null; reason?: string } = {},
  ) {
    await record(request.channelId, transitionEntry(action, request, actor, extra).event);
  }

  function failure(err: unknown): Reply {
    if (err instanceof HourlyLimitReached) {
      return { ok: false, ...hourlyLimitText(err.used, err.max, err.freesAt, new Date()), code: err.code };
    }
    if (err instanceof OpenRequestConflict) {
      return { ok: false, ...openConflictText(err.open), code: err.code };
    }
    if (err instanceof RecoveryError)
      return { ok: false, message: err.message, hint: err.hint, code: err.code };
    logger.error({ err }, 'unexpected error in a workflow');
    return {
      ok: false,
      ...replies.unexpected(errorMessage(err)),
      code: ErrorCode.Internal,
    };
  }

  async function reportValidation(
    id: string,
    channelId: string,
    actor: string,
    requestId: string | null = null,
  ) {
    const report = await validateConversation(core, id);
    await record(channelId, {
      action: AuditAction.ValidateReported,
      actor,
      conversationId: report.conversationId,
      requestId,
      data: { report },
    });
    return report;
  }

  async function openRequest(kind: RequestKind, plan: RequestPlan, who: Actor, reason: string) {
    // Read before the request opens, so its approval message is appended with it.
    const { report } = await inspectConversation(core, plan.conversationId);
    let request: RecoveryRequest;
    try {
      request = await requests.create({
        kind,
        conversationId: plan.conversationId,
        channelId: who.channelId,
        requester: who.userId,
        reason,
        plan,
        requiredApprovals: policy.requiredApprovals,
        ttlMinutes: policy.requestTtlMinutes,
        approverGroups: policy.approverGroups,
        maxPerHour: policy.maxDestructivePerHour,
        createdNotice: (opened) => ({
          event: {
            action: AuditAction.RequestCreated,
            actor: deps.names.actor(who.userId),
            conversationId: plan.conversationId,
            requestId: opened.id,
            data: { request: opened, inspect: inspectJson(report), approverHint: hint },
          },
          options: { deliverTo: { channelId: who.channelId } },
        }),
      });
    } catch (err) {
      if (err instanceof HourlyLimitReached) {
        // Audit only: the requester is told privately, and no thread is started for it.
        await core.audit.append(
          hourlyRefusedEvent(err, deps.names.actor(who.userId), kind, plan.conversationId),
        );
      }
      throw err;
    }
    messaging.wakeDeliverer();
    return request;
  }

  function observeWait(request: RecoveryRequest, decision: string): void {
    const waited = (Date.now() - Date.parse(request.createdAt)) / 1000;
    if (Number.isFinite(waited) && waited >= 0) deps.metrics?.approvalWait.observe({ decision }, waited);
  }

  return {
    ...deps,
    approverHint: hint,
    actorId: (userId: string) => deps.names.actor(userId),
    record,
    transition,
    expiryNotice,
    failure,
    reportValidation,
    openRequest,
    observeWait,
  };
}
