/** The recovery core: the one place both faces (CLI and Slack) call. */
export type { CoreDeps } from './deps.js';
export { type Actor, executeRestore, newRequestId, planUndo, type RestoreResult } from './execute.js';
export { type InspectResult, inspectConversation } from './inspect.js';
export {
  type DiffReport,
  diffConversation,
  type ExportResult,
  exportConversation,
  type ListResult,
  listConversations,
  type ValidationReport,
  type Verdict,
  validateConversation,
} from './operations.js';
export { backupNotFound, planRestore, type RestorePlan } from './plan.js';
export {
  type ExecuteReplayOptions,
  executeReplay,
  planReplay,
  type ReplayActor,
  type ReplayOutcome,
  type ReplayPlan,
  type ReplayResult,
} from './replay.js';
export { describeSource, parseRestoreSource, type RestoreSource } from './sources.js';
export * from './types.js';
export {
  createZeusClient,
  describeZeusStatus,
  isZeusAmbiguous,
  type ReplayAccepted,
  summarizeZeusStatus,
  ZeusAmbiguousError,
  type ZeusClient,
  type ZeusClientOptions,
  type ZeusFailure,
  type ZeusStatus,
  type ZeusStatusSummary,
  zeusFailure,
  zeusReason,
} from './zeus-api.js';
