import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isBusy, runWithPriority, type ShedReason } from '../../src/capacity.js';
import { ErrorCode, RecoveryError } from '../../src/errors.js';
import { createPgPool, createPostgresTier } from '../../src/recovery/tiers/postgres.js';
import { createTestDatabase, createZeusTable, putZeusRow, type TestDatabase } from '../helpers/pg.js';

/** A pool of 3 with 1 in reserve: two ordinary connections, one queued waiter at most. */
let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase();
  await createZeusTable(db.pool);
  await putZeusRow(db.pool, 'c-1', '{"id":"c-1","steps":[]}');
});

afterAll(async () => {
  await db?.drop();
});

function gated(queueMax: number) {
  const pool = createPgPool(db.url, 3000, { max: 3, gate: { reserve: 1, waitMs: 200, queueMax } });
  const shed: ShedReason[] = [];
  pool.onShed((reason) => shed.push(reason));
  return { pool, shed, tier: createPostgresTier({ pool, table: 'conversations', timeoutMs: 3000 }) };
}

async function holdOrdinary(pool: pg.Pool, n: number): Promise<pg.PoolClient[]> {
  return Promise.all(Array.from({ length: n }, () => pool.connect()));
}

describe('the Postgres pool at its limit', () => {
  it('a tier read that cannot get a connection is "busy", never "unreachable"', async () => {
    const { pool, shed, tier } = gated(5);
    const held = await holdOrdinary(pool, 2);
    try {
      const err = await tier.read('c-1').catch((e: unknown) => e);
      expect(err).toBeInstanceOf(RecoveryError);
      expect((err as RecoveryError).code).toBe(ErrorCode.Busy);
      expect((err as RecoveryError).toUserText()).toMatch(/busy.*try again in a few seconds/is);
      expect(shed).toEqual(['wait_timeout']);
      // pool.query goes through the same gate.
      expect(isBusy(await pool.query('SELECT 1').catch((e: unknown) => e))).toBe(true);
    } finally {
      for (const c of held) c.release();
    }
    expect((await tier.read('c-1')).status).toBe('found');
    await pool.end();
  });

  it('past the wait queue a checkout is refused at once', async () => {
    const { pool, shed } = gated(0);
    const held = await holdOrdinary(pool, 2);
    try {
      expect(isBusy(await pool.connect().catch((e: unknown) => e))).toBe(true);
      expect(shed).toEqual(['queue_full']);
    } finally {
      for (const c of held) c.release();
    }
    await pool.end();
  });

  it('priority work uses the reserve while every ordinary connection is taken', async () => {
    const { pool, tier } = gated(5);
    const held = await holdOrdinary(pool, 2);
    try {
      const read = await runWithPriority(() => tier.read('c-1'));
      expect(read.status).toBe('found');
      const { rows } = await runWithPriority(() => pool.query<{ one: number }>('SELECT 1 AS one'));
      expect(rows[0]?.one).toBe(1);
    } finally {
      for (const c of held) c.release();
    }
    await pool.end();
  });

  it('pg-pool\'s own wait running out ("timeout exceeded when trying to connect") is busy too', async () => {
    const pool = createPgPool(db.url, 200, { max: 2, gate: { reserve: 1, waitMs: 200, queueMax: 5 } });
    const held = await runWithPriority(() => holdOrdinary(pool, 2));
    try {
      const err = await runWithPriority(() => pool.connect()).catch((e: unknown) => e);
      expect(isBusy(err)).toBe(true);
      expect((err as RecoveryError).message).not.toMatch(/timeout exceeded|unreachable/);
    } finally {
      for (const c of held) c.release();
    }
    await pool.end();
  });

  it('a waiter gets the connection handed back, and every permit comes back', async () => {
    const { pool, shed } = gated(5);
    const held = await holdOrdinary(pool, 2);
    const waiting = pool.connect();
    held[0]?.release();
    const got = await waiting;
    got.release();
    held[1]?.release();
    expect(shed).toEqual([]);
    expect(
      (pool as unknown as { ordinaryLoad: { held: number; waiting: number } }).ordinaryLoad,
    ).toMatchObject({
      held: 0,
      waiting: 0,
    });
    await pool.end();
  });
});
