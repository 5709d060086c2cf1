import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createLockManager } from '../../src/store/locks.js';
import type { LockHeld, LockLease } from '../../src/store/types.js';
import { useMigratedStore } from '../helpers/store.js';

const SCHEMA = 'zr_locks';
const fixture = useMigratedStore('zr_locks', SCHEMA, createLockManager);

function mustLease(r: LockLease | LockHeld): LockLease {
  if (!r.acquired) throw new Error(`expected to acquire, held by ${r.holder}`);
  return r;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('lock manager', () => {
  it('lets exactly one of two hosts win a simultaneous acquire; the other sees the holder', async () => {
    const hostA = new pg.Pool({ connectionString: fixture.db.url, max: 2 });
    const hostB = new pg.Pool({ connectionString: fixture.db.url, max: 2 });
    try {
      for (let round = 0; round < 10; round++) {
        const id = `c-race-${round}`;
        const before = new Date();
        const [a, b] = await Promise.all([
          createLockManager(hostA, SCHEMA).acquire(id, 'host-a', 60_000),
          createLockManager(hostB, SCHEMA).acquire(id, 'host-b', 60_000),
        ]);
        const winners = [a, b].filter((r) => r.acquired);
        expect(winners).toHaveLength(1);
        const loser = (a.acquired ? b : a) as LockHeld;
        expect(loser.holder).toBe(a.acquired ? 'host-a' : 'host-b');
        expect(Math.abs(loser.since.getTime() - before.getTime())).toBeLessThan(60_000);
      }
    } finally {
      await Promise.all([hostA.end(), hostB.end()]);
    }
  });

  it('refuses a held lock, and frees it on release', async () => {
    const lease = mustLease(await fixture.store.acquire('c-1', 'slack:U1', 60_000));
    expect(lease.token).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(await fixture.store.acquire('c-1', 'slack:U2', 60_000)).toMatchObject({
      acquired: false,
      holder: 'slack:U1',
    });
    // Another conversation is independent.
    mustLease(await fixture.store.acquire('c-2', 'slack:U2', 60_000));
    await lease.release();
    const again = mustLease(await fixture.store.acquire('c-1', 'slack:U2', 60_000));
    expect(again.token).not.toBe(lease.token);
    await lease.release(); // releasing twice is harmless and must not free the new holder's lock
    expect(await fixture.store.acquire('c-1', 'slack:U3', 60_000)).toMatchObject({
      acquired: false,
      holder: 'slack:U2',
    });
  });

  it('lets an expired lease be taken over; the old holder cannot then release the new lock', async () => {
    const old = mustLease(await fixture.store.acquire('c-exp', 'host-old', 50));
    await sleep(120);
    const taken = mustLease(await fixture.store.acquire('c-exp', 'host-new', 60_000));
    await old.release();
    expect(await fixture.store.acquire('c-exp', 'host-third', 60_000)).toMatchObject({
      acquired: false,
      holder: 'host-new',
    });
    await taken.release();
    mustLease(await fixture.store.acquire('c-exp', 'host-third', 60_000));
  });

  it('judges expiry by the database clock', async () => {
    mustLease(await fixture.store.acquire('c-clock', 'host-a', 60_000));
    const row = await fixture.db.pool.query<{ lease_ms: number }>(
      `SELECT extract(epoch FROM expires_at - acquired_at) * 1000 AS lease_ms FROM ${SCHEMA}.locks WHERE conversation_id = 'c-clock'`,
    );
    expect(Number(row.rows[0]?.lease_ms)).toBe(60_000);
    // Pretend the lease ran out on the server: a host whose own clock lags still sees it expired.
    await fixture.db.pool.query(
      `UPDATE ${SCHEMA}.locks SET expires_at = now() - interval '1 second' WHERE conversation_id = 'c-clock'`,
    );
    mustLease(await fixture.store.acquire('c-clock', 'host-b', 60_000));
  });

  it('refuses a lease that is not a positive whole number of ms', async () => {
    for (const ms of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      await expect(fixture.store.acquire('c-bad', 'h', ms)).rejects.toMatchObject({ code: 'invalid_input' });
    }
  });

  it('gives many concurrent contenders exactly one winner', async () => {
    const results = await Promise.all(
      Array.from({ length: 12 }, (_, i) => fixture.store.acquire('c-crowd', `h${i}`, 60_000)),
    );
    const winners = results.filter((r) => r.acquired);
    expect(winners).toHaveLength(1);
    const holders = new Set(results.filter((r): r is LockHeld => !r.acquired).map((r) => r.holder));
    expect(holders.size).toBe(1);
  });
});

describe('lock visibility and break', () => {
  it('inspect shows the holder and its lease, and calls a lease that ran out gone', async () => {
    const locks = fixture.store;
    expect(await locks.inspect('c-vis')).toBeNull();
    const lease = mustLease(await locks.acquire('c-vis', 'slack:U1 (request rq_x)', 60_000));
    const held = await locks.inspect('c-vis');
    expect(held).toMatchObject({ holder: 'slack:U1 (request rq_x)', token: lease.token, gone: false });
    expect(held && held.expiresAt.getTime() - held.since.getTime()).toBe(60_000);
    await fixture.db.pool.query(
      `UPDATE ${SCHEMA}.locks SET expires_at = now() - interval '1 second' WHERE conversation_id = 'c-vis'`,
    );
    expect((await locks.inspect('c-vis'))?.gone).toBe(true);
  });

  it('breaks a lease only while the same lease holds the row', async () => {
    const locks = fixture.store;
    const first = mustLease(await locks.acquire('c-break', 'cli:a', 60_000));
    await first.release();
    const second = mustLease(await locks.acquire('c-break', 'cli:b', 60_000));
    // A break approved for the first holder finds someone else: nothing is removed.
    expect(await locks.breakLease('c-break', first.token)).toBeNull();
    expect((await locks.inspect('c-break'))?.holder).toBe('cli:b');
    expect((await locks.breakLease('c-break', second.token))?.holder).toBe('cli:b');
    expect(await locks.inspect('c-break')).toBeNull();
    // The broken holder's renewal fails, so it cannot write (lease.ts confirms before writing).
    expect(await second.renew(60_000)).toBe(false);
  });
});
