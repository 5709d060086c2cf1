import type pg from 'pg';
import { MIGRATIONS } from './migrations/index.js';
import { quoteIdent, withTransaction } from './sql.js';

/** First key of the two-int advisory lock: "ZR" + 1, so other apps' locks rarely collide. */
const MIGRATION_LOCK_CLASS = 0x5a5201;

/**
 * Applies every migration not yet recorded (src/store/migrations/), in order, in one
 * transaction. Replicas starting together queue on the advisory lock; the second then finds
 * nothing left to do.
 */
export async function migrate(pool: pg.Pool, schema: string): Promise<{ applied: string[] }> {
  const s = quoteIdent(schema);
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, schema]);
    // Postgres checks CREATE-on-database before IF NOT EXISTS, so a bot whose DBA created the
    // schema for it (and granted nothing more) would fail on a bare CREATE SCHEMA IF NOT EXISTS.
    const found = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (found.rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
         id text PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const done = await client.query<{ id: string }>(`SELECT id FROM ${s}.schema_migrations`);
    const already = new Set(done.rows.map((r) => r.id));
    const applied: string[] = [];
    for (const m of MIGRATIONS) {
      if (already.has(m.id)) continue;
      await client.query(m.sql(s));
      await client.query(`INSERT INTO ${s}.schema_migrations (id) VALUES ($1)`, [m.id]);
      applied.push(m.id);
    }
    return { applied };
  });
}
