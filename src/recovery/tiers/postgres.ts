import pg from 'pg';
import { GatedPool, isBusy, type PoolGate, runWithPriority } from '../../capacity.js';
import { ErrorCode, RecoveryError } from '../../errors.js';
import { describeNetworkError } from '../../net-errors.js';
import type { TierRead, TierReader } from '../types.js';
import { DEFAULT_MAX_READ_MS, ReadDeadline, SilenceTimeout, TooLargeToRead } from './read-budget.js';

const TABLE_NAME = /^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/;

/**
 * The pool is shared with the bot's own store, whose migrations wait on an advisory lock, so no
 * pool-wide statement timeout is set here: each tier query carries its own. Connecting fails
 * fast, and a broken idle connection is dropped instead of crashing the process.
 */
export function createPgPool(
  url: string,
  timeoutMs: number,
  sizing: { max: number; gate: PoolGate } = {
    max: 10,
    gate: { reserve: 2, waitMs: timeoutMs, queueMax: 50 },
  },
): GatedPool {
  const pool = new GatedPool(
    {
      connectionString: url,
      connectionTimeoutMillis: timeoutMs,
      idleTimeoutMillis: 30_000,
      keepAlive: true,
      max: sizing.max,
      application_name: 'zeus-recover',
    },
    sizing.gate,
  );
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

/** The server process a query runs in, known once a connection is checked out. */
interface Backend {
  pid?: number | undefined;
}

/** Zeus's history tier: read-only, never writes Zeus's tables. */
export function createPostgresTier(opts: {
  pool: pg.Pool;
  table: string;
  timeoutMs: number;
  /** The longest a read may take while the value's bytes keep arriving. */
  maxReadMs?: number;
}): TierReader {
  const { pool, table, timeoutMs, maxReadMs = DEFAULT_MAX_READ_MS } = opts;
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

  /**
   * One query on one checked-out connection, under `deadline`. The answer's bytes keep a
   * stretching deadline alive, so a big value gets the time it needs while a silent server
   * still fails after `timeoutMs`.
   */
  async function query<R extends pg.QueryResultRow>(
    text: string,
    values: unknown[],
    deadline = new ReadDeadline({ timeoutMs, maxMs: timeoutMs }),
    backend: Backend = {},
  ): Promise<R[]> {
    let abandon: (() => void) | undefined;
    const work = (async () => {
      const client = await pool.connect();
      backend.pid = (client as unknown as { processID?: number }).processID;
      const socket = (client as unknown as { connection?: { stream?: NodeJS.EventEmitter } }).connection
        ?.stream;
      const onData = (chunk: Buffer) => deadline.progress(chunk.length);
      socket?.on('data', onData);
      let released = false;
      const release = (err?: Error) => {
        if (released) return;
        released = true;
        socket?.off('data', onData);
        client.release(err);
      };
      if (deadline.expired) {
        // The checkout itself came too late; nobody waits for this query any more.
        release();
        throw new SilenceTimeout(timeoutMs);
      }
      // Past the deadline the query may still be running there: the connection is closed, not reused.
      abandon = () => release(new Error('abandoned after its deadline'));
      let broken: Error | undefined;
      // pg honours a per-query `query_timeout` (its types only list it on the client config).
      const config: pg.QueryConfig & { query_timeout: number } = {
        text,
        values,
        query_timeout: Math.max(deadline.timeoutMs, deadline.maxMs),
      };
      try {
        return (await client.query<R>(config)).rows;
      } catch (err) {
        broken = err as Error;
        throw err;
      } finally {
        release(broken && !isServerError(broken) ? broken : undefined);
      }
    })();
    try {
      return await deadline.race(work);
    } catch (err) {
      if (deadline.expired) abandon?.();
      throw err;
    }
  }

  /**
   * Whether the backend is still running our query (say, turning a big jsonb into text before
   * its first byte), asked on another connection: a server that answers this is not unreachable.
   */
  async function stillWorking(of: Backend): Promise<boolean> {
    if (of.pid === undefined) return false;
    // Waiting on another transaction's lock is not working: that read is stuck.
    const rows = await runWithPriority(() =>
      query<{ working: boolean }>(
        `SELECT state = 'active' AND wait_event_type IS DISTINCT FROM 'Lock' AS working
           FROM pg_stat_activity WHERE pid = $1`,
        [of.pid],
      ),
    );
    return rows[0]?.working === true;
  }

  return {
    name: 'postgres',
    locate: (id) => `postgres ${table} id=${id}`,

    async read(id): Promise<TierRead> {
      try {
        const backend: Backend = {};
        const [row] = await query<{ state: string; updated_at: Date }>(
          sql,
          [id],
          new ReadDeadline({ timeoutMs, maxMs: maxReadMs, stillWorking: () => stillWorking(backend) }),
          backend,
        );
        if (!row) return { status: 'missing' };
        return { status: 'found', bytes: Buffer.from(row.state, 'utf8'), updatedAt: row.updated_at };
      } catch (err) {
        // The bot's own pool being full says nothing about PostgreSQL: the caller answers "busy".
        if (isBusy(err)) throw err;
        return { status: 'unreachable', reason: describe(err, table, timeoutMs) };
      }
    },

    async ping() {
      try {
        await query('SELECT 1', []);
      } catch (err) {
        if (isBusy(err)) throw err;
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

function isServerError(err: Error): boolean {
  return err instanceof pg.DatabaseError;
}

function describe(err: unknown, table: string, timeoutMs: number): string {
  if (err instanceof TooLargeToRead) return err.message;
  if (
    err instanceof SilenceTimeout ||
    (err instanceof Error && /timeout/i.test(err.message) && !('code' in err))
  ) {
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
