import type { LockLease } from '../store/types.js';

/**
 * Keeps a conversation's lease alive while an operation runs, renewing every third of the
 * lease, so a long restore (a big value, a slow tier) is never taken over halfway. `confirm()`
 * renews right now and says whether the lease is still ours: the write must not start unless
 * it is, or it could land while another holder believes it has the conversation to itself.
 */
export interface LeaseKeeper {
  confirm(): Promise<boolean>;
  /** Renewals done so far (for tests and logs). */
  readonly renewals: number;
  stop(): void;
}

/** How long a conversation's lock lasts between renewals when the caller does not say. */
export const DEFAULT_LEASE_MS = 5 * 60_000;

const CONFIRM_ATTEMPTS = 3;

export function keepLease(lease: LockLease, leaseMs: number): LeaseKeeper {
  let lost = false;
  let renewals = 0;
  let inFlight: Promise<boolean | 'error'> | null = null;
  const renewOnce = (): Promise<boolean | 'error'> => {
    if (lost) return Promise.resolve(false);
    // One renewal at a time: a slow database must not pile them up.
    inFlight ??= lease
      .renew(leaseMs)
      .then(
        (ok) => {
          if (ok) renewals++;
          else lost = true;
          return ok;
        },
        // A failed statement proves nothing either way; the next tick tries again.
        () => 'error' as const,
      )
      .finally(() => {
        inFlight = null;
      });
    return inFlight;
  };
  const timer = setInterval(() => void renewOnce(), Math.max(1, Math.floor(leaseMs / 3)));
  timer.unref();
  return {
    async confirm() {
      // A renewal already on its way may have started before a takeover; ask afresh. A failed
      // statement (a connection reset by a failover) is tried again while the lease still runs.
      for (let attempt = 0; attempt < CONFIRM_ATTEMPTS; attempt++) {
        if (inFlight) await inFlight.catch(() => false);
        const outcome = await renewOnce();
        if (outcome !== 'error') return outcome;
      }
      return false;
    },
    get renewals() {
      return renewals;
    },
    stop() {
      clearInterval(timer);
    },
  };
}
