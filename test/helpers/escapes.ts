import { afterAll, beforeAll } from 'vitest';

/**
 * Unhandled rejections and uncaught exceptions anywhere in this process while the file's tests
 * run: the bot runs in it, so an error nobody handled lands here (or ends the run). Call before
 * starting the bot so the listeners cover its start-up too.
 */
export function collectEscapes(): unknown[] {
  const escaped: unknown[] = [];
  const onEscape = (err: unknown) => escaped.push(err);
  beforeAll(() => {
    process.on('unhandledRejection', onEscape);
    process.on('uncaughtExceptionMonitor', onEscape);
  });
  afterAll(() => {
    process.off('unhandledRejection', onEscape);
    process.off('uncaughtExceptionMonitor', onEscape);
  });
  return escaped;
}
