import type pg from 'pg';
import { expect } from 'vitest';
import { createPgPool } from '../../src/recovery/tiers/postgres.js';
import { holding, startFaultProxyFor, throughProxy } from './fault-proxy.js';

/**
 * Runs `fn` with a pool to `url` through a fault proxy armed to cut the first audit entry's
 * INSERT, after the statements before it in that transaction went through: the cut that would
 * split a state change from the entry telling it. The pool is the bot's own, which keeps a cut
 * connection's error from ending the process. Checks the cut happened.
 */
export async function withAuditInsertCut(url: string, fn: (pool: pg.Pool) => Promise<void>): Promise<void> {
  const proxy = await startFaultProxyFor(url, 5432);
  const pool = createPgPool(throughProxy(url, proxy), 5000);
  try {
    const cut = proxy.arm({ match: holding('insert into', 'audit_log'), fault: 'cut-before' });
    await fn(pool);
    expect(cut.hasFired).toBe(true);
  } finally {
    await pool.end();
    await proxy.stop();
  }
}
