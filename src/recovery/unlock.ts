import { ErrorCode, RecoveryError } from '../errors.js';
import type { CoreDeps } from './deps.js';
import type { Actor } from './execute.js';
import { assertConversationId } from './ids.js';
import { lockState } from './lock-state.js';
import type { LockState } from './types.js';

/**
 * Break-glass: breaking a conversation's lock, decided on what was seen. The plan names the one
 * lease seen (by its token); the break removes the lock only if that lease still holds it, so a
 * break decided for a stuck holder never frees a lock someone else has taken since. A holder
 * whose lock is broken finds out at its next renewal and writes nothing after it (lease.ts).
 */
export interface UnlockPlan {
  conversationId: string;
  lock: LockState;
  /** The lease seen; never shown (it is what makes the break conditional). */
  token: string;
  /** When the lock was looked at (the approval message's "seen at"). */
  createdAt: string;
}

export async function planUnlock(deps: CoreDeps, rawId: string): Promise<UnlockPlan> {
  const id = assertConversationId(rawId, deps.idPattern);
  const row = await deps.locks.inspect(id);
  if (!row) {
    throw new RecoveryError(
      ErrorCode.NothingToDo,
      `${id} is not locked: no restore or replay holds it.`,
      `Nothing to break. Run inspect ${id} to see its copies.`,
    );
  }
  return { conversationId: id, lock: lockState(row), token: row.token, createdAt: new Date().toISOString() };
}

export interface UnlockResult {
  conversationId: string;
  /** The lock that was broken, as it stood when it was. */
  broken: LockState;
}

export async function executeUnlock(deps: CoreDeps, plan: UnlockPlan, actor: Actor): Promise<UnlockResult> {
  const id = plan.conversationId;
  const removed = await deps.locks.breakLease(id, plan.token);
  if (!removed) {
    const row = await deps.locks.inspect(id);
    const now = row ? lockState(row) : null;
    throw new RecoveryError(
      ErrorCode.Conflict,
      now
        ? `The lock on ${id} changed hands since it was looked at (now ${now.holder}${now.requestId ? ` for request ${now.requestId}` : ''}); it was not broken.`
        : `The lock on ${id} was released since it was looked at; there was nothing to break.`,
      `Nothing was broken. Run inspect ${id} to see who holds it now, and decide again on that.`,
      // The lock as it stands instead, for the Slack thread's "not broken" (workflow/execution.ts).
      { details: { now } },
    );
  }
  const broken = lockState(removed);
  await deps.audit.append({
    actor: actor.id,
    conversationId: id,
    requestId: actor.requestId ?? null,
    action: 'lock.broken',
    data: { lock: broken, reason: actor.reason },
  });
  return { conversationId: id, broken };
}
