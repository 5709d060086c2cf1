import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, RecoveryError } from '../../src/errors.js';
import { createPgPool, createPostgresTier } from '../../src/recovery/tiers/postgres.js';
import type { TierReader } from '../../src/recovery/types.js';
import { useBlackHole } from '../helpers/black-hole.js';
import { createTestDatabase, createZeusTable, putZeusRow, type TestDatabase } from '../helpers/pg.js';

const ORIGINAL =
  '{ "id":"c-1",  "zeta":1, "big":12345678901234567890, "alpha":"ünïcødé ✓ 日本",\n' +
  '  "x-unknown":{"nested":[1, 2.50]}, "steps":[] }\n';

const NO_HANG_MS = 10_000;

let db: TestDatabase;
let pool: pg.Pool;
let tier: TierReader;

async function stateText(id: string, table = 'conversations'): Promise<string> {
  const { rows } = await db.pool.query<{ state: string }>(
    `SELECT state::text AS state FROM ${table} WHERE id = $1`,
    [id],
  );
  if (!rows[0]) throw new Error(`no row ${id}`);
  return rows[0].state;
}

beforeAll(async () => {
  db = await createTestDatabase('zr_tierpg');
  await createZeusTable(db.pool);
  pool = createPgPool(db.url, 2000);
  tier = createPostgresTier({ pool, table: 'conversations', timeoutMs: 2000 });
});

afterAll(async () => {
  await pool.end();
  await db.drop();
});

describe('postgres tier: read', () => {
  it('returns exactly state::text, which jsonb has normalised', async () => {
    await putZeusRow(db.pool, 'c-1', ORIGINAL);
    const read = await tier.read('c-1');
    expect(read.status).toBe('found');
    if (read.status !== 'found') return;
    const expected = await stateText('c-1');
    expect(read.bytes.equals(Buffer.from(expected, 'utf8'))).toBe(true);
    // jsonb reorders keys and drops whitespace, but keeps unknown fields, text and big numbers.
    expect(read.bytes.equals(Buffer.from(ORIGINAL, 'utf8'))).toBe(false);
    const text = read.bytes.toString('utf8');
    expect(text).toContain('12345678901234567890');
    expect(text).toContain('"alpha": "ünïcødé ✓ 日本"');
    expect(text).toContain('"x-unknown"');
    expect(read.updatedAt).toBeInstanceOf(Date);
  });

  it('says missing for an absent row', async () => {
    expect(await tier.read('c-nobody')).toEqual({ status: 'missing' });
  });

  it('names the row it reads', () => {
    expect(tier.locate('c-1')).toBe('postgres conversations id=c-1');
  });

  it('reads a schema-qualified table', async () => {
    await db.pool.query('CREATE SCHEMA zeus');
    await createZeusTable(db.pool, 'zeus.conversations');
    await putZeusRow(db.pool, 'c-2', '{"id":"c-2"}', 'zeus.conversations');
    const qualified = createPostgresTier({ pool, table: 'zeus.conversations', timeoutMs: 2000 });
    const read = await qualified.read('c-2');
    expect(read.status === 'found' && read.bytes.toString('utf8')).toBe(
      await stateText('c-2', 'zeus.conversations'),
    );
  });

  it('refuses a table name that is not a plain identifier', () => {
    for (const table of ['conversations; drop table x', 'Conversations', 'a.b.c', '"x"']) {
      expect(() => createPostgresTier({ pool, table, timeoutMs: 2000 })).toThrow(RecoveryError);
    }
  });

  it('reports a missing table as unreachable with the reason', async () => {
    const wrong = createPostgresTier({ pool, table: 'no_such_table', timeoutMs: 2000 });
    expect(await wrong.read('c-1')).toEqual({
      status: 'unreachable',
      reason: 'table no_such_table does not exist',
    });
  });

  it('answers ping', async () => {
    await expect(tier.ping()).resolves.toBeUndefined();
  });
});

describe('postgres tier: slow or unreachable server', () => {
  const blackHole = useBlackHole();

  it('a query stuck behind a lock times out as unreachable, and the pool recovers', async () => {
    await putZeusRow(db.pool, 'c-locked', '{"id":"c-locked"}');
    const locker = await db.pool.connect();
    const slowPool = createPgPool(db.url, 300);
    const slow = createPostgresTier({ pool: slowPool, table: 'conversations', timeoutMs: 300 });
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE conversations IN ACCESS EXCLUSIVE MODE');
      const started = Date.now();
      const read = await slow.read('c-locked');
      expect(Date.now() - started).toBeLessThan(NO_HANG_MS);
      expect(read).toEqual({ status: 'unreachable', reason: 'timed out after 300 ms' });
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }
    expect((await slow.read('c-locked')).status).toBe('found');
    await slowPool.end();
  });

  it('a refused connection reads as unreachable with the address; ping throws TierUnreachable', async () => {
    const downPool = createPgPool('postgres://postgres@127.0.0.1:1/zeus', 300);
    const down = createPostgresTier({ pool: downPool, table: 'conversations', timeoutMs: 300 });
    try {
      expect(await down.read('c-1')).toEqual({
        status: 'unreachable',
        reason: expect.stringMatching(/refused at 127\.0\.0\.1:1\b/),
      });
      const err = await down.ping().catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RecoveryError);
      expect((err as RecoveryError).code).toBe(ErrorCode.TierUnreachable);
    } finally {
      await downPool.end();
    }
  });

  it('a server that never answers reads as unreachable even through a pool without timeouts', async () => {
    const { port } = blackHole;
    const plainPool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${port}/zeus` });
    plainPool.on('error', () => {});
    const hung = createPostgresTier({ pool: plainPool, table: 'conversations', timeoutMs: 300 });
    const started = Date.now();
    const read = await hung.read('c-1');
    expect(Date.now() - started).toBeLessThan(NO_HANG_MS);
    expect(read).toEqual({ status: 'unreachable', reason: 'timed out after 300 ms' });
    blackHole.drop();
    await plainPool.end();
  });
});
