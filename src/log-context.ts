import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * Fields every log line of one Slack request carries (request id, actor, conversation), without
 * threading a logger through every call: pino's mixin reads them from here.
 */
export interface LogContext {
  requestId: string;
  actor?: string;
  conversationId?: string;
}

const storage = new AsyncLocalStorage<LogContext>();

export function runWithLogContext<T>(context: LogContext, fn: () => T): T {
  return storage.run(context, fn);
}

/** Adds to the current request's context (e.g. the conversation id once the text is parsed). */
export function addLogContext(fields: Partial<LogContext>): void {
  const current = storage.getStore();
  if (current) Object.assign(current, fields);
}

export function currentLogContext(): LogContext | undefined {
  return storage.getStore();
}
