import type { ExpiryNotice, RequestStore } from '../store/requests.js';
import type { RecoveryRequest } from './types.js';

/**
 * Closes requests whose approval window has passed, each with its "expired" notice appended in
 * the same transaction (so a sweep killed or cut off in between leaves the request for the next
 * one, never expired and untold), and hands each to onExpired exactly once. expireDue's FOR
 * UPDATE SKIP LOCKED gives concurrent sweeps disjoint rows, so no notice is appended twice.
 * Within one process, runs never overlap: a sweep asked for while one runs joins it.
 *
 * With `settle`, each sweep also settles work a crashed replica left behind (settle-stuck.ts,
 * safe across replicas by its own lock) and reports bulk jobs left without a worker.
 *
 * It has no timer of its own: the bot runs it on the job engine's sweep ticks (src/jobs.ts
 * `runSweeps`: one replica per tick, every SWEEP_INTERVAL_MS, and at once when a replica starts).
 */

export interface SweeperOptions {
  store: Pick<RequestStore, 'expireDue'>;
  /** The audit entry that tells the thread, appended by the store with the expiry. */
  notice: ExpiryNotice;
  /** After the commit: what is not the notice itself (metrics, waking the deliverer). */
  onExpired: (request: RecoveryRequest) => Promise<void>;
  /** A failed sweep or notice; the sweeper keeps going. `request` is set for a failed notice. */
  onError: (err: unknown, request?: RecoveryRequest) => void;
  /** Rows per expireDue call; a sweep repeats until a batch comes back short. */
  batchSize?: number;
  /** Settles abandoned work; resolves to how much. Its failure is reported and the sweep goes on. */
  settle?: () => Promise<number>;
}

export interface Sweeper {
  /** Takes no more sweeps and waits for the one in progress to finish. */
  stop(): Promise<void>;
  /** Sweeps now (or joins the sweep in progress); resolves to how many requests it expired. */
  sweepOnce(): Promise<number>;
}

/** Upper bound on batches per sweep, so a flood of due rows cannot starve the event loop. */
const MAX_BATCHES = 50;

export function createSweeper(options: SweeperOptions): Sweeper {
  const { store, notice, onExpired, onError } = options;
  const batchSize = options.batchSize ?? 100;
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
      const expired = await store.expireDue(batchSize, notice);
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
    if (stopped) return Promise.resolve(0);
    if (!running) {
      running = sweep().finally(() => {
        running = null;
      });
    }
    return running;
  }

  return {
    async stop(): Promise<void> {
      stopped = true;
      if (running) await running.catch(() => undefined);
    },
    sweepOnce,
  };
}
