import { RecoveryError } from '../errors.js';

/**
 * Tries `fn` once, then once after each delay, until it resolves. Rejects with the last error.
 * For the last writes of an operation (its outcome), where giving up early would leave the
 * request, the audit log and the thread telling different stories.
 */
export async function retrying<T>(fn: () => Promise<T>, delaysMs: readonly number[]): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt <= delaysMs.length; attempt++) {
    if (attempt > 0) await sleep(delaysMs[attempt - 1] ?? 0);
    try {
      return await fn();
    } catch (err) {
      lastError = err;
    }
  }
  throw lastError;
}

/** About 30 s in all: long enough to ride out a database failover, short enough to report. */
export const FINAL_WRITE_DELAYS_MS: readonly number[] = [250, 500, 1000, 2000, 4000, 8000, 8000, 8000];

export function sleep(ms: number): Promise<void> {
  return ms > 0 ? new Promise((resolve) => setTimeout(resolve, ms)) : Promise.resolve();
}

/**
 * Like `retrying`, for a statement made before anything irreversible: a refusal with a reason
 * (RecoveryError) is an answer and is not retried; a fault (a reset connection, a failover) is.
 */
export function retryingFaults<T>(
  fn: () => Promise<T>,
  delaysMs: readonly number[] = BEFORE_WRITE_DELAYS_MS,
): Promise<T> {
  return retrying(async () => {
    try {
      return { ok: true as const, value: await fn() };
    } catch (err) {
      if (err instanceof RecoveryError) return { ok: false as const, err };
      throw err;
    }
  }, delaysMs).then((r) => {
    if (!r.ok) throw r.err;
    return r.value;
  });
}

export const BEFORE_WRITE_DELAYS_MS: readonly number[] = [100, 400, 1000];
