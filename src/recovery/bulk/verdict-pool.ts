import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { errorMessage } from '../../errors.js';
import { workerModule } from '../worker-module.js';
import {
  fingerprintsNeeded,
  type Verdict,
  type VerdictCache,
  type VerdictRequest,
  verdictsNeeded,
} from './decide.js';

/**
 * The conversation analysis of a bulk restore on worker threads (two): on one event loop
 * it bounded the whole restore. The workers run the very same `analyze` as the event loop (the
 * verdicts are identical; decide.ts still decides), and fill the verdict cache ahead of
 * `decide`. A pool that cannot start or loses a worker is dropped: the event loop analyses, as
 * before, so the restore only gets slower, never different.
 */

// Runs in the worker: loads decide.ts (TypeScript via tsx in a checkout, compiled JavaScript in
// the image) and answers each batch with its verdicts, in order.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsxApi) (await import(workerData.tsxApi)).register();
  const { analyze } = await import(workerData.moduleUrl);
  parentPort.on('message', ({ seq, items }) => {
    const verdicts = items.map((it) => analyze(it.id, Buffer.from(it.latin1, 'latin1'), it.fingerprint));
    parentPort.postMessage({ seq, verdicts });
  });
})().catch((err) => { throw err; });
`;

interface Pending {
  resolve: (verdicts: Verdict[]) => void;
  reject: (err: Error) => void;
}

interface PoolWorker {
  worker: Worker;
  pending: Map<number, Pending>;
}

/** Below this many copies a batch is analysed on the event loop: a round trip costs more. */
const MIN_OFFLOAD = 8;
/**
 * Each worker's heap is capped, so a pool's memory does not depend on the selection or on how
 * lazily V8 collects (a bot pod has 512 MiB). Parsing a copy takes several times its size: a copy
 * above MAX_OFFLOAD_BYTES stays on the event loop, whose heap is the process's own.
 */
const WORKER_LIMITS = { maxOldGenerationSizeMb: 48, maxYoungGenerationSizeMb: 8 };
const MAX_OFFLOAD_BYTES = 1024 * 1024;
/** Two workers: the analysis then runs beside the event loop, Postgres and Redis on a 2-core host. */
const MAX_WORKERS = 2;

class VerdictPool {
  private readonly workers: PoolWorker[] = [];
  private seq = 0;
  broken = false;

  constructor(size: number) {
    const { moduleUrl, tsxApi } = workerModule(import.meta.url, 'decide');
    for (let i = 0; i < size; i++) {
      const worker = new Worker(WORKER_SOURCE, {
        eval: true,
        // Not the parent's flags: `--input-type=module` or loaders would change how this evaluates.
        execArgv: [],
        workerData: { moduleUrl, tsxApi },
        resourceLimits: WORKER_LIMITS,
      });
      const entry: PoolWorker = { worker, pending: new Map() };
      // Idle workers must not keep a finished CLI alive.
      worker.unref();
      worker.on('message', ({ seq, verdicts }: { seq: number; verdicts: Verdict[] }) => {
        entry.pending.get(seq)?.resolve(verdicts);
        entry.pending.delete(seq);
        if (entry.pending.size === 0) worker.unref();
      });
      const fail = (err: Error) => {
        this.broken = true;
        for (const p of entry.pending.values()) p.reject(err);
        entry.pending.clear();
      };
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`verdict worker exited with code ${code}`)));
      this.workers.push(entry);
    }
  }

  /** Verdicts of `items`, in order, the work split evenly over the workers. */
  async analyze(items: readonly VerdictRequest[]): Promise<Verdict[]> {
    const share = Math.ceil(items.length / this.workers.length);
    const parts = this.workers.map((entry, i) => {
      const slice = items.slice(i * share, (i + 1) * share);
      if (slice.length === 0) return Promise.resolve([] as Verdict[]);
      const seq = this.seq++;
      return new Promise<Verdict[]>((resolve, reject) => {
        entry.pending.set(seq, { resolve, reject });
        entry.worker.ref();
        entry.worker.postMessage({
          seq,
          // The bytes as a one-byte string (latin1 gives back every byte, valid UTF-8 or not), so
          // they land on the worker's capped heap. Posted as Buffers they landed outside it, and
          // the threads freed them late: the process's RSS grew with the selection (253 → 300 MB
          // from 10k to 100k copies; 261 → 253 MB as strings, docs/benchmarks.md).
          items: slice.map((it) => ({
            id: it.id,
            latin1: it.bytes.toString('latin1'),
            fingerprint: it.fingerprint,
          })),
        });
      });
    });
    return (await Promise.all(parts)).flat();
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }
}

let shared: VerdictPool | null = null;

function pool(): VerdictPool | null {
  if (shared?.broken) {
    void shared.close().catch(() => undefined);
    shared = null;
    return null;
  }
  if (!shared) {
    try {
      shared = new VerdictPool(Math.max(1, Math.min(MAX_WORKERS, availableParallelism())));
    } catch {
      return null;
    }
  }
  return shared;
}

/**
 * Computes on the worker threads the verdicts `wanted` that `cache` does not hold yet, and keeps
 * them. Anything that goes wrong leaves them to be computed on the event loop by `decide`.
 */
export async function warmVerdicts(
  cache: VerdictCache,
  wanted: readonly VerdictRequest[],
  onError?: (message: string) => void,
): Promise<void> {
  const missing = cache.missing(wanted.filter((w) => w.bytes.length <= MAX_OFFLOAD_BYTES));
  if (missing.length < MIN_OFFLOAD) return;
  const workers = pool();
  if (!workers) return;
  try {
    const verdicts = await workers.analyze(missing);
    missing.forEach((m, i) => {
      const v = verdicts[i];
      if (v) m.keep(v);
    });
  } catch (err) {
    onError?.(errorMessage(err));
  }
}

/** One conversation to decide: its source copy and Redis's (null: no key). */
export interface DecisionInput {
  id: string;
  source: Buffer;
  current: Buffer | null;
}

/**
 * Computes ahead, on the worker threads, every verdict `decide` will read for these
 * conversations: the quick verdicts first, then the content hashes of the pairs they leave open.
 */
export async function warmDecisions(
  cache: VerdictCache,
  copies: readonly DecisionInput[],
  idPattern: RegExp,
): Promise<void> {
  await warmVerdicts(
    cache,
    copies.flatMap((c) => verdictsNeeded(c.id, c.source, c.current, idPattern)),
  );
  await warmVerdicts(
    cache,
    copies.flatMap((c) => fingerprintsNeeded(c.id, c.source, c.current, idPattern, cache)),
  );
}

/** Stops the workers (tests, and a process that is done with bulk work). */
export async function closeVerdictPool(): Promise<void> {
  const p = shared;
  shared = null;
  await p?.close();
}
