import { open } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Config } from '../config.js';
import type { JobEngine } from '../jobs.js';
import {
  type BulkJobStatus,
  jobStatus,
  listJobs,
  resumeBulkJob,
  startBulkRestore,
} from '../recovery/bulk/job.js';
import { type BulkDeps, previewBulk } from '../recovery/bulk/preview.js';
import { parseSelection } from '../recovery/bulk/selection.js';
import { createBulkDeps, type Runtime, startBulkEngine } from '../wiring.js';
import { type ParsedArgs, UsageError } from './args.js';
import {
  bulkJobJson,
  bulkPreviewJson,
  bulkResultJson,
  formatBulkJob,
  formatBulkJobs,
  formatBulkPreview,
  formatFailures,
  formatProgress,
} from './bulk-format.js';
import { takeHourlySlot } from './hourly-slot.js';
import { actingUser, type CliIo } from './io.js';

export const BULK_COMMANDS: readonly string[] = ['bulk-restore', 'job', 'jobs', 'resume'];

const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);
/** How often the CLI asks for a running job's status (its counts over every item); the bench asks as often. */
export const POLL_MS = 500;
/** Plain progress lines (stderr not a terminal) come at most this often. */
const PLAIN_EVERY_MS = 5000;

function parseMaxRate(raw: string | undefined): number | null {
  if (raw === undefined) return null;
  if (!/^\d{1,7}$/.test(raw.trim()) || Number(raw) < 1) {
    throw new UsageError('--max-rate must be a whole number of conversations per second, 1 or more');
  }
  return Number(raw);
}

/** bulk-restore, job, jobs and resume: the bulk restore's CLI face. */
export async function runBulkCommand(
  args: ParsedArgs,
  rt: Runtime,
  io: CliIo,
  config: Config,
): Promise<number> {
  const out = (human: string, machine: unknown) =>
    io.stdout(args.json ? `${JSON.stringify(machine, null, 2)}\n` : `${human}\n`);
  const user = actingUser(io);
  const actor = { id: `cli:${user}`, reason: args.reason ?? '' };
  const bulk = args.bulk;

  if (args.command === 'bulk-restore') {
    if (args.from !== 'postgres') throw new UsageError('bulk-restore needs --from postgres');
    const maxRate = parseMaxRate(bulk.maxRate);
    const selection = parseSelection(
      { since: bulk.since, until: bulk.until, status: bulk.status, match: bulk.match },
      new Date(),
    );
    if (!bulk.dryRun && (!args.yes || !args.reason)) {
      throw new UsageError(
        'bulk-restore changes Redis: add --yes and --reason "<why>", or --dry-run to preview only',
      );
    }
    const deps = createBulkDeps(config, rt);
    if (bulk.dryRun) {
      const { preview } = await previewBulk(deps, selection, { overwrite: bulk.overwrite });
      out(formatBulkPreview(preview), bulkPreviewJson(preview));
      return preview.refusal ? 1 : 0;
    }
    await takeHourlySlot(rt, config, { kind: 'bulk-restore', actor: actor.id, conversationId: null });
    const engine = await startBulkEngine(config);
    try {
      const started = await startBulkRestore(
        deps,
        selection,
        { overwrite: bulk.overwrite, maxRate },
        actor,
        engine.queue,
      );
      if (!args.json) io.stderr(`${formatBulkPreview(started.preview)}\n\nJob ${started.jobId} started.\n`);
      return await workToEnd(deps, engine, started.jobId, args, io, user);
    } finally {
      await engine.stop();
    }
  }

  if (args.command === 'resume') {
    const jobId = args.positionals[0];
    if (!jobId) throw new UsageError('resume needs a job id (bj_…)');
    const deps = createBulkDeps(config, rt);
    const engine = await startBulkEngine(config);
    try {
      await resumeBulkJob(deps, jobId, actor, engine.queue);
      return await workToEnd(deps, engine, jobId, args, io, user);
    } finally {
      await engine.stop();
    }
  }

  // job / jobs only read the bot's tables: no job engine needed.
  const deps = createBulkDeps(config, rt);
  if (args.command === 'job') {
    const jobId = args.positionals[0];
    if (!jobId) throw new UsageError('job needs a job id (bj_…)');
    const status = await jobStatus(deps, jobId);
    const written = args.out ? await writeFailures(deps, jobId, args.out) : null;
    out(
      [formatBulkJob(status), written === null ? '' : `Wrote ${written} not restored to ${args.out}`]
        .filter(Boolean)
        .join('\n'),
      bulkJobJson(status),
    );
    return 0;
  }
  const jobs = await listJobs(deps, args.limit ?? 20);
  out(formatBulkJobs(jobs), { jobs: jobs.map(bulkJobJson) });
  return 0;
}

/** Every conversation not restored for a reason to look at, one `id<TAB>outcome<TAB>detail` line each. */
async function writeFailures(deps: BulkDeps, jobId: string, path: string): Promise<number> {
  const file = await open(path, 'w');
  let n = 0;
  try {
    let after = '';
    for (;;) {
      const page = await deps.store.failures(jobId, 1000, after);
      if (page.length === 0) break;
      await file.write(page.map((f) => `${f.conversationId}\t${f.outcome}\t${f.detail ?? ''}\n`).join(''));
      n += page.length;
      after = page[page.length - 1]?.conversationId ?? after;
    }
  } finally {
    await file.close();
  }
  return n;
}

/**
 * This process works the job's chunks itself (so a bulk restore runs with the bot down), along
 * with any bot replica that is working them too, and reports until the job is over.
 */
async function workToEnd(
  deps: BulkDeps,
  engine: JobEngine,
  jobId: string,
  args: ParsedArgs,
  io: CliIo,
  user: string,
): Promise<number> {
  // Two chunks at once: one chunk's reads and writes wait on Postgres and Redis while the other's analysis runs.
  await engine.workBulkChunks(deps, `cli:${user}@${hostname()}:${process.pid}`, 2);
  const tty = process.stderr.isTTY === true;
  let status: BulkJobStatus = await jobStatus(deps, jobId);
  const startedAt = performance.now();
  const startDone = status.done;
  // The first plain line comes at once (a fast job may end before the first interval), then one
  // every PLAIN_EVERY_MS.
  let lastPlain = Number.NEGATIVE_INFINITY;
  if (!tty && !args.json && !TERMINAL.has(status.state)) {
    lastPlain = performance.now();
    io.stderr(`${formatProgress(status, 0, false)}\n`);
  }
  while (!TERMINAL.has(status.state)) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    status = await jobStatus(deps, jobId);
    if (args.json) continue;
    const now = performance.now();
    const rate = ((status.done - startDone) / Math.max(1, now - startedAt)) * 1000;
    if (tty) io.stderr(`\r${formatProgress(status, rate, true)}`);
    else if (now - lastPlain >= PLAIN_EVERY_MS) {
      lastPlain = now;
      io.stderr(`${formatProgress(status, rate, false)}\n`);
    }
  }
  if (tty && !args.json) io.stderr('\n');
  const failures = await deps.store.failures(jobId, 21);
  const written = args.out ? await writeFailures(deps, jobId, args.out) : null;
  const human = [
    formatBulkJob(status),
    formatFailures(failures.slice(0, 20), failures.length > 20 && written === null, jobId),
    written === null ? '' : `Wrote ${written} not restored (changed, invalid, failed) to ${args.out}`,
  ]
    .filter(Boolean)
    .join('\n');
  io.stdout(args.json ? `${JSON.stringify(bulkResultJson(status), null, 2)}\n` : `${human}\n`);
  return status.state === 'succeeded' && status.counts.failed === 0 ? 0 : 1;
}
