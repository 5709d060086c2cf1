import { type BulkStore, ORPHANED_ERROR } from '../../store/bulk-jobs.js';

/**
 * Finds bulk jobs left "running" with no one to work them, and says so once.
 *
 * A job is orphaned when its unfinished chunks are locked by no live worker AND pg-boss holds no
 * copy of them still to be worked. While pg-boss holds a copy (queued, waiting for a retry, or
 * active until its heartbeat runs out) another worker will take the chunk over, and nothing is
 * said. Once none is left (a chunk killed on its last attempt, pg-boss's rows lost, the CLI that
 * was its only worker killed with no bot working chunks and its copies expired), no one ever will.
 *
 * The job is marked by one conditional UPDATE (`failed`, or `cancelled` if it was being
 * cancelled, error "no live worker"), so it is reported exactly once however many sweeps look,
 * and the `bulk.orphaned` entry (to the job's thread when it has one) is appended in the same
 * transaction: a process killed or cut off between the two leaves neither, and the next sweep
 * marks and tells it.
 */

export interface OrphanDeps {
  store: Pick<BulkStore, 'orphanCandidates' | 'markOrphaned'>;
  /** pg-boss's copies of the job's chunks still to be worked (src/jobs.ts `liveChunkCopies`). */
  liveChunkCopies(jobId: string): Promise<number>;
  /** Wakes the thread deliverer after an entry for a thread was appended. */
  kick?: () => void;
}

export interface OrphanedJob {
  jobId: string;
  state: 'failed' | 'cancelled';
  unfinished: number;
}

/** Marks and reports what is orphaned now; the jobs this call marked. */
export async function reportOrphanedJobs(
  deps: OrphanDeps,
  options: { graceMs: number; limit?: number },
): Promise<OrphanedJob[]> {
  const found = await deps.store.orphanCandidates(options.graceMs, options.limit ?? 20);
  const marked: OrphanedJob[] = [];
  for (const job of found) {
    // pg-boss will hand this chunk to a worker (after the dead one's heartbeat runs out): not orphaned.
    if ((await deps.liveChunkCopies(job.jobId)) > 0) continue;
    const done = await deps.store.markOrphaned(job.jobId, (state) => ({
      event: {
        action: 'bulk.orphaned',
        actor: 'system',
        // A Slack job's thread is keyed by the job id; a CLI job has none.
        conversationId: job.channelId ? job.jobId : null,
        requestId: null,
        data: { jobId: job.jobId, state, unfinished: job.unfinished, error: ORPHANED_ERROR },
      },
      ...(job.channelId ? { options: { deliverTo: { channelId: job.channelId } } } : {}),
    }));
    if (done === null) continue;
    marked.push({ jobId: job.jobId, state: done.state, unfinished: job.unfinished });
    if (job.channelId) deps.kick?.();
  }
  return marked;
}
