import { sha256Checksum } from './conversation.js';
import type { CoreDeps } from './deps.js';
import { sleep } from './retry.js';

/**
 * Settling an outcome from what Redis holds, for a write whose reply never came (timeout,
 * reply lost, connection cut after sending) and for work a crashed replica left behind.
 * Redis is the truth: what it holds now says whether the write landed, whatever any log says.
 */

export type SettledOutcome = 'succeeded' | 'failed' | 'unknown';

export interface Settlement {
  /**
   * succeeded: Redis holds the bytes that were to be written;
   * failed: Redis still holds what it held before, so nothing was written;
   * unknown: Redis holds something else, or could not be read.
   */
  outcome: SettledOutcome;
  /** Checksum Redis holds now; null = the key is absent; 'unreadable' = every read failed. */
  observed: string | null | 'unreadable';
  /** One plain sentence (no Slack markup) of what was found and, when unknown, what to check. */
  detail: string;
}

export interface SettleInput {
  conversationId: string;
  /** Checksum Redis held before the write; null = the key was absent. */
  before: string | null;
  /** Checksum that was to be written; null = the write was a delete. */
  after: string | null;
  /** The backup holding the previous value, named in the detail so a person can undo. */
  backupId?: string | null;
  /**
   * Pauses between reads while Redis is unreachable; one read per entry plus the first.
   * Bounded so a caller holding a lease settles well inside it.
   */
  retryDelaysMs?: readonly number[];
}

export const DEFAULT_SETTLE_DELAYS_MS: readonly number[] = [100, 250, 500, 1000, 2000];

const describe = (checksum: string | null) => (checksum === null ? 'no value (key absent)' : checksum);

export async function settleFromRedis(deps: CoreDeps, input: SettleInput): Promise<Settlement> {
  return (await readBackSettled(deps, input)).settlement;
}

/** The settlement plus the value read, for a caller that goes on to validate what it wrote. */
export interface SettledRead {
  settlement: Settlement;
  /** What Redis held; null when absent or unreadable. */
  bytes: Buffer | null;
  ttlMs: number | null;
}

export async function readBackSettled(deps: CoreDeps, input: SettleInput): Promise<SettledRead> {
  const { conversationId: id, before, after } = input;
  const delays = input.retryDelaysMs ?? DEFAULT_SETTLE_DELAYS_MS;
  const backupNote = input.backupId ? ` The previous value is in backup ${input.backupId}.` : '';
  let lastReason = 'no read attempted';
  for (let attempt = 0; attempt <= delays.length; attempt++) {
    if (attempt > 0) await sleep(delays[attempt - 1] ?? 0);
    const read = await deps.redis.read(id).catch((err: unknown) => ({
      status: 'unreachable' as const,
      reason: err instanceof Error ? err.message : String(err),
    }));
    if (read.status === 'unreachable') {
      lastReason = read.reason;
      continue;
    }
    const bytes = read.status === 'found' ? read.bytes : null;
    const ttlMs = read.status === 'found' ? (read.ttlMs ?? null) : null;
    const observed = bytes ? sha256Checksum(bytes) : null;
    // New before old: when both are equal the write was a no-op and did what was asked.
    if (observed === after) {
      const detail = `Redis holds the new value (${describe(after)}): the write landed.${backupNote}`;
      return { settlement: { outcome: 'succeeded', observed, detail }, bytes, ttlMs };
    }
    if (observed === before) {
      const detail = `Redis still holds the previous value (${describe(before)}): nothing was written.`;
      return { settlement: { outcome: 'failed', observed, detail }, bytes, ttlMs };
    }
    const detail =
      `Redis holds ${describe(observed)}, neither the previous value (${describe(before)}) nor the new one (${describe(after)}); ` +
      `something else wrote to it. Inspect ${id} and check whether Zeus is writing to it.${backupNote}`;
    return { settlement: { outcome: 'unknown', observed, detail }, bytes, ttlMs };
  }
  const detail =
    `Redis could not be read back after ${delays.length + 1} tries (${lastReason}), so whether the write landed is not known. ` +
    `When Redis answers, inspect ${id}: ${describe(after)} means it landed, ${describe(before)} means nothing was written.${backupNote}`;
  return { settlement: { outcome: 'unknown', observed: 'unreadable', detail }, bytes: null, ttlMs: null };
}
