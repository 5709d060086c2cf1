import type pg from 'pg';

/** Double-quotes an identifier; callers validate the name too, this is the second belt. */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Runs `fn` in a transaction on one pooled client; rolls back on any error. */
export async function withTransaction<T>(
  pool: pg.Pool,
  fn: (client: pg.PoolClient) => Promise<T>,
  begin = 'BEGIN',
): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query(begin);
    const result = await fn(client);
    await client.query('COMMIT');
    client.release();
    return result;
  } catch (err) {
    try {
      await client.query('ROLLBACK');
      client.release();
    } catch (rollbackErr) {
      // A connection that cannot roll back must not go back to the pool.
      client.release(rollbackErr instanceof Error ? rollbackErr : true);
    }
    throw err;
  }
}
