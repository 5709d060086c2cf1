import { ErrorCode, RecoveryError } from '../errors.js';
import type { LockHeld, LockInfo } from '../store/types.js';
import type { CoreDeps } from './deps.js';
import type { LockState } from './types.js';

export type { LockState } from './types.js';

/** `holderLabel`'s suffix, and a replay's `(replay, request rq_…)`. */
const REQUEST_SUFFIX = / \((?:replay, )?request (rq_[A-Za-z0-9_-]+)\)$/;

/** The lock row's holder: who, and for which request (parsed back by `lockState`). */
export function holderLabel(actorId: string, requestId: string | null | undefined): string {
  return `${actorId}${requestId ? ` (request ${requestId})` : ''}`;
}

export function lockState(row: Pick<LockInfo, 'holder' | 'since' | 'expiresAt' | 'gone'>): LockState {
  const match = REQUEST_SUFFIX.exec(row.holder);
  return {
    holder: match ? row.holder.slice(0, match.index) : row.holder,
    requestId: match?.[1] ?? null,
    since: row.since.toISOString(),
    expiresAt: row.expiresAt.toISOString(),
    gone: row.gone,
  };
}

/**
 * The lock as Postgres holds it now; 'unreadable' when Postgres did not answer (inspect still
 * reports the tiers, and says the lock is unknown rather than free).
 */
export async function readLock(deps: CoreDeps, id: string): Promise<LockState | null | 'unreadable'> {
  try {
    const row = await deps.locks.inspect(id);
    return row ? lockState(row) : null;
  } catch {
    return 'unreadable';
  }
}

/** The "in progress" refusal: who holds the lock, for which request, since when. */
export function lockedError(what: string, lease: LockHeld, next: string): RecoveryError {
  // A lease that ran out is taken over by acquire, so the holder here is alive (renewing).
  const held = lockState({ ...lease, gone: false });
  const by = held.requestId ? `${held.holder} for request ${held.requestId}` : held.holder;
  return new RecoveryError(
    ErrorCode.Locked,
    `${what} is already in progress: locked by ${by} since ${held.since} (lease renewed until ${held.expiresAt}).`,
    next,
    { details: { ...held } },
  );
}
