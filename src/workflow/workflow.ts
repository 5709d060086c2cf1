import { createBulk } from './bulk.js';
import { createCommands } from './commands.js';
import { createContext, type WorkflowDeps } from './context.js';
import { createDecisions } from './decisions.js';
import { createExecution } from './execution.js';
import { createExpiry } from './expiry.js';

export type { BulkCommand, ExportTier, ThreadCommand, ThreadRestoreSource } from './command.js';
export type { Actor, BulkWorkflowDeps, ListReply, Reply, WorkflowDeps } from './context.js';
export type { ChatNames, MessagingPort, ThreadFile } from './messaging.js';

/**
 * The request/approve/execute story, whatever chat it is told in. Every event is appended to
 * the audit log (with delivery to the incident thread) before anything is said about it;
 * handlers only ack, parse, call one of these and show the Reply. The chat is reached only
 * through the MessagingPort the composition root gives it (server.ts, with Slack).
 */
export function createWorkflow(deps: WorkflowDeps) {
  const ctx = createContext(deps);
  const commands = createCommands(ctx);
  const decisions = createDecisions(ctx, createExecution(ctx));
  return {
    ...commands,
    ...decisions,
    ...createBulk(ctx),
    ...createExpiry(ctx, deps.expiryWarnings, deps.renewals),
    approverHint: ctx.approverHint,
  };
}

export type Workflow = ReturnType<typeof createWorkflow>;
