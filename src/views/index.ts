/** Slack views: pure functions from data to Block Kit. No I/O, no clock — times are passed in. */
export {
  type ApprovalContext,
  approvalDecidedView,
  approvalMessageView,
  approvalRequestView,
  REQUEST_ACTION,
  REQUEST_ACTIONS_BLOCK_ID,
  statusLine,
} from './approval.js';
export * from './audit-data.js';
export {
  type AuditEntryInput,
  approvalUpdateForEntry,
  type RenderOptions,
  renderAuditEntry,
} from './audit-entry.js';
export { type DecisionEvent, decisionReplyView } from './decision.js';
export { diffView } from './diff.js';
export { type ErrorLike, errorView, hintForCode, notIncidentChannelView } from './errors.js';
export { code, escapeExceptMentions, escapeMrkdwn, oneLine, userRef } from './escape.js';
export {
  formatBytes,
  formatDuration,
  formatRelative,
  formatTime,
  formatTtl,
  shortChecksum,
} from './format.js';
export { commandErrorView, helpView, usageError } from './help.js';
export { inspectView, recommendationText } from './inspect.js';
export * from './limits.js';
export {
  DENY_REASON_BLOCK_ID,
  DENY_REASON_CALLBACK_ID,
  denyReasonModal,
  MODAL_BLOCKS,
  operationReasonModal,
  type PendingOperation,
  RECOVERY_MODAL_CALLBACK_ID,
  type RecoveryModalInitial,
  recoveryModal,
} from './modal.js';
export { mrkdwnToPlain, toPlainText } from './plain.js';
export {
  type ReplayProgress,
  replayAmbiguousView,
  replayOutcomeView,
  replayProgressView,
} from './replay.js';
export {
  RESTORE_ACTIONS_BLOCK_ID,
  RESTORE_UNDO_ACTION,
  type RestoreFailureContext,
  type RestoreOutcome,
  type RestoreProgress,
  type RestoreViewContext,
  restoreFailedView,
  restoreOutcomeView,
  restoreProgressView,
  restoreResultView,
  restoreUnknownView,
} from './restore.js';
export type { EphemeralMessage, KnownBlock, ModalView, SlackMessage } from './slack.js';
export { commandEchoView, threadRootView } from './thread.js';
export { type InspectSummary, TIER_LABEL } from './tiers.js';
export { validationView } from './validate.js';
