/**
 * Bulk restore figures, side by side in one run, from Postgres into Redis (local services):
 *  (a) the runbook's way: `psql` then `redis-cli SET` per conversation, a few hundred, extrapolated;
 *  (b) the raw limit: one streaming read (server-side cursor) and a pipelined SET, no checks;
 *  (c) the bulk restore (preview, frozen list, pg-boss chunks, per-conversation compare-and-set),
 *      into an empty Redis and into a full one (every key holding an older copy: all overwritten,
 *      all backed up).
 * (b) and (c) each run in a child process of their own, whose peak RSS is reported.
 * `npm run bench`, or alone: `node --import tsx bench/bulk.ts [N]` (BENCH_BULK_N; default 10,000).
 * Prints a table and writes JSON under bench/results/. Asserts nothing.
 */
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { availableParallelism, loadavg } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { Redis } from 'ioredis';
import pg from 'pg';
import { POLL_MS } from '../src/cli/bulk-command.js';
import { startJobEngine } from '../src/jobs.js';
import { VerdictCache } from '../src/recovery/bulk/decide.js';
import { jobStatus, startBulkRestore } from '../src/recovery/bulk/job.js';
import type { BulkDeps } from '../src/recovery/bulk/preview.js';
import { parseSelection } from '../src/recovery/bulk/selection.js';
import { compileIdPattern, DEFAULT_ID_PATTERN } from '../src/recovery/ids.js';
import { createAuditLog } from '../src/store/audit.js';
import { createBulkStore } from '../src/store/bulk-jobs.js';
import { migrate } from '../src/store/migrate.js';
import { makeConversation } from '../test/helpers/conversations.js';

const ADMIN_URL = process.env.TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const REDIS_URL = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const SCHEMA = 'zeus_recover';
/** About 8 KB each. */
const STEPS = 75;
const RUNBOOK_SAMPLE = 200;

interface Figure {
  name: string;
  n: number;
  seconds: number;
  convPerS: number;
  mbPerS: number;
  peakRssMb: number | null;
  note: string;
  peaks?: MemoryPeaks;
}

interface ChildResult {
  ms: number;
  bytes: number;
  maxRssKb: number;
  note?: string;
  /** (c) only: from the start to the frozen list (preview + freeze), before the job runs. */
  previewMs?: number;
  /** Peaks of the main thread's memory, sampled every 50 ms: where the RSS went. */
  peaks?: MemoryPeaks;
}

interface MemoryPeaks {
  heapUsedMb: number;
  /** Buffers and other memory V8 does not hold (rows' bytes, Redis replies). */
  externalMb: number;
  /** RSS beyond the main thread's heap and external memory: worker threads, code, allocator slack. */
  restMb: number;
}

/** Samples the process's memory until stopped; the peak of each part. */
function samplePeaks(): () => MemoryPeaks {
  const peaks: MemoryPeaks = { heapUsedMb: 0, externalMb: 0, restMb: 0 };
  const sample = () => {
    const m = process.memoryUsage();
    peaks.heapUsedMb = Math.max(peaks.heapUsedMb, m.heapUsed / 1024 / 1024);
    peaks.externalMb = Math.max(peaks.externalMb, m.external / 1024 / 1024);
    peaks.restMb = Math.max(peaks.restMb, (m.rss - m.heapTotal - m.external) / 1024 / 1024);
  };
  const timer = setInterval(sample, 50);
  return () => {
    clearInterval(timer);
    sample();
    return peaks;
  };
}

const showPeaks = (p: MemoryPeaks | undefined) =>
  p
    ? `; peaks: heap used ${p.heapUsedMb.toFixed(0)} MB, external ${p.externalMb.toFixed(0)} MB, rest ${p.restMb.toFixed(0)} MB`
    : '';

const mb = (bytes: number) => bytes / 1024 / 1024;

async function seed(url: string, n: number): Promise<number> {
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  try {
    await pool.query(
      'CREATE TABLE conversations (id text primary key, state jsonb not null, updated_at timestamptz not null)',
    );
    let bytes = 0;
    for (let at = 0; at < n; at += 1000) {
      const ids: string[] = [];
      const states: string[] = [];
      for (let i = at; i < Math.min(n, at + 1000); i++) {
        const id = `c-bench-${String(i).padStart(6, '0')}`;
        ids.push(id);
        states.push(makeConversation(id, STEPS));
      }
      await pool.query(
        `INSERT INTO conversations (id, state, updated_at)
         SELECT id, state::jsonb, now() - interval '1 minute' FROM unnest($1::text[], $2::text[]) t(id, state)`,
        [ids, states],
      );
    }
    const res = await pool.query<{ b: string }>(
      'SELECT sum(octet_length(state::text))::bigint AS b FROM conversations',
    );
    bytes = Number(res.rows[0]?.b ?? 0);
    return bytes;
  } finally {
    await pool.end();
  }
}

async function clearPrefix(redis: Redis, prefix: string): Promise<void> {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/**
 * Every key holding an older copy (fewer steps), so the restore overwrites and backs up each. With
 * BENCH_BULK_FULL=same, every key holds the same content in Zeus's own bytes (not Postgres's
 * spelling): all identical, nothing written, every pair compared by content hash.
 */
async function fillFull(redis: Redis, prefix: string, n: number): Promise<void> {
  const steps = process.env.BENCH_BULK_FULL === 'same' ? STEPS : STEPS - 5;
  for (let at = 0; at < n; at += 500) {
    const pipeline = redis.pipeline();
    for (let i = at; i < Math.min(n, at + 500); i++) {
      const id = `c-bench-${String(i).padStart(6, '0')}`;
      pipeline.set(`${prefix}${id}`, makeConversation(id, steps));
    }
    await pipeline.exec();
  }
}

function runbook(url: string, prefix: string, n: number): Figure {
  const started = performance.now();
  let bytes = 0;
  for (let i = 0; i < n; i++) {
    const id = `c-bench-${String(i).padStart(6, '0')}`;
    const state = execFileSync(
      'psql',
      ['-X', '-At', '-d', url, '-c', `SELECT state::text FROM conversations WHERE id = '${id}'`],
      {
        encoding: 'utf8',
      },
    ).replace(/\n$/, '');
    execFileSync('redis-cli', ['-u', REDIS_URL, '-x', 'SET', `${prefix}${id}`], { input: state });
    bytes += Buffer.byteLength(state);
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    name: '(a) runbook: psql + redis-cli SET',
    n,
    seconds,
    convPerS: n / seconds,
    mbPerS: mb(bytes) / seconds,
    peakRssMb: null,
    note: `${n} conversations, extrapolated`,
  };
}

/** Extra node flags for the measured children, e.g. BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof". */
function childNodeArgs(): string[] {
  return (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a !== '');
}

function child(mode: 'raw' | 'read' | 'bulk', url: string, prefix: string): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const proc = spawn(
      process.execPath,
      [...childNodeArgs(), '--import', 'tsx', import.meta.filename, 'child', mode, url, prefix],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    proc.stdout.on('data', (c: Buffer) => {
      out += c.toString('utf8');
    });
    proc.on('error', reject);
    proc.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`bench child ${mode} exited ${code}`));
      resolve(JSON.parse(out.trim().split('\n').at(-1) ?? '{}') as ChildResult);
    });
  });
}

/**
 * (b): the fastest honest copy: a cursor over the rows and a pipelined SET per batch. With `write`
 * false, the same read and nothing written: what one read of the selection costs, the floor under
 * the preview and under the run alike.
 */
async function rawCopy(url: string, prefix: string, write = true): Promise<ChildResult> {
  const client = new pg.Client({ connectionString: url });
  const redis = new Redis(REDIS_URL);
  await client.connect();
  const peaks = samplePeaks();
  const started = performance.now();
  let bytes = 0;
  await client.query('BEGIN');
  await client.query('DECLARE c NO SCROLL CURSOR FOR SELECT id, state::text AS state FROM conversations');
  for (;;) {
    const res = await client.query<{ id: string; state: string }>('FETCH 500 FROM c');
    if (res.rows.length === 0) break;
    const pipeline = redis.pipeline();
    for (const row of res.rows) {
      pipeline.set(`${prefix}${row.id}`, row.state);
      bytes += Buffer.byteLength(row.state);
    }
    if (write) await pipeline.exec();
  }
  await client.query('COMMIT');
  const ms = performance.now() - started;
  await client.end();
  redis.disconnect();
  return { ms, bytes, maxRssKb: process.resourceUsage().maxRSS, peaks: peaks() };
}

/** (c): the bulk restore as the CLI runs it, this process working the chunks. */
async function bulkRestore(url: string, prefix: string): Promise<ChildResult> {
  const pool = new pg.Pool({ connectionString: url, max: 6 });
  const redis = new Redis(REDIS_URL);
  await migrate(pool, SCHEMA);
  const engine = await startJobEngine({ connectionString: url, botSchema: SCHEMA });
  const probe =
    process.env.BENCH_BULK_PROBE === '1' ? new Map<string, { ms: number; calls: number }>() : null;
  const deps: BulkDeps = {
    store: probe
      ? probed(createBulkStore(pool, SCHEMA, 'conversations'), probe)
      : createBulkStore(pool, SCHEMA, 'conversations'),
    redis,
    keyPrefix: prefix,
    idPattern: compileIdPattern(DEFAULT_ID_PATTERN),
    ttlPolicy: { kind: 'keep' },
    // BENCH_BULK_WRITE=shadow: through shadow keys instead of the direct compare-and-set (docs/benchmarks.md).
    writeVia: process.env.BENCH_BULK_WRITE === 'shadow' ? 'shadow' : 'cas',
    audit: createAuditLog(pool, SCHEMA),
    verdicts: new VerdictCache(),
  };
  const peaks = samplePeaks();
  const started = performance.now();
  const { jobId, preview } = await startBulkRestore(
    deps,
    parseSelection({ since: '1h' }, new Date()),
    { overwrite: false, maxRate: null },
    { id: 'bench', reason: 'bench' },
    engine.queue,
  );
  const previewMs = performance.now() - started;
  await engine.workBulkChunks(deps, 'bench', 2);
  // As the CLI runs it: its progress (jobStatus: the counts over every item) every POLL_MS. The end
  // is seen within 50 ms by the job's own row, a lookup by key that adds no load worth counting.
  const ended = (state: string | undefined) => ['succeeded', 'failed', 'cancelled'].includes(state ?? '');
  let lastProgress = performance.now();
  while (!ended((await deps.store.getJob(jobId))?.state)) {
    await new Promise((r) => setTimeout(r, 50));
    if (performance.now() - lastProgress >= POLL_MS) {
      lastProgress = performance.now();
      await jobStatus(deps, jobId);
    }
  }
  const ms = performance.now() - started;
  const status = await jobStatus(deps, jobId);
  await engine.stop();
  await pool.end();
  redis.disconnect();
  return {
    ms,
    bytes: preview.bytes,
    maxRssKb: process.resourceUsage().maxRSS,
    previewMs,
    peaks: peaks(),
    note: `preview+freeze ${(previewMs / 1000).toFixed(1)} s; ${status.state}, restored ${status.counts.restored}${probe ? `; store ms (summed over workers): ${[...probe].map(([k, v]) => `${k} ${v.ms.toFixed(0)}/${v.calls}`).join(', ')}` : ''}`,
  };
}

/**
 * BENCH_BULK_PROBE=1: the time each store call takes, summed over the run (both workers, so more
 * than the wall time), to see where a job's time goes. Costs a timer per call, nothing else.
 */
function probed<T extends object>(store: T, into: Map<string, { ms: number; calls: number }>): T {
  return new Proxy(store, {
    get(target, name, receiver) {
      const value = Reflect.get(target, name, receiver);
      if (typeof value !== 'function' || typeof name !== 'string') return value;
      return async (...args: unknown[]) => {
        const began = performance.now();
        try {
          return await value.apply(target, args);
        } finally {
          const t = into.get(name) ?? { ms: 0, calls: 0 };
          t.ms += performance.now() - began;
          t.calls += 1;
          into.set(name, t);
        }
      };
    },
  });
}

/** The job phase of a (c) run: its time after the list was frozen; RSS is the run's (above). */
function jobAlone(name: string, n: number, r: ChildResult): Figure {
  const { peaks: _peaks, ...f } = figure(name, n, { ...r, ms: r.ms - (r.previewMs ?? 0) });
  return { ...f, peakRssMb: null, note: 'pg-boss chunks, from the frozen list to the end' };
}

function figure(name: string, n: number, r: ChildResult): Figure {
  const seconds = r.ms / 1000;
  return {
    name,
    n,
    seconds,
    convPerS: n / seconds,
    mbPerS: mb(r.bytes) / seconds,
    peakRssMb: r.maxRssKb / 1024,
    note: `${r.note ?? ''}${showPeaks(r.peaks)}`.replace(/^; /, ''),
    ...(r.peaks ? { peaks: r.peaks } : {}),
  };
}

export async function benchBulk(
  write: (line: string) => void,
  n = Number(process.env.BENCH_BULK_N ?? 10_000),
): Promise<Figure[]> {
  const name = `zr_bench_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  const dbUrl = url.toString();
  const prefix = `zrbench:${randomBytes(4).toString('hex')}:conversation:`;
  const redis = new Redis(REDIS_URL);
  const figures: Figure[] = [];
  // The machine may be shared: the load beside the figures says how far to trust them.
  const loadBefore = loadavg();
  try {
    process.stderr.write(`  bulk: seeding ${n} conversations of about 8 KB\n`);
    await seed(dbUrl, n);
    const sample = Math.min(RUNBOOK_SAMPLE, n);
    figures.push(runbook(dbUrl, prefix, sample));
    await clearPrefix(redis, prefix);
    figures.push(figure('(b) raw: cursor read + pipelined SET', n, await child('raw', dbUrl, prefix)));
    const readAlone = figure('(b) of it, the read alone', n, await child('read', dbUrl, prefix));
    await clearPrefix(redis, prefix);
    const empty = await child('bulk', dbUrl, prefix);
    figures.push(figure('(c) bulk restore into an empty Redis', n, empty));
    // What an engineer waits for after approving: in Slack the preview ran when the request was
    // made; the same run's job phase, not a separate measurement.
    figures.push(jobAlone('(c) of it, the job after approval', n, empty));
    await fillFull(redis, prefix, n);
    const full = await child('bulk', dbUrl, prefix);
    const fullName =
      process.env.BENCH_BULK_FULL === 'same'
        ? '(c) into a full Redis, same content'
        : '(c) bulk restore into a full Redis';
    figures.push(figure(fullName, n, full));
    figures.push(jobAlone('(c) of it, the job after approval', n, full));
    figures.push(readAlone);
  } finally {
    await clearPrefix(redis, prefix).catch(() => undefined);
    redis.disconnect();
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
  }

  const loadAfter = loadavg();
  const [a, b, cEmpty, jobEmpty, cFull, jobFull, read] = figures;
  write(
    `\n${'bulk: Postgres → Redis'.padEnd(40)} ${'n'.padStart(7)} ${'conv/s'.padStart(9)} ${'MB/s'.padStart(7)} ${'peak RSS'.padStart(9)}  note\n`,
  );
  for (const f of figures) {
    write(
      `${f.name.padEnd(40)} ${String(f.n).padStart(7)} ${f.convPerS.toFixed(0).padStart(9)} ${f.mbPerS.toFixed(1).padStart(7)} ${(f.peakRssMb === null ? '-' : `${f.peakRssMb.toFixed(0)} MB`).padStart(9)}  ${f.note}\n`,
    );
  }
  const ratio = (x: Figure | undefined, y: Figure | undefined, digits: number) =>
    x && y ? `${(x.convPerS / y.convPerS).toFixed(digits)}×` : '-';
  write(
    `(c) empty vs (b): ${ratio(cEmpty, b, 2)} end to end, ${ratio(jobEmpty, b, 2)} the job alone;   (c) full vs (b): ${ratio(cFull, b, 2)}, ${ratio(jobFull, b, 2)} the job alone\n`,
  );
  // The preview reads the whole selection before anything is written: even with its analysis
  // free, end to end is at best one read followed by the job.
  if (read && jobEmpty && b) {
    write(
      `the read alone ${read.seconds.toFixed(2)} s: end to end, with the preview's analysis free, at best ${(b.seconds / (read.seconds + jobEmpty.seconds)).toFixed(2)}× (b) (one read, then the job)\n`,
    );
  }
  // (b) is the ceiling of any copy: "(c) ≥ 300× (a)" is out of reach wherever (b) is under it.
  write(
    `vs (a), the runbook: (c) empty ${ratio(cEmpty, a, 0)} end to end, ${ratio(jobEmpty, a, 0)} the job alone; (b) ${ratio(b, a, 0)}\n`,
  );
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(' ');
  write(
    `load average (1/5/15 min) before ${load(loadBefore)}, after ${load(loadAfter)}; ${availableParallelism()} cores; Redis ${REDIS_URL}\n`,
  );
  const dir = join(import.meta.dirname, 'results');
  mkdirSync(dir, { recursive: true });
  const file = join(dir, `bulk-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ node: process.version, n, cores: availableParallelism(), loadBefore, loadAfter, childNodeArgs: childNodeArgs(), figures }, null, 2)}\n`,
  );
  write(`bulk figures written to ${file}\n`);
  return figures;
}

const invoked = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invoked) {
  const [, , first, mode, url, prefix] = process.argv;
  if (first === '--help' || first === '-h') {
    process.stdout.write(
      [
        'node --import tsx bench/bulk.ts [N]   (default 10000; or BENCH_BULK_N)',
        '  TEST_DATABASE_URL   admin URL of the Postgres to use (a database is created and dropped)',
        '  TEST_REDIS_URL      the Redis to write into (default redis://127.0.0.1:6379)',
        '  BENCH_NODE_ARGS     node flags for the measured children, e.g. "--max-old-space-size=128"',
        '  BENCH_BULK_FULL     same: the full Redis holds the same content in other bytes (default: older copies)',
        "  BENCH_BULK_PROBE    1: each store call's time, summed, in (c)'s notes",
        'Prints a table and writes JSON under bench/results/.',
        '',
      ].join('\n'),
    );
  } else if (first === 'child' && url && prefix) {
    const result =
      mode === 'bulk' ? await bulkRestore(url, prefix) : await rawCopy(url, prefix, mode === 'raw');
    process.stdout.write(`${JSON.stringify(result)}\n`);
  } else {
    await benchBulk((line) => process.stdout.write(line), first ? Number(first) : undefined);
  }
}
