import pg from 'pg';
import { ErrorCode, RecoveryError } from '../../errors.js';
import type { TierRead, TierReader } from '../types.js';
import { describeNetworkError } from './net-errors.js';

const TABLE_NAME = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;

/**
 * The pool is shared with the bot's own store, whose migrations wait on an advisory lock, so no
 * pool-wide statement timeout is set here: each tier query carries its own. Connecting fails
 * fast, and a broken idle connection is dropped instead of crashing the process.
 */
export function createPgPool(url: string, timeoutMs: number): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    max: 10,
    application_name: 'zeus-recover',
  });
  // Without a listener an idle client's error (server restart, failover) kills the process; the
  // next query reports the problem to the user instead. Whoever owns the pool may add its own
  // 'error' listener to log and count them.
  const reported = new WeakSet<object>();
  pool.on('error', (err) => reported.add(err));
  // pg-pool listens on a client only while it is idle: a checked-out client whose connection is
  // reset (pg_terminate_backend, failover) emits 'error' with nobody listening, and that ends the
  // process. Its query fails too and says why; the error itself goes to the pool's listeners,
  // once (an idle client's error already reached them through pg-pool by the next tick).
  pool.on('connect', (client) => {
    client.on('error', (err) => {
      process.nextTick(() => {
        if (!reported.has(err)) pool.emit('error', err, client);
      });
    });
  });
  return pool;
}

/** Zeus's history tier: read-only, never writes Zeus's tables. */
export function createPostgresTier(opts: { pool: pg.Pool; table: string; timeoutMs: number }): TierReader {
  const { pool, table, timeoutMs } = opts;
  if (!TABLE_NAME.test(table)) {
    throw new RecoveryError(
      ErrorCode.Config,
      `"${table.slice(0, 80)}" is not a valid table name.`,
      'Set ZEUS_CONVERSATIONS_TABLE to a name like conversations or zeus.conversations.',
    );
  }
  const quoted = table
    .split('.')
    .map((part) => `"${part.replace(/"/g, '""')}"`)
    .join('.');
  // jsonb has no original bytes: state::text is the canonical text Postgres gives back.
  const sql = `SELECT state::text AS state, updated_at FROM ${quoted} WHERE id = $1`;

  async function query<R extends pg.QueryResultRow>(text: string, values: unknown[]): Promise<R[]> {
    return race(
      (async () => {
        const client = await pool.connect();
        let broken: Error | undefined;
        // pg honours a per-query `query_timeout` (its types only list it on the client config).
        const config: pg.QueryConfig & { query_timeout: number } = { text, values, query_timeout: timeoutMs };
        try {
          return (await client.query<R>(config)).rows;
        } catch (err) {
          broken = err as Error;
          throw err;
        } finally {
          // A timed-out query may still be running on that connection: discard it, don't reuse it.
          client.release(broken && !isServerError(broken) ? broken : undefined);
        }
      })(),
      timeoutMs,
    );
  }

  return {
    name: 'postgres',
    locate: (id) => `postgres ${table} id=${id}`,

    async read(id): Promise<TierRead> {
      try {
        const [row] = await query<{ state: string; updated_at: Date }>(sql, [id]);
        if (!row) return { status: 'missing' };
        return { status: 'found', bytes: Buffer.from(row.state, 'utf8'), updatedAt: row.updated_at };
      } catch (err) {
        return { status: 'unreachable', reason: describe(err, table, timeoutMs) };
      }
    },

    async ping() {
      try {
        await query('SELECT 1', []);
      } catch (err) {
        throw new RecoveryError(
          ErrorCode.TierUnreachable,
          `PostgreSQL is unreachable: ${describe(err, table, timeoutMs)}.`,
          'Check that PostgreSQL is up and reachable from the bot (DATABASE_URL), then retry.',
          { cause: err },
        );
      }
    },
  };
}

class Timeout extends Error {}

async function race<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  work.catch(() => {});
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Timeout()), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function isServerError(err: Error): boolean {
  return err instanceof pg.DatabaseError;
}

function describe(err: unknown, table: string, timeoutMs: number): string {
  if (err instanceof Timeout || (err instanceof Error && /timeout/i.test(err.message) && !('code' in err))) {
    return `timed out after ${timeoutMs} ms`;
  }
  const network = describeNetworkError(err);
  if (network) return network;
  const e = err as Partial<NodeJS.ErrnoException>;
  switch (e.code) {
    case '42P01':
      return `table ${table} does not exist`;
    case '42501':
      return `permission denied on ${table}`;
    case '28P01':
    case '28000':
      return `authentication failed: ${e.message}`;
    case '3D000':
      return `database does not exist: ${e.message}`;
    case '57014':
      return `query cancelled after ${timeoutMs} ms`;
  }
  const message = e.message ?? String(err);
  return err instanceof pg.DatabaseError ? `PostgreSQL error: ${message}` : message;
}
