import type { Redis } from 'ioredis';
import type pg from 'pg';
import { makeConversation } from './conversations.js';

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
