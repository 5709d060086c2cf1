import { errorMessage } from '../errors.js';
import type { CoreDeps } from '../recovery/deps.js';
import { DEFAULT_SETTLE_DELAYS_MS, settleFromRedis } from '../recovery/settle.js';
import type { RequestAuditLookup } from '../store/audit-lookup.js';
import type { AbandonedRequest, RequestStore, SettledState } from '../store/requests.js';
import type { AuditEntry } from '../store/types.js';
import { AuditAction, isReplayPlan, isUnlockPlan, type RecoveryRequest } from './types.js';

/**
 * Settles work a crashed replica left behind, from what the stores hold, and never runs it
 * again: re-running a destructive operation blindly could overwrite what a person fixed since.
 *
 * - approved, never started → failed: nothing ran.
 * - executing, no `restore.started` / `replay.started` → failed: it stopped before writing.
 * - a restore or undo that may have written → Redis decides (recovery/settle.ts): the new
 *   bytes → succeeded, the old bytes → failed, anything else → unknown with what to check.
 *   While Redis cannot be read at all it is left for the next sweep (the stuck gauge shows it).
 * - a replay that may have been sent → unknown (Redis cannot say what Zeus did), unless the
 *   run itself recorded Zeus's final word before it stopped.
 *
 * Only one settler acts on a request: it first takes the conversation's lock (which a live
 * owner holds, or which another replica settling it holds), and the state change is one
 * conditional UPDATE. The `request.settled` entry is appended before that UPDATE and reused if
 * it is already there, so a settler that dies in between leaves the next one the same verdict
 * and the thread hears it once.
 */

export const SETTLED_ACTION = AuditAction.RequestSettled;

/** How far the crashed run got, as far as the audit log shows. */
export type SettledReach = 'not_started' | 'before_write' | 'write' | 'sent';

/** What the settler found; `request.settled` carries it, and the request's `result` too. */
export interface SettledVerdict {
  outcome: SettledState;
  reached: SettledReach;
  /** What Redis holds now (checksum); null if absent or not looked at; 'unreadable'. */
  observed: string | null;
  before: string | null;
  after: string | null;
  backupId: string | null;
  /** One plain sentence of what was found. */
  detail: string;
}

/** `data` of a `request.settled` entry (the thread view and the approval message read it). */
export interface RequestSettledData extends SettledVerdict {
  /** The request as settled, so the delivery also turns the approval message into the outcome. */
  request: RecoveryRequest;
  /** When the dead owner's lease ran out; null when there was none. */
  leaseExpiredAt: string | null;
}

export interface StuckSettlerOptions {
  core: CoreDeps;
  requests: Pick<RequestStore, 'abandoned' | 'get' | 'settle'>;
  lookup: RequestAuditLookup;
  /** Wakes the delivery worker, so the thread hears it now rather than at the next poll. */
  kick: () => void;
  /** See RequestStore.abandoned: how long a request may be without a lease before it counts. */
  graceMs: number;
  /** The lease the settler holds on the conversation; settling takes a few seconds at most. */
  leaseMs: number;
  /** Pauses between Redis reads while it is unreachable (recovery/settle.ts). */
  settleDelaysMs?: readonly number[];
  logger: {
    info(obj: Record<string, unknown>, msg: string): void;
    warn(obj: Record<string, unknown>, msg: string): void;
  };
}

export interface StuckSettler {
  /** Settles what is abandoned now; resolves to how many requests this call settled. */
  settleOnce(limit?: number): Promise<number>;
}

const str = (v: unknown): string | null => (typeof v === 'string' ? v : null);

const REPLAY_ENDS: Record<string, SettledState> = {
  [AuditAction.ReplaySucceeded]: 'succeeded',
  [AuditAction.ReplayFailed]: 'failed',
  [AuditAction.ReplayTimedOut]: 'unknown',
  [AuditAction.ReplayUnknown]: 'unknown',
};

export function createStuckSettler(options: StuckSettlerOptions): StuckSettler {
  const { core, requests, lookup, logger } = options;
  const delays = options.settleDelaysMs ?? DEFAULT_SETTLE_DELAYS_MS;

  /** Null while Redis cannot be read: nothing was observed, so the next sweep asks again. */
  async function restoreVerdict(request: RecoveryRequest): Promise<SettledVerdict | null> {
    const started = await lookup.latest(request.id, request.conversationId, [AuditAction.RestoreStarted]);
    if (!started) {
      return {
        outcome: 'failed',
        reached: 'before_write',
        observed: null,
        before: null,
        after: null,
        backupId: null,
        detail: 'The run stopped before it wrote to Redis, so nothing was written.',
      };
    }
    const before = str(started.data.before);
    const after = str(started.data.after);
    const backupId = str(started.data.backupId);
    const settled = await settleFromRedis(core, {
      conversationId: request.conversationId,
      before,
      after,
      backupId,
      retryDelaysMs: delays,
    });
    if (settled.observed === 'unreadable') {
      // Settling now could only say "unknown", for good; Redis back in a minute can say which.
      logger.warn(
        { requestId: request.id, actor: 'system', conversationId: request.conversationId },
        'Redis could not be read to settle an abandoned restore; will try again at the next sweep',
      );
      return null;
    }
    return {
      outcome: settled.outcome,
      reached: 'write',
      observed: settled.observed,
      before,
      after,
      backupId,
      detail: settled.detail,
    };
  }

  async function replayVerdict(request: RecoveryRequest): Promise<SettledVerdict> {
    const entry = await lookup.latest(request.id, request.conversationId, [
      AuditAction.ReplayStarted,
      ...Object.keys(REPLAY_ENDS),
    ]);
    const none = { observed: null, before: null, after: null, backupId: null };
    if (!entry) {
      return {
        ...none,
        outcome: 'failed',
        reached: 'before_write',
        detail: 'The run stopped before it sent the replay to Zeus, so nothing was sent.',
      };
    }
    const end = REPLAY_ENDS[entry.action];
    if (end) {
      const said = str(entry.data.detail) ?? str(entry.data.error);
      return {
        ...none,
        outcome: end,
        reached: 'sent',
        detail: `Before it stopped, the run recorded Zeus's answer${said ? `: ${said}` : '.'}`,
      };
    }
    return {
      ...none,
      outcome: 'unknown',
      reached: 'sent',
      detail:
        'The run stopped after the replay may have been sent to Zeus; what Zeus did with it is not recorded here. It was not sent again.',
    };
  }

  /**
   * An unlock writes nothing but the lock row, so only the audit log can say whether it broke
   * it: its own outcome entry, or else "unknown" (the DELETE may have committed unrecorded).
   */
  async function unlockVerdict(request: RecoveryRequest): Promise<SettledVerdict> {
    const told = await lookup.latest(request.id, request.conversationId, ['lock.broken', 'lock.not_broken']);
    const none = { observed: null, before: null, after: null, backupId: null };
    if (told?.action === 'lock.broken') {
      return {
        ...none,
        outcome: 'succeeded',
        reached: 'write',
        detail: 'The lock was broken before the run stopped.',
      };
    }
    if (told) {
      return {
        ...none,
        outcome: 'failed',
        reached: 'write',
        detail: 'The lock had been released or taken meanwhile; nothing was broken.',
      };
    }
    return {
      ...none,
      outcome: 'unknown',
      reached: 'write',
      detail: `The run stopped without recording whether it broke the lock. Run inspect ${request.conversationId} to see whether it is still held.`,
    };
  }

  function verdictOf(request: RecoveryRequest): Promise<SettledVerdict | null> {
    if (request.state === 'approved') {
      return Promise.resolve({
        outcome: 'failed',
        reached: 'not_started',
        observed: null,
        before: null,
        after: null,
        backupId: null,
        detail: 'The bot stopped after the approval and before the run started, so nothing ran.',
      });
    }
    if (isUnlockPlan(request.plan)) return unlockVerdict(request);
    return isReplayPlan(request.plan) ? replayVerdict(request) : restoreVerdict(request);
  }

  function fromEntry(entry: AuditEntry): SettledVerdict | null {
    const d = entry.data;
    const outcome = d.outcome;
    const reached = d.reached;
    if (outcome !== 'succeeded' && outcome !== 'failed' && outcome !== 'unknown') return null;
    if (reached !== 'not_started' && reached !== 'before_write' && reached !== 'write' && reached !== 'sent')
      return null;
    return {
      outcome,
      reached,
      observed: str(d.observed),
      before: str(d.before),
      after: str(d.after),
      backupId: str(d.backupId),
      detail: str(d.detail) ?? '',
    };
  }

  /** What the approval message's status line reads from `result`. */
  function resultOf(v: SettledVerdict): Record<string, unknown> {
    return {
      settled: true,
      outcome: v.outcome,
      reached: v.reached,
      observed: v.observed,
      before: v.before,
      after: v.after,
      backupId: v.backupId,
      detail: v.detail,
      ...(v.outcome === 'failed' ? { error: v.detail } : {}),
    };
  }

  async function settleOne(found: AbandonedRequest): Promise<boolean> {
    const { request } = found;
    const lease = await core.locks.acquire(
      request.conversationId,
      `system (settling request ${request.id})`,
      options.leaseMs,
    );
    // Its owner is alive after all, or another replica is settling it.
    if (!lease.acquired) return false;
    try {
      const current = await requests.get(request.id);
      if (!current || (current.state !== 'approved' && current.state !== 'executing')) return false;
      const from = current.state;
      const entry = await lookup.latest(current.id, current.conversationId, [SETTLED_ACTION]);
      let prior = entry && fromEntry(entry);
      // "Never started" told while it was approved, and then its owner (slow, not dead) started
      // it after all: that verdict is about a run that did not happen; judge the one that did.
      if (prior?.reached === 'not_started' && from !== 'approved') prior = null;
      const verdict = prior ?? (await verdictOf(current));
      if (!verdict) return false;
      const result = resultOf(verdict);
      if (!prior) {
        const data: RequestSettledData = {
          request: { ...current, state: verdict.outcome, result },
          ...verdict,
          leaseExpiredAt: found.leaseExpiredAt,
        };
        await core.audit.append(
          {
            action: SETTLED_ACTION,
            actor: 'system',
            conversationId: current.conversationId,
            requestId: current.id,
            data: { ...data },
          },
          { deliverTo: { channelId: current.channelId } },
        );
        options.kick();
      }
      const moved = await requests.settle(current.id, from, verdict.outcome, result);
      if (moved.kind !== 'done') return false;
      logger.info(
        {
          requestId: current.id,
          actor: 'system',
          conversationId: current.conversationId,
          from,
          outcome: verdict.outcome,
          reached: verdict.reached,
        },
        'settled a request its owner left behind (not run again)',
      );
      return true;
    } finally {
      await lease.release().catch(() => undefined);
    }
  }

  return {
    async settleOnce(limit = 50): Promise<number> {
      const found = await requests.abandoned(options.graceMs, limit);
      let settled = 0;
      // One at a time: each may wait on Redis, and each reply goes to a Slack thread.
      for (const f of found) {
        try {
          if (await settleOne(f)) settled++;
        } catch (err) {
          logger.warn(
            { requestId: f.request.id, actor: 'system', err: errorMessage(err) },
            'could not settle an abandoned request; will try again at the next sweep',
          );
        }
      }
      return settled;
    },
  };
}
