import type { RequestStore } from '../store/requests.js';
import type { RecoveryRequest } from './types.js';

/**
 * Closes requests whose approval window has passed and hands each to onExpired exactly once
 * (to post the "expired" notice and audit it). Every replica runs one; expireDue's
 * FOR UPDATE SKIP LOCKED gives concurrent sweeps disjoint rows, so no notice is posted twice.
 * Within one process, runs never overlap: a sweep asked for while one runs joins it.
 *
 * With `settle`, each sweep also settles work a crashed replica left behind (settle-stuck.ts,
 * safe across replicas by its own lock), and the first sweep runs at once: a restarted bot
 * reports what it left unfinished without waiting an interval.
 */

export interface SweeperOptions {
  store: Pick<RequestStore, 'expireDue'>;
  intervalMs: number;
  onExpired: (request: RecoveryRequest) => Promise<void>;
  /** A failed sweep or notice; the sweeper keeps going. `request` is set for a failed notice. */
  onError: (err: unknown, request?: RecoveryRequest) => void;
  /** Spread of each wait, as a fraction of intervalMs, so replicas drift apart. Default 0.2. */
  jitter?: number;
  /** Rows per expireDue call; a sweep repeats until a batch comes back short. */
  batchSize?: number;
  /** Injectable for tests. */
  random?: () => number;
  /** Settles abandoned requests; resolves to how many. Its failure is reported and the sweep goes on. */
  settle?: () => Promise<number>;
}

export interface Sweeper {
  /** Stops the timer and waits for a sweep in progress to finish. */
  stop(): Promise<void>;
  /** Sweeps now (or joins the sweep in progress); resolves to how many requests it expired. */
  sweepOnce(): Promise<number>;
}

/** Upper bound on batches per sweep, so a flood of due rows cannot starve the event loop. */
const MAX_BATCHES = 50;

export function startSweeper(options: SweeperOptions): Sweeper {
  const { store, onExpired, onError } = options;
  if (!Number.isFinite(options.intervalMs) || options.intervalMs <= 0) {
    throw new Error(`Sweeper interval must be a positive number of milliseconds, got ${options.intervalMs}`);
  }
  const jitter = Math.min(1, Math.max(0, options.jitter ?? 0.2));
  const batchSize = options.batchSize ?? 100;
  const random = options.random ?? Math.random;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<number> | null = null;
  let stopped = false;

  async function sweep(): Promise<number> {
    try {
      return await expire();
    } finally {
      // Even when expiry failed: a dead database fails both, but a bad row must not block settling.
      if (options.settle && !stopped) {
        try {
          await options.settle();
        } catch (err) {
          onError(err);
        }
      }
    }
  }

  async function expire(): Promise<number> {
    let total = 0;
    for (let batch = 0; batch < MAX_BATCHES; batch++) {
      // On shutdown, finish the batch in hand (its rows are already expired) but take no more.
      if (batch > 0 && stopped) break;
      const expired = await store.expireDue(batchSize);
      // Sequentially: notices go to Slack threads, where about one message a second fits.
      for (const request of expired) {
        try {
          await onExpired(request);
        } catch (err) {
          onError(err, request);
        }
      }
      total += expired.length;
      if (expired.length < batchSize) break;
    }
    return total;
  }

  function sweepOnce(): Promise<number> {
    if (!running) {
      running = sweep().finally(() => {
        running = null;
      });
    }
    return running;
  }

  function schedule(delayMs: number): void {
    if (stopped) return;
    timer = setTimeout(() => {
      timer = null;
      sweepOnce()
        .catch((err: unknown) => onError(err))
        .finally(() => schedule(nextDelay()));
    }, delayMs);
    timer.unref();
  }

  function nextDelay(): number {
    return Math.max(1, Math.round(options.intervalMs * (1 - jitter + 2 * jitter * random())));
  }

  // The first sweep lands anywhere in the first interval, so replicas started together
  // (a rollout) do not sweep in lockstep; with settle it runs at once, because a request left
  // unfinished blocks its conversation until settled, and settling twice is harmless.
  schedule(options.settle ? 1 : Math.max(1, Math.round(options.intervalMs * random())));

  return {
    async stop(): Promise<void> {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      if (running) await running.catch(() => undefined);
    },
    sweepOnce,
  };
}
