import type { z } from 'zod';
import { AUDIT_DATA, type AuditAction, isAuditAction } from '../audit-vocabulary.js';
import { approvalDecidedView, approvalRequestView } from './approval.js';
import {
  bulkApprovedView,
  bulkCancelRequestedView,
  bulkDeniedView,
  bulkExpiredView,
  bulkReportView,
  bulkRequestView,
  bulkResumedView,
} from './bulk.js';
import { bulkOrphanedView } from './bulk-orphaned.js';
import { cliUser, markedViaCli } from './cli-origin.js';
import { decisionReplyView } from './decision.js';
import { diffView } from './diff.js';
import { code, escapeMrkdwn, oneLine, userRef } from './escape.js';
import { bulkExpiryWarningView, expiryWarningView, renewedView } from './expiry.js';
import { exportRefusedView, exportUploadedView } from './export.js';
import { formatTime } from './format.js';
import { inspectView } from './inspect.js';
import { clip } from './limits.js';
import { lockBrokenView, lockNotBrokenView } from './lock.js';
import {
  breakerResetApprovedView,
  breakerResetRequestView,
  breakGlassView,
  bulkBreakGlassView,
  bulkReviewedView,
  policyRefusedView,
  reviewedView,
} from './policies.js';
import { replayAmbiguousView, replayOutcomeView, replayProgressView } from './replay.js';
import { restoreFailedView, restoreOutcomeView, restoreProgressView, restoreUnknownView } from './restore.js';
import { requestSettledView } from './settled.js';
import { context, message, type SlackMessage, section } from './slack.js';
import { commandEchoView } from './thread.js';
import { validationView } from './validate.js';

/** An audit row as the thread delivery reads it (store/types.ts `AuditEntry` fits). */
export interface AuditEntryInput {
  seq: number;
  at: Date;
  actor: string;
  action: string;
  conversationId: string | null;
  requestId: string | null;
  data: Record<string, unknown>;
}

export interface RenderOptions {
  /**
   * When the message is posted. Defaults to the entry's own time; pass the real time when
   * delivery lags (after a Slack outage) so "expires in 30 min" is not a lie.
   */
  now?: Date;
}

function safeText(v: unknown, max: number): string {
  return escapeMrkdwn(clip(oneLine(typeof v === 'string' ? v : String(v)), max));
}

function entryTime(entry: AuditEntryInput, now: Date): string {
  return entry.at instanceof Date && !Number.isNaN(entry.at.getTime())
    ? formatTime(entry.at, now)
    : 'an unknown time';
}

/** For actions this version does not know: nothing in the audit log goes unmentioned. */
function genericView(entry: AuditEntryInput, now: Date, problem: string | null): SlackMessage {
  const action = safeText(entry.action, 80);
  const who = typeof entry.actor === 'string' ? userRef(clip(entry.actor, 100)) : 'someone';
  const time = escapeMrkdwn(entryTime(entry, now));
  const head = problem
    ? `⚠️ Audit entry #${safeText(entry.seq, 20)} (${code(action)}) by ${who} at ${time} could not be shown in full: ${escapeMrkdwn(problem)}.`
    : `ℹ️ ${code(action)} by ${who} at ${time}`;
  const ids = [
    typeof entry.conversationId === 'string' ? `Conversation ${code(clip(entry.conversationId, 128))}` : null,
    typeof entry.requestId === 'string' ? `Request ${code(clip(entry.requestId, 100))}` : null,
    `Audit #${safeText(entry.seq, 20)}`,
  ].filter((x): x is string => x !== null);
  return message(head, [section(head), context(...ids)]);
}

type Render = (entry: AuditEntryInput, now: Date) => SlackMessage | string;

/** Ties a schema to its view, so each view receives data already checked against its type. */
function handler<S extends z.ZodType>(
  schema: S,
  view: (data: z.output<S>, entry: AuditEntryInput, now: Date) => SlackMessage,
): Render {
  return (entry, now) => {
    const parsed = schema.safeParse(entry.data);
    if (parsed.success) return view(parsed.data, entry, now);
    const where = parsed.error.issues[0]?.path.join('.') || 'data';
    return `its data is not in the expected shape (at ${clip(where, 80)})`;
  };
}

const S = AUDIT_DATA;
const conversation = (e: AuditEntryInput): string => e.conversationId ?? '?';

// A Record over every known action: adding an action to the vocabulary without a view fails the build.
export const HANDLERS: Record<AuditAction, Render> = {
  'export.uploaded': handler(S['export.uploaded'], (d, e) => exportUploadedView(d, conversation(e), e.actor)),
  'export.refused': handler(S['export.refused'], (d, e) => exportRefusedView(d, conversation(e))),
  'command.received': handler(S['command.received'], (d, e) =>
    commandEchoView(e.actor, d.command, d.clicked),
  ),
  'inspect.reported': handler(S['inspect.reported'], (d, _e, now) => inspectView(d.report, { now })),
  'validate.reported': handler(S['validate.reported'], (d, _e, now) => validationView(d.report, { now })),
  'diff.reported': handler(S['diff.reported'], (d, _e, now) => diffView(d.report, { now })),
  'request.created': handler(S['request.created'], (d, _e, now) =>
    approvalRequestView(d.request, { inspect: d.inspect, approverHint: d.approverHint, now }),
  ),
  'request.approved': handler(S['request.approved'], (d, e, now) =>
    decisionReplyView({ kind: 'approved', request: d.request, by: e.actor, at: e.at }, { now }),
  ),
  'request.denied': handler(S['request.denied'], (d, e, now) =>
    decisionReplyView(
      { kind: 'denied', request: d.request, by: e.actor, at: e.at, reason: d.request.denyReason },
      { now },
    ),
  ),
  'request.cancelled': handler(S['request.cancelled'], (d, e, now) =>
    decisionReplyView(
      { kind: 'cancelled', request: d.request, by: e.actor, at: e.at, reason: d.reason },
      { now },
    ),
  ),
  'request.expired': handler(S['request.expired'], (d, _e, now) =>
    decisionReplyView({ kind: 'expired', request: d.request }, { now }),
  ),
  'request.expiring': handler(S['request.expiring'], (d, _e, now) =>
    expiryWarningView(d.request, d.approverHint, now),
  ),
  'request.renewed': handler(S['request.renewed'], (d, e) => renewedView(d, e.actor)),
  'request.stale': handler(S['request.stale'], (d, _e, now) =>
    decisionReplyView(
      { kind: 'stale', request: d.request, detail: d.detail ?? null, refreshed: d.refreshed },
      { now },
    ),
  ),
  'request.settled': handler(S['request.settled'], (d, _e, now) => requestSettledView(d, { now })),
  'request.break_glass': handler(S['request.break_glass'], (d, _e, now) => breakGlassView(d, now)),
  'request.reviewed': handler(S['request.reviewed'], (d, e) => reviewedView(d, e.actor)),
  'policy.refused': handler(S['policy.refused'], (d) => policyRefusedView(d)),
  'breaker.reset_requested': handler(S['breaker.reset_requested'], (d) => breakerResetRequestView(d)),
  'breaker.reset_approved': handler(S['breaker.reset_approved'], (d) => breakerResetApprovedView(d)),
  'lock.broken': handler(S['lock.broken'], (d, e, now) =>
    lockBrokenView(d, { conversationId: conversation(e), actor: e.actor, now }),
  ),
  'lock.not_broken': handler(S['lock.not_broken'], (d, e, now) =>
    lockNotBrokenView(d, { conversationId: conversation(e), now }),
  ),
  'restore.started': handler(S['restore.started'], (d, e) =>
    restoreProgressView({ ...d, conversationId: conversation(e), actor: e.actor }),
  ),
  'restore.succeeded': handler(S['restore.succeeded'], (d, e) =>
    restoreOutcomeView({ ...d, conversationId: conversation(e) }),
  ),
  'restore.failed': handler(S['restore.failed'], (d, e) =>
    restoreFailedView(
      { message: d.error, code: d.code },
      { source: d.source, backupId: d.backupId, conversationId: e.conversationId ?? undefined },
    ),
  ),
  'restore.unknown': handler(S['restore.unknown'], (d, e) =>
    restoreUnknownView({ ...d, conversationId: conversation(e) }),
  ),
  'replay.started': handler(S['replay.started'], (d, e, now) =>
    replayProgressView({
      conversationId: conversation(e),
      fromStep: d.fromStep,
      steps: d.steps,
      stepCount: d.stepCount,
      actor: e.actor,
      reason: d.reason,
      // Only what Zeus said before the POST is known at this point; the lead edits the message as it moves.
      status: d.statusBefore,
      startedAt: e.at,
      now,
    }),
  ),
  'replay.ambiguous': handler(S['replay.ambiguous'], (d, e) => replayAmbiguousView(d, conversation(e))),
  'replay.succeeded': handler(S['replay.succeeded'], (d, e) => replayOutcomeView(d, conversation(e))),
  'replay.failed': handler(S['replay.failed'], (d, e) => replayOutcomeView(d, conversation(e))),
  'replay.timed_out': handler(S['replay.timed_out'], (d, e) => replayOutcomeView(d, conversation(e))),
  'replay.unknown': handler(S['replay.unknown'], (d, e) => replayOutcomeView(d, conversation(e))),
  // The CLI's bulk jobs are appended without a thread to go to; should one ever be delivered, a line says what it was.
  'bulk.started': handler(S['bulk.started'], (_d, e, now) => genericView(e, now, null)),
  'bulk.cancel_requested': handler(S['bulk.cancel_requested'], (d, e) => bulkCancelRequestedView(d, e.actor)),
  'bulk.resumed': handler(S['bulk.resumed'], (d, e) => bulkResumedView(d, e.actor)),
  'bulk.chunk': handler(S['bulk.chunk'], (_d, e, now) => genericView(e, now, null)),
  'bulk.chunk_failed': handler(S['bulk.chunk_failed'], (_d, e, now) => genericView(e, now, null)),
  'bulk.finished': handler(S['bulk.finished'], (_d, e, now) => genericView(e, now, null)),
  'bulk.orphaned': handler(S['bulk.orphaned'], (d) => bulkOrphanedView(d)),
  'bulk.requested': handler(S['bulk.requested'], (d, _e, now) => bulkRequestView(d, { now })),
  'bulk.approved': handler(S['bulk.approved'], (d) => bulkApprovedView(d)),
  'bulk.denied': handler(S['bulk.denied'], (d, e) => bulkDeniedView(d, e.actor)),
  'bulk.break_glass': handler(S['bulk.break_glass'], (d, _e, now) => bulkBreakGlassView(d, now)),
  'bulk.reviewed': handler(S['bulk.reviewed'], (d, e) => bulkReviewedView(d, e.actor)),
  'bulk.expired': handler(S['bulk.expired'], (d) => bulkExpiredView(d)),
  'bulk.expiring': handler(S['bulk.expiring'], (d, _e, now) => bulkExpiryWarningView(d, now)),
  'bulk.reported': handler(S['bulk.reported'], (d) => bulkReportView(d)),
};

/**
 * The thread message for one audit entry. Never throws: a row with data in an unexpected shape
 * (an older version wrote it, or someone edited the table) renders as a line saying so, because
 * a delivery loop that crashes on one row would stop the whole thread.
 *
 * Returns null only for actions that deliberately post nothing; today there are none.
 */
export function renderAuditEntry(entry: AuditEntryInput, opts: RenderOptions = {}): SlackMessage | null {
  const now =
    opts.now ?? (entry.at instanceof Date && !Number.isNaN(entry.at.getTime()) ? entry.at : new Date(0));
  try {
    if (!isAuditAction(entry.action)) return genericView(entry, now, null);
    const out = HANDLERS[entry.action](entry, now);
    const shown = typeof out === 'string' ? genericView(entry, now, out) : out;
    const viaCli = cliUser(entry.actor);
    return viaCli === null ? shown : markedViaCli(entry, shown, viaCli);
  } catch {
    return genericView(entry, now, 'rendering failed');
  }
}

/**
 * For `request.*` entries: the approval message as it should now read (for `chat.update`), so
 * its buttons vanish once decided. Null for other actions or a malformed request.
 */
export function approvalUpdateForEntry(
  entry: AuditEntryInput,
  opts: RenderOptions & { approverHint?: string } = {},
): SlackMessage | null {
  if (!isAuditAction(entry.action) || !entry.action.startsWith('request.')) return null;
  const parsed = AUDIT_DATA[entry.action].safeParse(entry.data);
  if (!parsed.success || !('request' in parsed.data) || !parsed.data.request) return null;
  const now = opts.now ?? entry.at;
  try {
    const hint =
      'approverHint' in parsed.data && typeof parsed.data.approverHint === 'string'
        ? parsed.data.approverHint
        : (opts.approverHint ?? 'an approver');
    return approvalDecidedView(parsed.data.request, { approverHint: hint, now });
  } catch {
    return null;
  }
}
