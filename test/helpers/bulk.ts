import { type ChildProcess, spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import type pg from 'pg';
import { expect } from 'vitest';
import { BIN } from './cli.js';
import { makeConversation } from './conversations.js';
import { eventually } from './eventually.js';

export type SeedGroup = 'absent' | 'identical' | 'older' | 'newer' | 'invalid';
const ORDER: readonly SeedGroup[] = ['absent', 'identical', 'older', 'newer', 'invalid'];

export interface MixedSelection {
  ids: Record<SeedGroup, string[]>;
  /** What Redis held for each id before the restore (absent ids have none). */
  before: Map<string, string>;
}

/**
 * `n` conversations in Zeus's table, one fifth of each group, and Redis set up to match: absent
 * (no key), identical (Zeus's own bytes of the same content), older (2 steps against 4), newer
 * (6 steps against 4), invalid at the source (a status Zeus does not know; Redis has no key).
 */
export async function seedMixed(
  pool: pg.Pool,
  redis: Pick<Redis, 'set'>,
  keyOf: (id: string) => string,
  n: number,
  prefix = 'c-bulk',
): Promise<MixedSelection> {
  const ids = Object.fromEntries(ORDER.map((g) => [g, [] as string[]])) as Record<SeedGroup, string[]>;
  const before = new Map<string, string>();
  const rowIds: string[] = [];
  const rowStates: string[] = [];
  for (let i = 0; i < n; i++) {
    const group = ORDER[i % ORDER.length] as SeedGroup;
    const id = `${prefix}-${String(i).padStart(5, '0')}`;
    ids[group].push(id);
    rowIds.push(id);
    rowStates.push(
      group === 'invalid' ? makeConversation(id, 4, { status: 'exploded' }) : makeConversation(id, 4),
    );
    if (group === 'identical') before.set(id, makeConversation(id, 4));
    if (group === 'older') before.set(id, makeConversation(id, 2));
    if (group === 'newer') before.set(id, makeConversation(id, 6));
  }
  await pool.query(
    `INSERT INTO conversations (id, state, updated_at)
     SELECT id, state::jsonb, now() - interval '10 minutes' FROM unnest($1::text[], $2::text[]) AS t(id, state)`,
    [rowIds, rowStates],
  );
  for (const [id, value] of before) await redis.set(keyOf(id), value);
  return { ids, before };
}

/** What a clean run over `seedMixed(…, n)` ends with: the absent and older fifths written, the rest kept. */
export function mixedCounts(n: number) {
  const fifth = n / 5;
  return { restored: 2 * fifth, identical: fifth, newer: fifth, changed: 0, invalid: fifth, failed: 0 };
}

/**
 * Every absent and older conversation was written exactly once, and nothing else was: `writes`
 * counts Redis writes per key (MONITOR), so a redo after a crash or a second worker would show.
 */
export function expectEachRestoredOnce(
  writes: { counts: ReadonlyMap<string, number> },
  mixed: MixedSelection,
  keyOf: (id: string) => string,
): void {
  const restored = [...mixed.ids.absent, ...mixed.ids.older];
  for (const id of restored) expect(writes.counts.get(keyOf(id)), id).toBe(1);
  expect([...writes.counts.values()].reduce((a, b) => a + b, 0)).toBe(restored.length);
}

/** Counts every SET Redis runs on keys under `prefix` (scripts' own calls included), per key. */
export async function countWrites(
  url: string,
  prefix: string,
): Promise<{ counts: Map<string, number>; stop(): void }> {
  const counts = new Map<string, number>();
  const client = new Redis(url);
  const monitor = await client.monitor();
  monitor.on('monitor', (_time: string, args: string[]) => {
    const [cmd, key] = args;
    if (cmd?.toLowerCase() === 'set' && key?.startsWith(prefix)) counts.set(key, (counts.get(key) ?? 0) + 1);
  });
  return {
    counts,
    stop() {
      monitor.disconnect();
      client.disconnect();
    },
  };
}

/**
 * `zeus-recover bulk-restore --since 1h --match <match> --max-rate <rate> --yes` as its own
 * process (to be killed), once it has recorded `atLeast` outcomes: its job id and the process.
 */
export async function cliBulkJobUnderWay(
  env: Record<string, string>,
  pool: pg.Pool,
  schema: string,
  opts: { match: string; maxRate: number; atLeast?: number },
): Promise<{ child: ChildProcess; jobId: string }> {
  const args = ['bulk-restore', '--from', 'postgres', '--since', '1h', '--match', opts.match];
  args.push('--max-rate', String(opts.maxRate), '--yes', '--reason', 'crash test');
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env },
    stdio: 'ignore',
  });
  const jobId = await eventually(
    async () => {
      const res = await pool.query<{ job_id: string; n: number }>(
        `SELECT i.job_id, count(*) FILTER (WHERE i.outcome IS NOT NULL)::int AS n
           FROM ${schema}.bulk_job_items i JOIN ${schema}.bulk_jobs j ON j.id = i.job_id
          WHERE j.selection LIKE $1 GROUP BY i.job_id`,
        [`%${opts.match}%`],
      );
      return res.rows.find((r) => r.n >= (opts.atLeast ?? 100))?.job_id;
    },
    'the CLI to have written a few',
    60_000,
    100,
  );
  return { child, jobId };
}
