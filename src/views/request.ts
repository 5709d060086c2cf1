import { isReplayPlan, isUnlockPlan, type RecoveryRequest } from '../approval/types.js';
import { assertNever } from '../assert-never.js';
import { SLASH_COMMAND } from '../slack-ids.js';
import { code, escapeMrkdwn, oneLine, userRef } from './escape.js';
import { formatTime, minutesBetween } from './format.js';

/**
 * How a request is named in titles, replies and hints. The plan, not `kind`, decides the wording:
 * it is what the approver was shown, and a replay plan has no source to name.
 */

export function backupIdOf(req: RecoveryRequest): string | null {
  const p = req.plan;
  return !isReplayPlan(p) && !isUnlockPlan(p) && p.source.kind === 'backup' ? p.source.backupId : null;
}

/** Plain text (headers): `restore c-1 from postgres`, `undo bk_… on c-1`, `replay c-1 from step 5`. */
export function operationTitle(req: RecoveryRequest): string {
  const p = req.plan;
  if (isReplayPlan(p)) return `replay ${req.conversationId} from step ${p.fromStep}`;
  if (isUnlockPlan(p)) return `unlock ${req.conversationId} (break-glass)`;
  switch (req.kind) {
    case 'restore':
      return `restore ${req.conversationId} from ${p.sourceLabel}`;
    case 'undo':
      return `undo ${backupIdOf(req) ?? p.sourceLabel} on ${req.conversationId}`;
    case 'replay':
    case 'unlock':
      // Their wording comes from their plans (above); this is such a request whose stored plan
      // is not one, shown plainly rather than hidden.
      return `${oneLine(String(req.kind))} ${req.conversationId}`;
  }
  return assertNever(req.kind, 'request kind');
}

/** mrkdwn: "the restore of `c-1` from `postgres`", "the replay of `c-1` from step 5". */
export function operationPhrase(req: RecoveryRequest): string {
  const p = req.plan;
  if (isReplayPlan(p)) return `the replay of ${code(req.conversationId)} from step ${p.fromStep}`;
  if (isUnlockPlan(p)) return `the unlock of ${code(req.conversationId)}`;
  switch (req.kind) {
    case 'restore':
      return `the restore of ${code(req.conversationId)} from ${code(p.sourceLabel)}`;
    case 'undo':
      return `the undo of ${code(backupIdOf(req) ?? p.sourceLabel)} on ${code(req.conversationId)}`;
    case 'replay':
    case 'unlock':
      // Their wording comes from their plans (above); this is such a request whose stored plan
      // is not one, shown plainly rather than hidden.
      return `the ${escapeMrkdwn(oneLine(String(req.kind)))} of ${code(req.conversationId)}`;
  }
  return assertNever(req.kind, 'request kind');
}

/** The command that asks for the same thing again (after an expiry or a stale preview); a reason is required. */
export function askAgainCommand(req: RecoveryRequest): string {
  return `${askAgainVerb(req)} --reason <why>`;
}

function askAgainVerb(req: RecoveryRequest): string {
  const p = req.plan;
  if (isReplayPlan(p)) return `${SLASH_COMMAND} replay ${req.conversationId} --from-step ${p.fromStep}`;
  if (isUnlockPlan(p)) return `${SLASH_COMMAND} unlock ${req.conversationId}`;
  switch (req.kind) {
    case 'restore':
      return `${SLASH_COMMAND} restore ${req.conversationId} --from ${p.sourceLabel}`;
    case 'undo':
      return `${SLASH_COMMAND} undo ${backupIdOf(req) ?? '<backupId>'}`;
    case 'replay':
      // A replay's wording comes from its plan (above); this is a replay request whose stored
      // plan is not one, shown plainly rather than hidden.
      return `${SLASH_COMMAND} ${oneLine(String(req.kind))} ${req.conversationId} --from-step <N>`;
    case 'unlock':
      return `${SLASH_COMMAND} unlock ${req.conversationId}`;
  }
  return assertNever(req.kind, 'request kind');
}

export function approversText(req: RecoveryRequest): string {
  return req.approvals.length > 0 ? req.approvals.map((a) => userRef(a.userId)).join(', ') : 'nobody';
}

/** "nobody approved within 30 min" needs the request's own lifetime, not a default. */
export function lifetimeMinutes(req: RecoveryRequest): number | null {
  return minutesBetween(req.createdAt, req.expiresAt);
}

/** The outcome fields the approval code stores in `result`, read defensively (it is jsonb). */
export function resultField(req: RecoveryRequest, key: string): string | null {
  const v = req.result?.[key];
  return typeof v === 'string' && v !== '' ? v : null;
}

export function expiredSentence(req: RecoveryRequest, now: Date): string {
  const minutes = lifetimeMinutes(req);
  const within = minutes !== null && minutes > 0 ? ` within ${minutes} min` : ' in time';
  const who =
    req.approvals.length > 0
      ? `only ${req.approvals.length} of ${req.requiredApprovals} approvals came${within}`
      : `nobody approved${within}`;
  return `⌛ Expired at ${escapeMrkdwn(formatTime(req.expiresAt, now))} — ${who}; ask again with ${code(askAgainCommand(req))}`;
}
