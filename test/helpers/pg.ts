import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { ADMIN_DATABASE_URL } from './env.js';

export interface TestDatabase {
  url: string;
  name: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

/** A fresh database per test file, so files can run in parallel against one server. */
export async function createTestDatabase(label = 'zr'): Promise<TestDatabase> {
  const name = `${label}_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: url.toString(), max: 5 });
  return {
    url: url.toString(),
    name,
    pool,
    async drop() {
      await pool.end();
      const a = new pg.Client({ connectionString: ADMIN_DATABASE_URL });
      await a.connect();
      try {
        // pool.end() resolves once its clients are told to end, not once their sockets close; a
        // forced drop before then kills them mid-close, and that error has no listener left.
        for (let i = 0; i < 40; i++) {
          const { rows } = await a.query<{ n: number }>(
            'SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1',
            [name],
          );
          if ((rows[0]?.n ?? 0) === 0) break;
          await new Promise((r) => setTimeout(r, 50));
        }
        await a.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await a.end();
      }
    },
  };
}

/** Zeus's own history table, as Zeus creates it (design.md). */
export async function createZeusTable(pool: pg.Pool, table = 'conversations'): Promise<void> {
  await pool.query(
    `CREATE TABLE IF NOT EXISTS ${table} (id text primary key, state jsonb not null, updated_at timestamptz not null)`,
  );
}

export async function putZeusRow(
  pool: pg.Pool,
  id: string,
  json: string | Buffer,
  table = 'conversations',
): Promise<void> {
  await pool.query(
    `INSERT INTO ${table} (id, state, updated_at) VALUES ($1, $2::jsonb, now())
     ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at`,
    [id, json.toString()],
  );
}
