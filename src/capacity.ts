import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import { ErrorCode, isRecoveryError, RecoveryError } from './errors.js';

/**
 * Load shedding for one replica's Postgres pool. Commands share most of the pool and are told
 * "busy" when it is taken; a few connections are kept for the work that decides requests
 * (approve, deny, cancel and the restore an approval starts), which must never be refused
 * because someone else is busy. That work runs inside `runWithPriority`, and every checkout it
 * makes — through whichever store — may use the reserve.
 */

const priority = new AsyncLocalStorage<true>();

/** Runs `fn` (and everything it starts, awaited or not) as work that may use the reserve. */
export function runWithPriority<T>(fn: () => T): T {
  return priority.run(true, fn);
}

export function hasPriority(): boolean {
  return priority.getStore() === true;
}

/** Why a checkout was refused: the wait queue was full, or the wait ran over its budget. */
export type ShedReason = 'queue_full' | 'wait_timeout';

export function busyError(reason: ShedReason): RecoveryError {
  return new RecoveryError(
    ErrorCode.Busy,
    'The bot is busy: every database connection it has for commands is in use.',
    'Try again in a few seconds. Approve, deny and cancel still work.',
    { details: { reason } },
  );
}

export function isBusy(err: unknown): boolean {
  return isRecoveryError(err) && err.code === ErrorCode.Busy;
}

/**
 * pg-pool's own words when a checkout waited `connectionTimeoutMillis` for a connection of a
 * full pool (it says "Connection terminated due to connection timeout" when the server itself
 * did not answer in time): the pool was busy, the server was fine.
 */
function isPoolWaitTimeout(err: unknown): boolean {
  return err instanceof Error && err.message === 'timeout exceeded when trying to connect';
}

export interface PoolGate {
  /** Connections only priority work may take; the rest are shared by everything. */
  reserve: number;
  /** How long an ordinary checkout waits for a connection before it is refused as busy. */
  waitMs: number;
  /** Ordinary checkouts that may wait at once; the next one is refused at once. */
  queueMax: number;
}

type ConnectCallback = (
  err: Error | undefined,
  client: pg.PoolClient | undefined,
  done: (release?: unknown) => void,
) => void;

/**
 * A pg.Pool whose ordinary checkouts (everything but priority work) hold at most
 * `max - reserve` connections at once and wait in a bounded queue with a bounded wait; past
 * either bound they fail with a `Busy` error instead of queueing until pg-pool's "timeout
 * exceeded when trying to connect". `pool.query` goes through `connect`, so it is gated too.
 */
export class GatedPool extends pg.Pool {
  readonly #ordinaryMax: number;
  readonly #gate: PoolGate;
  #held = 0;
  readonly #waiting: Array<() => void> = [];
  readonly #onShed: Array<(reason: ShedReason) => void> = [];

  constructor(config: pg.PoolConfig & { max: number }, gate: PoolGate) {
    super(config);
    this.#gate = gate;
    this.#ordinaryMax = Math.max(1, config.max - gate.reserve);
  }

  /** Told about every refused checkout (for a metric). */
  onShed(listener: (reason: ShedReason) => void): void {
    this.#onShed.push(listener);
  }

  /** Ordinary checkouts holding a connection now, and waiting for one. */
  get ordinaryLoad(): { held: number; waiting: number; max: number } {
    return { held: this.#held, waiting: this.#waiting.length, max: this.#ordinaryMax };
  }

  override connect(): Promise<pg.PoolClient>;
  override connect(callback: ConnectCallback): void;
  override connect(callback?: ConnectCallback): Promise<pg.PoolClient> | undefined {
    const checkout = hasPriority() ? this.#checkout() : this.#ordinary();
    if (!callback) return checkout;
    checkout.then(
      (client) => callback(undefined, client, (release) => client.release(release as Error | boolean)),
      (err: Error) => callback(err, undefined, () => {}),
    );
    return undefined;
  }

  #checkout(): Promise<pg.PoolClient> {
    return super.connect().catch((err: unknown) => {
      throw isPoolWaitTimeout(err) ? this.#shed('wait_timeout') : err;
    });
  }

  async #ordinary(): Promise<pg.PoolClient> {
    await this.#permit();
    let client: pg.PoolClient;
    try {
      client = await this.#checkout();
    } catch (err) {
      this.#free();
      throw err;
    }
    // pg-pool sets a fresh `release` on every checkout; the permit goes back with the client.
    const release = client.release;
    let freed = false;
    client.release = (err?: Error | boolean) => {
      if (!freed) {
        freed = true;
        this.#free();
      }
      return release.call(client, err);
    };
    return client;
  }

  #permit(): Promise<void> {
    if (this.#held < this.#ordinaryMax) {
      this.#held++;
      return Promise.resolve();
    }
    if (this.#waiting.length >= this.#gate.queueMax) return Promise.reject(this.#shed('queue_full'));
    return new Promise((resolve, reject) => {
      const grant = () => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        const at = this.#waiting.indexOf(grant);
        if (at >= 0) this.#waiting.splice(at, 1);
        reject(this.#shed('wait_timeout'));
      }, this.#gate.waitMs);
      this.#waiting.push(grant);
    });
  }

  /** A permit handed back passes straight to the next waiter, so `held` never dips between. */
  #free(): void {
    const next = this.#waiting.shift();
    if (next) next();
    else this.#held--;
  }

  #shed(reason: ShedReason): RecoveryError {
    for (const listener of this.#onShed) listener(reason);
    return busyError(reason);
  }
}
