import { execFile } from 'node:child_process';
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type MixedSelection, mixedCounts, seedMixed } from '../helpers/bulk.js';
import { BIN, cli } from '../helpers/cli.js';
import { type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
let mixed: MixedSelection;
const N = 2000;
const SCHEMA = 'zeus_recover';

beforeAll(async () => {
  stack = await startStack();
  mixed = await seedMixed(stack.db.pool, stack.redis.client, stack.redis.key, N);
}, 60_000);
afterAll(async () => stack.stop());

async function redisValue(id: string): Promise<string | null> {
  return stack.redis.client.get(stack.redis.key(id));
}

/** Keys under this file's prefix only: other test files share the server. */
async function ourKeys(): Promise<number> {
  let n = 0;
  let cursor = '0';
  do {
    const [next, keys] = await stack.redis.client.scan(
      cursor,
      'MATCH',
      `${stack.redis.prefix}*`,
      'COUNT',
      1000,
    );
    n += keys.length;
    cursor = next;
  } while (cursor !== '0');
  return n;
}

async function sourceText(id: string): Promise<string> {
  const res = await stack.db.pool.query<{ s: string }>(
    'SELECT state::text AS s FROM conversations WHERE id = $1',
    [id],
  );
  return res.rows[0]?.s ?? '';
}

describe('zeus-recover bulk-restore (CLI, real Postgres and Redis)', () => {
  it('--dry-run --json previews the mixed selection and writes nothing', async () => {
    const r = await cli(
      ['bulk-restore', '--from', 'postgres', '--since', '1h', '--dry-run', '--json'],
      stack.env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.total).toBe(N);
    expect(json.bytes).toBeGreaterThan(N * 300);
    expect(json.groups).toEqual({ absent: 400, identical: 400, older: 400, newer: 400, invalid: 400 });
    expect(json.samples.absent).toEqual(mixed.ids.absent.slice(0, 5));
    expect(json.samples.newer).toEqual(mixed.ids.newer.slice(0, 5));
    expect(json.invalidReasons).toEqual({ status_invalid: 400 });
    expect(json.memory.policies).toHaveLength(1);
    expect(json.refusal).toBeNull();
    expect(await redisValue(mixed.ids.absent[0] as string)).toBeNull();
    const jobs = await stack.db.pool.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.bulk_jobs`);
    expect(jobs.rows[0].n).toBe(0);
  });

  it('runs the job to its end on pg-boss: each group handled as stated, overwrites backed up, audited', async () => {
    const r = await cli(
      [
        'bulk-restore',
        '--from',
        'postgres',
        '--since',
        '1h',
        '--yes',
        '--reason',
        'redis failover',
        '--json',
      ],
      stack.env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.jobId).toMatch(/^bj_/);
    expect(json.state).toBe('succeeded');
    expect(json.counts).toEqual(mixedCounts(2000));

    for (const id of [...mixed.ids.absent, ...mixed.ids.older].slice(0, 50)) {
      expect(await redisValue(id)).toBe(await sourceText(id));
    }
    for (const id of mixed.ids.newer.slice(0, 20)) expect(await redisValue(id)).toBe(mixed.before.get(id));
    for (const id of mixed.ids.identical.slice(0, 20))
      expect(await redisValue(id)).toBe(mixed.before.get(id));
    for (const id of mixed.ids.invalid.slice(0, 20)) expect(await redisValue(id)).toBeNull();

    // The backups cover exactly the overwrites: the older copies, byte for byte.
    const backups = await stack.db.pool.query<{ conversation_id: string; value: Buffer; request_id: string }>(
      `SELECT conversation_id, value, request_id FROM ${SCHEMA}.backups WHERE taken_for = 'bulk-restore'`,
    );
    expect(backups.rows.map((b) => b.conversation_id).sort()).toEqual([...mixed.ids.older].sort());
    for (const b of backups.rows.slice(0, 20)) {
      expect(b.value.toString('utf8')).toBe(mixed.before.get(b.conversation_id));
      expect(b.request_id).toBe(json.jobId);
    }

    const audit = await stack.db.pool.query<{ action: string; data: string }>(
      `SELECT action, data FROM ${SCHEMA}.audit_log WHERE action LIKE 'bulk.%' ORDER BY seq`,
    );
    const actions = audit.rows.map((a) => a.action);
    expect(actions[0]).toBe('bulk.started');
    expect(actions.filter((a) => a === 'bulk.chunk')).toHaveLength(4);
    expect(actions.at(-1)).toBe('bulk.finished');
    expect(JSON.parse(audit.rows[0]?.data ?? '{}')).toMatchObject({
      jobId: json.jobId,
      total: N,
      reason: 'redis failover',
    });
    // Entries stay small: per chunk, never per conversation.
    for (const a of audit.rows) expect(a.data.length).toBeLessThan(2000);

    const job = await cli(['job', json.jobId, '--json'], stack.env);
    expect(job.code).toBe(0);
    expect(JSON.parse(job.stdout)).toMatchObject({
      jobId: json.jobId,
      state: 'succeeded',
      done: N,
      total: N,
      counts: json.counts,
    });
    // Every conversation not restored for a reason to look at, as a file (more than 20 here).
    const outFile = join(await mkdtemp(join(tmpdir(), 'zr-bulk-')), 'not-restored.tsv');
    const listed = await cli(['job', json.jobId, '--out', outFile], stack.env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toContain(`Wrote 400 not restored to ${outFile}`);
    const lines = (await readFile(outFile, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(400);
    expect(lines[0]).toBe(`${mixed.ids.invalid[0]}\tinvalid\tstatus_invalid`);
    const jobs = await cli(['jobs', '--json'], stack.env);
    expect(JSON.parse(jobs.stdout).jobs.map((j: { jobId: string }) => j.jobId)).toContain(json.jobId);

    // Undo of one backup puts back what the bulk restore overwrote.
    const one = await stack.db.pool.query<{ id: string; conversation_id: string }>(
      `SELECT id, conversation_id FROM ${SCHEMA}.backups WHERE taken_for = 'bulk-restore' ORDER BY conversation_id LIMIT 1`,
    );
    const bk = one.rows[0];
    if (!bk) throw new Error('no backup');
    const undo = await cli(['undo', bk.id, '--yes', '--reason', 'put one back', '--json'], stack.env);
    expect(undo.code).toBe(0);
    expect(await redisValue(bk.conversation_id)).toBe(mixed.before.get(bk.conversation_id));
  }, 120_000);

  it('--overwrite writes the newer-in-Redis copies too, each backed up first', async () => {
    const r = await cli(
      [
        'bulk-restore',
        '--from',
        'postgres',
        '--since',
        '1h',
        '--overwrite',
        '--yes',
        '--reason',
        'take postgres',
        '--json',
      ],
      stack.env,
    );
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    // 400 newer, plus the one conversation put back by undo in the test before (older again).
    expect(json.counts).toEqual({
      restored: 401,
      identical: 1199,
      newer: 0,
      changed: 0,
      invalid: 400,
      failed: 0,
    });
    for (const id of mixed.ids.newer.slice(0, 20)) expect(await redisValue(id)).toBe(await sourceText(id));
    const backups = await stack.db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM ${SCHEMA}.backups WHERE request_id = $1`,
      [json.jobId],
    );
    expect(backups.rows[0]?.n).toBe(401);
  }, 120_000);

  it('prints plain progress lines on a non-TTY stderr and the report on stdout', async () => {
    const r = await cli(
      [
        'bulk-restore',
        '--from',
        'postgres',
        '--since',
        '1h',
        '--max-rate',
        '400',
        '--yes',
        '--reason',
        'again',
      ],
      stack.env,
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toContain('Job bj_');
    expect(r.stderr).toMatch(/bulk bj_\S+ running: \d+\/2000/);
    expect(r.stderr).not.toContain('\r');
    expect(r.stdout).toMatch(/Job bj_\S+: succeeded, 2000\/2000 done/);
  }, 120_000);

  it('draws a progress bar on a terminal, and nothing but the JSON with --json', async () => {
    const onTerminal = (args: string[]) =>
      new Promise<string>((resolve, reject) => {
        const command = [process.execPath, BIN, ...args]
          .map((a) => `'${a.replaceAll("'", "'\\''")}'`)
          .join(' ');
        execFile(
          'script',
          ['-qec', command, '/dev/null'],
          {
            env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...stack.env },
            encoding: 'utf8',
          },
          (err, stdout) => (err ? reject(err) : resolve(stdout)),
        );
      });
    const run = [
      'bulk-restore',
      '--from',
      'postgres',
      '--since',
      '1h',
      '--max-rate',
      '500',
      '--yes',
      '--reason',
      'tty',
    ];
    const bar = await onTerminal(run);
    expect(bar).toMatch(/\r\[[#-]{30}\] \d+\/2000 \(\d+%\) \d+ conv\/s ETA/);
    expect(bar).toMatch(/Job bj_\S+: succeeded, 2000\/2000 done/);
    const quiet = await onTerminal([...run, '--json']);
    expect(JSON.parse(quiet.replaceAll('\r\n', '\n'))).toMatchObject({ state: 'succeeded' });
  }, 120_000);

  it('refuses bad input with a clear error and writes nothing', async () => {
    const keysBefore = await ourKeys();
    const jobsBefore = (await stack.db.pool.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.bulk_jobs`))
      .rows[0].n;
    const base = ['bulk-restore', '--from', 'postgres', '--yes', '--reason', 'x'];

    const badSince = await cli([...base, '--since', 'yesterday-ish'], stack.env);
    expect(badSince.code).toBe(2);
    expect(badSince.stderr).toContain('--since "yesterday-ish" is neither a duration nor a timestamp');

    for (const hostile of ["c-1'; DROP TABLE conversations; --", 'c-%', 'c-[a]', 'a b', '../x', 'c\n1']) {
      const r = await cli([...base, '--since', '1h', '--match', hostile], stack.env);
      expect(r.code, hostile).toBe(2);
      expect(r.stderr).toContain('is not an id pattern');
    }

    const empty = await cli([...base, '--since', '1h', '--match', 'nobody-*'], stack.env);
    expect(empty.code).toBe(1);
    expect(empty.stderr).toContain('No conversation in');
    expect(empty.stderr).toContain('Nothing was written');

    const noYes = await cli(['bulk-restore', '--from', 'postgres', '--since', '1h'], stack.env);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toContain('--yes and --reason');

    expect((await stack.db.pool.query('SELECT count(*)::int AS n FROM conversations')).rows[0].n).toBe(N);
    expect((await stack.db.pool.query(`SELECT count(*)::int AS n FROM ${SCHEMA}.bulk_jobs`)).rows[0].n).toBe(
      jobsBefore,
    );
    expect(await ourKeys()).toBe(keysBefore);
  }, 60_000);

  it('a --match glob selects by id, with _ taken literally', async () => {
    const r = await cli(
      [
        'bulk-restore',
        '--from',
        'postgres',
        '--since',
        '1h',
        '--match',
        'c-bulk-0001?',
        '--dry-run',
        '--json',
      ],
      stack.env,
    );
    expect(r.code).toBe(0);
    expect(JSON.parse(r.stdout).total).toBe(10);
  });
});
