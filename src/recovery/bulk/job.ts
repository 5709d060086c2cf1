import { randomBytes } from 'node:crypto';
import { ErrorCode, errorMessage, RecoveryError } from '../../errors.js';
import type {
  BulkJobRow,
  BulkJobState,
  ChunkCounts,
  ItemOutcome,
  ItemResult,
  NewBulkBackup,
  OpenItem,
} from '../../store/bulk-jobs.js';
import { sha256Checksum } from '../conversation.js';
import { sleep as pause } from '../retry.js';
import { decide, GROUPS, type Group, type PreviewDecision, previewStillHolds } from './decide.js';
import { type BulkDeps, type BulkPreview, previewBulk } from './preview.js';
import { type CasOp, compareAndSetMany, readKeys } from './redis-batch.js';
import { type Selection, selectionFilter, selectionKey } from './selection.js';
import { promoteMany } from './shadow-batch.js';
import { warmDecisions } from './verdict-pool.js';

/** How chunks reach workers: pg-boss in production (src/jobs.ts), the same in tests. */
export interface ChunkQueue {
  enqueue(jobId: string, chunks: readonly number[]): Promise<void>;
}

export const OUTCOMES: readonly ItemOutcome[] = [
  'restored',
  'identical',
  'newer',
  'changed',
  'invalid',
  'failed',
];
/** Ids frozen per chunk: one chunk is one pg-boss job, its unit of retry and of cancel. */
export const DEFAULT_CHUNK_SIZE = 500;
/** Conversations read and written per pipeline round inside a chunk. */
const WRITE_BATCH = 250;

export interface BulkActor {
  id: string;
  reason: string;
}

export interface BulkCounts {
  restored: number;
  identical: number;
  newer: number;
  changed: number;
  invalid: number;
  failed: number;
}

export interface BulkJobStatus {
  jobId: string;
  state: BulkJobState;
  done: number;
  total: number;
  counts: BulkCounts;
  chunks: ChunkCounts & { total: number };
  /**
   * Workers on the job right now. A running job with none is left without a worker (the CLI that
   * ran it was killed, no bot replica works chunks): `resume` works it from where it stopped.
   */
  liveWorkers: number;
  overwrite: boolean;
  maxRate: number | null;
  selection: Record<string, unknown>;
  actor: string;
  createdAt: string;
  finishedAt: string | null;
  /** Why it stopped, when the job says (ORPHANED_ERROR: found with no live worker; `resume` goes on). */
  error: string | null;
}

export function newBulkJobId(): string {
  return `bj_${randomBytes(15).toString('base64url')}`;
}

function toCounts(raw: Record<string, number>): BulkCounts {
  return {
    restored: raw.restored ?? 0,
    identical: raw.identical ?? 0,
    newer: raw.newer ?? 0,
    changed: raw.changed ?? 0,
    invalid: raw.invalid ?? 0,
    failed: raw.failed ?? 0,
  };
}

function assertJobId(jobId: string): void {
  if (!/^bj_[A-Za-z0-9_-]{20}$/.test(jobId)) {
    throw new RecoveryError(
      ErrorCode.InvalidInput,
      `${JSON.stringify(jobId.slice(0, 40))} is not a bulk job id.`,
      'Job ids look like bj_… (see `zeus-recover jobs`).',
    );
  }
}

async function loadJob(deps: BulkDeps, jobId: string): Promise<BulkJobRow> {
  assertJobId(jobId);
  const job = await deps.store.getJob(jobId);
  if (!job) {
    throw new RecoveryError(
      ErrorCode.NotFound,
      `Job ${jobId} does not exist.`,
      'List recent jobs with `zeus-recover jobs`.',
    );
  }
  return job;
}

export async function jobStatus(deps: BulkDeps, jobId: string): Promise<BulkJobStatus> {
  const job = await loadJob(deps, jobId);
  return statusOf(deps, job);
}

async function statusOf(deps: BulkDeps, job: BulkJobRow): Promise<BulkJobStatus> {
  const [raw, chunks] = await Promise.all([deps.store.counts(job.id), deps.store.chunkStates(job.id)]);
  const counts = toCounts(raw);
  return {
    jobId: job.id,
    state: job.state,
    done: Object.values(counts).reduce((a, b) => a + b, 0),
    total: job.total,
    counts,
    chunks: { ...chunks, total: job.chunks },
    liveWorkers: chunks.live,
    overwrite: job.overwrite,
    maxRate: job.maxRate,
    selection: job.selection,
    actor: job.actor,
    createdAt: job.createdAt.toISOString(),
    finishedAt: job.finishedAt?.toISOString() ?? null,
    error: job.error,
  };
}

export async function listJobs(deps: BulkDeps, limit = 20): Promise<BulkJobStatus[]> {
  const jobs = await deps.store.listJobs(limit);
  return Promise.all(jobs.map((job) => statusOf(deps, job)));
}

/**
 * Previews, freezes the list (in the preview's own snapshot) and queues its chunks. The list is
 * approved once, here; each conversation is decided again when its chunk is worked.
 */
export async function startBulkRestore(
  deps: BulkDeps,
  selection: Selection,
  options: {
    overwrite: boolean;
    maxRate: number | null;
    chunkSize?: number;
    /**
     * Frozen `pending` and nothing queued: an approval step starts it (store/bulk-requests.ts).
     * It expires `ttlMinutes` from the freeze unless the request sets its own: a process that
     * dies before opening the request leaves a job the sweep expires, not one that blocks its
     * selection for good.
     */
    awaitApproval?: { ttlMinutes: number };
  },
  actor: BulkActor,
  queue: ChunkQueue,
): Promise<{ jobId: string; preview: BulkPreview; chunks: number }> {
  const jobId = newBulkJobId();
  const chunkSize = options.chunkSize ?? DEFAULT_CHUNK_SIZE;
  const { preview, frozen } = await previewBulk(deps, selection, { overwrite: options.overwrite }, (p, tx) =>
    tx.createJob(
      {
        id: jobId,
        selection: p.selection,
        selectionKey: selectionKey(selection),
        state: options.awaitApproval ? 'pending' : 'running',
        expiresInMinutes: options.awaitApproval?.ttlMinutes ?? null,
        overwrite: options.overwrite,
        maxRate: options.maxRate,
        chunkSize,
        actor: actor.id,
        reason: actor.reason,
      },
      // The same filter the preview streamed, in the same snapshot.
      selectionFilter(selection),
    ),
  );
  const chunks = frozen?.chunks ?? 0;
  await deps.audit.append({
    action: 'bulk.started',
    actor: actor.id,
    conversationId: null,
    requestId: null,
    data: {
      jobId,
      reason: actor.reason,
      selection: preview.selection,
      total: frozen?.total ?? 0,
      chunks,
      groups: preview.groups,
      overwrite: options.overwrite,
      maxRate: options.maxRate,
    },
  });
  if (!options.awaitApproval) await queue.enqueue(jobId, allChunks(chunks));
  return { jobId, preview, chunks };
}

/** Every chunk of a job of `chunks` chunks, in order. */
export function allChunks(chunks: number): number[] {
  return Array.from({ length: chunks }, (_, i) => i);
}

/** Stops the job between chunks: a chunk being worked finishes; no other is started. */
export async function cancelBulkJob(deps: BulkDeps, jobId: string, actor: BulkActor): Promise<BulkJobStatus> {
  await loadJob(deps, jobId);
  const state = await deps.store.requestCancel(jobId);
  await deps.audit.append({
    action: 'bulk.cancel_requested',
    actor: actor.id,
    conversationId: null,
    requestId: null,
    data: { jobId, reason: actor.reason, state },
  });
  if (state === 'cancelled') await auditFinished(deps, jobId, state);
  return jobStatus(deps, jobId);
}

/**
 * Puts a cancelled or failed job back to work from where it stopped (only unfinished chunks are
 * queued), or a running one left without a worker: its unfinished chunks are queued again (a copy
 * of a chunk already queued or being worked finds it taken or done, and does nothing).
 */
export async function resumeBulkJob(
  deps: BulkDeps,
  jobId: string,
  actor: BulkActor,
  queue: ChunkQueue,
): Promise<BulkJobStatus> {
  await loadJob(deps, jobId);
  const chunks = await deps.store.resume(jobId);
  await deps.audit.append({
    action: 'bulk.resumed',
    actor: actor.id,
    conversationId: null,
    requestId: null,
    data: { jobId, reason: actor.reason, chunks: chunks.length },
  });
  await queue.enqueue(jobId, chunks);
  // A job whose chunks were all done already (failed only at settling) settles here.
  const settled = chunks.length === 0 ? await deps.store.settleJob(jobId) : null;
  if (settled) await auditFinished(deps, jobId, settled);
  return jobStatus(deps, jobId);
}

async function auditFinished(deps: BulkDeps, jobId: string, state: BulkJobState): Promise<void> {
  const counts = toCounts(await deps.store.counts(jobId));
  await deps.audit.append({
    action: 'bulk.finished',
    actor: 'system',
    conversationId: null,
    requestId: null,
    data: { jobId, state, counts },
  });
}

/** The chunk is being worked by another worker right now; the queue tries again later. */
export class ChunkBusy extends Error {
  override name = 'ChunkBusy';
}

export interface ChunkRun {
  /** The pg-boss attempt is the last one: a failure now fails the chunk for good. */
  lastAttempt: boolean;
  worker: string;
  /** Optional pacing (conversations per second for this worker), on top of the job's --max-rate. */
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Works one chunk. Idempotent: only conversations without a final outcome are looked at, and a
 * conversation whose write was sent by an earlier attempt is recognised by Redis holding the
 * source's content, so nothing is written twice and nothing skipped. Under the chunk's lock, so
 * two workers never work one chunk at once.
 */
export async function workChunk(deps: BulkDeps, jobId: string, chunk: number, run: ChunkRun): Promise<void> {
  const locked = await deps.store.withChunkLock(jobId, chunk, async () => {
    const started = await deps.store.startChunk(jobId, chunk, run.worker);
    if (!started) return;
    if (started.jobState === 'cancelling') {
      await deps.store.finishChunk(jobId, chunk, 'cancelled');
      await settle(deps, jobId);
      return;
    }
    try {
      const counts = await writeChunk(deps, jobId, chunk, run);
      await deps.store.finishChunk(jobId, chunk, 'done');
      await deps.audit.append({
        action: 'bulk.chunk',
        actor: run.worker,
        conversationId: null,
        requestId: null,
        data: { jobId, chunk, counts },
      });
    } catch (err) {
      // Left 'working': the next attempt (pg-boss retries) claims it again and goes on from
      // the conversations already settled.
      if (!run.lastAttempt) throw err;
      await deps.store.finishChunk(jobId, chunk, 'failed', errorMessage(err));
      await deps.audit.append({
        action: 'bulk.chunk_failed',
        actor: run.worker,
        conversationId: null,
        requestId: null,
        data: { jobId, chunk, error: errorMessage(err).slice(0, 300) },
      });
    }
    await settle(deps, jobId);
  });
  if (!locked) throw new ChunkBusy(`chunk ${chunk} of ${jobId} is being worked by another worker`);
}

async function settle(deps: BulkDeps, jobId: string): Promise<void> {
  const state = await deps.store.settleJob(jobId);
  if (state) await auditFinished(deps, jobId, state);
}

async function writeChunk(
  deps: BulkDeps,
  jobId: string,
  chunk: number,
  run: ChunkRun,
): Promise<Record<string, number>> {
  const job = await loadJob(deps, jobId);
  const items = await deps.store.openItems(jobId, chunk);
  const counts: Record<string, number> = {};
  const maxRate = job.maxRate ?? 0;
  const paced = maxRate > 0;
  const batchSize = paced ? Math.max(1, Math.min(WRITE_BATCH, maxRate)) : WRITE_BATCH;
  const sleep = run.sleep ?? pause;
  const batches: OpenItem[][] = [];
  for (let at = 0; at < items.length; at += batchSize) batches.push(items.slice(at, at + batchSize));
  const prepare = (k: number) => {
    const batch = batches[k];
    if (!batch) return null;
    const pending = prepareBatch(deps, job, batch);
    // Awaited in its turn, unless a write fails first and the chunk stops: not unhandled then.
    pending.catch(() => undefined);
    return pending;
  };
  // Counted once written: the counts leave this function only after every outcome is recorded.
  const count = (batch: WrittenBatch) => {
    for (const r of batch.results) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
    return batch;
  };
  const record = async (batch: WrittenBatch | null) => {
    if (batch) {
      await deps.store.advanceChunk(jobId, chunk, {
        backups: [],
        sending: [],
        recorded: batch.results,
        unusedBackups: batch.unused,
      });
    }
  };
  // Each batch's outcomes are recorded in the same statement that stores the next batch's backups
  // and marks it in flight. Unpaced, the next batch is read and decided while this one's writes
  // are out; paced, after the pause: a read held through it would leave Zeus a longer window to
  // change the copy, and the compare-and-set would skip it as changed.
  let next = prepare(0);
  let written: WrittenBatch | null = null;
  for (let k = 0; next; k++) {
    const began = performance.now();
    const batch = await next;
    const backupIds = await deps.store.advanceChunk(jobId, chunk, {
      backups: batch.writes.flatMap((w) => (w.backup ? [w.backup] : [])),
      sending: batch.writes.map((w) => (batch.results[w.index] as ItemResult).conversationId),
      recorded: written?.results ?? [],
      unusedBackups: written?.unused ?? [],
    });
    if (!paced) next = prepare(k + 1);
    written = count(await writeBatch(deps, batch, backupIds));
    if (paced) {
      const wait = (batch.results.length / maxRate) * 1000 - (performance.now() - began);
      if (wait > 0) {
        // Recorded before the pause, not a pause later, so progress shows them.
        await record(written);
        written = null;
        await sleep(wait);
      }
      next = prepare(k + 1);
    }
  }
  await record(written);
  return counts;
}

/** A kept decision as the core reads it; one whose group this code does not know is not used. */
function keptDecision(kept: OpenItem['preview']): PreviewDecision | null {
  if (!kept || !GROUP_NAMES.has(kept.group)) return null;
  return { ...kept, group: kept.group as Group };
}

const GROUP_NAMES: ReadonlySet<string> = new Set(GROUPS);

/** A batch read and decided: every item's result, the writes still to send among them. */
interface PreparedBatch {
  results: ItemResult[];
  writes: Array<{ index: number; op: CasOp; backup: NewBulkBackup | null }>;
}

/** A batch after its writes: the final results, and the backups of writes that did not happen. */
interface WrittenBatch {
  results: ItemResult[];
  unused: string[];
}

async function prepareBatch(
  deps: BulkDeps,
  job: BulkJobRow,
  batch: readonly OpenItem[],
): Promise<PreparedBatch> {
  const ids = batch.map((b) => b.conversationId);
  const keys = ids.map((id) => `${deps.keyPrefix}${id}`);
  const [sources, current] = await Promise.all([deps.store.readSource(ids), readKeys(deps.redis, keys)]);
  const byId = new Map(sources.map((s) => [s.id, s]));
  const bytes = new Map(sources.map((s) => [s.id, Buffer.from(s.state, 'utf8')]));
  // Copies still the bytes the preview decided on keep its decision; only the others are analysed.
  const held = batch.map((item, i) => {
    const source = bytes.get(item.conversationId);
    return source
      ? previewStillHolds(
          item.conversationId,
          source,
          current[i]?.bytes ?? null,
          deps.idPattern,
          keptDecision(item.preview),
        )
      : null;
  });
  if (deps.verdicts) {
    await warmDecisions(
      deps.verdicts,
      batch.flatMap((item, i) => {
        const source = bytes.get(item.conversationId);
        return source && !held[i]
          ? [{ id: item.conversationId, source, current: current[i]?.bytes ?? null }]
          : [];
      }),
      deps.idPattern,
    );
  }
  const results: ItemResult[] = [];
  const writes: Array<{ index: number; op: CasOp; backup: NewBulkBackup | null }> = [];
  for (const [i, item] of batch.entries()) {
    const id = item.conversationId;
    const row = byId.get(id);
    const result = (outcome: ItemOutcome, detail: string | null = null) => {
      results.push({ conversationId: id, outcome, backupId: null, detail });
    };
    if (!row) {
      result('failed', 'no longer in the source table');
      continue;
    }
    const source = bytes.get(id) as Buffer;
    const read = current[i] ?? { bytes: null, ttlMs: null };
    const { group, problem } = held[i] ?? decide(id, source, read.bytes, deps.idPattern, deps.verdicts);
    if (group === 'invalid') {
      result('invalid', problem);
      continue;
    }
    if (group === 'identical') {
      // An earlier attempt's write that landed before its outcome was recorded.
      result(item.writing ? 'restored' : 'identical');
      continue;
    }
    if (group === 'newer' && !job.overwrite) {
      result('newer');
      continue;
    }
    const key = keys[i] as string;
    writes.push({
      index: results.length,
      op: { key, expected: read.bytes, next: source },
      backup:
        read.bytes === null
          ? null
          : {
              conversationId: id,
              key,
              value: read.bytes,
              checksum: sha256Checksum(read.bytes),
              ttlMs: read.ttlMs,
              actor: job.actor,
              reason: job.reason,
              jobId: job.id,
            },
    });
    results.push({ conversationId: id, outcome: 'failed', backupId: null, detail: 'not written' });
  }

  return { results, writes };
}

/**
 * Sends a batch's compare-and-sets (its backups stored and the batch marked in flight already,
 * `backupIds` in the order of its backups) and settles each result from the replies.
 */
async function writeBatch(
  deps: BulkDeps,
  batch: PreparedBatch,
  backupIds: readonly string[],
): Promise<WrittenBatch> {
  const { results, writes } = batch;
  let b = 0;
  for (const w of writes) if (w.backup) (results[w.index] as ItemResult).backupId = backupIds[b++] ?? null;
  // Shadow keys (bulk/shadow-batch.ts) only when asked: not shown to cost bulk under 10 %
  // (docs/benchmarks.md, "Shadow keys in bulk").
  const ops = writes.map((w) => w.op);
  const outcomes =
    deps.writeVia === 'shadow'
      ? await promoteMany(deps.redis, ops, deps.ttlPolicy, randomBytes(6).toString('hex'))
      : await compareAndSetMany(deps.redis, ops, deps.ttlPolicy);
  const unused: string[] = [];
  writes.forEach((w, n) => {
    const r = results[w.index] as ItemResult;
    const o = outcomes[n];
    if (o?.status === 'ok') {
      r.outcome = 'restored';
      r.detail = null;
    } else if (o?.status === 'changed') {
      r.outcome = 'changed';
      r.detail = 'Redis changed after it was read';
      if (r.backupId) unused.push(r.backupId);
      r.backupId = null;
    } else {
      // Sent or not, it may have landed: the backup stays.
      r.outcome = 'failed';
      r.detail = o?.reason.slice(0, 200) ?? 'no reply';
    }
  });
  return { results, unused };
}
