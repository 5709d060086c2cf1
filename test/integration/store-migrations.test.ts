import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { migrate } from '../../src/store/migrate.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { useTestDatabase } from '../helpers/store.js';

const fixture = useTestDatabase('zr_mig');
const ALL = MIGRATIONS.map((m) => m.id);

async function tables(pool: pg.Pool, schema: string): Promise<string[]> {
  const res = await pool.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 ORDER BY table_name`,
    [schema],
  );
  return res.rows.map((r) => r.table_name);
}

describe('migrate', () => {
  it('numbers migrations NNNN_name in strictly increasing order', () => {
    for (const id of ALL) expect(id).toMatch(/^\d{4}_[a-z0-9_]+$/);
    expect([...ALL].sort()).toEqual(ALL);
    expect(new Set(ALL).size).toBe(ALL.length);
  });

  it('creates the schema and its tables, then a second run is a no-op', async () => {
    expect(await migrate(fixture.db.pool, 'zr_once')).toEqual({ applied: ALL });
    expect(await tables(fixture.db.pool, 'zr_once')).toEqual([
      'audit_deliveries',
      'audit_head',
      'audit_log',
      'backups',
      'breaker_resets',
      'bulk_job_approvals',
      'bulk_job_chunks',
      'bulk_job_items',
      'bulk_jobs',
      'cli_operations',
      'home_views',
      'incident_thread_posts',
      'incident_threads',
      'locks',
      'request_approvals',
      'requests',
      'schema_migrations',
    ]);
    expect(await migrate(fixture.db.pool, 'zr_once')).toEqual({ applied: [] });
    const recorded = await fixture.db.pool.query<{ id: string }>(
      'SELECT id FROM zr_once.schema_migrations ORDER BY id',
    );
    expect(recorded.rows.map((r) => r.id)).toEqual(ALL);
    const head = await fixture.db.pool.query('SELECT seq, hash FROM zr_once.audit_head');
    expect(head.rows).toEqual([{ seq: '0', hash: '0'.repeat(64) }]);
  });

  it("indexes only the rows flagged for break-glass review, in App Home's order (0019)", async () => {
    await migrate(fixture.db.pool, 'zr_review');
    const res = await fixture.db.pool.query<{ indexname: string; indexdef: string }>(
      `SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'zr_review' AND indexname LIKE '%needs_review%'
        ORDER BY indexname`,
    );
    expect(res.rows.map((r) => [r.indexname, r.indexdef.replace(/^.* USING /, '')])).toEqual([
      [
        'bulk_jobs_needs_review_idx',
        'btree (decided_at, id) WHERE (needs_review AND (channel_id IS NOT NULL))',
      ],
      ['requests_needs_review_idx', 'btree (decided_at, id) WHERE needs_review'],
    ]);
  });

  it('lets two replicas start at once: both succeed, each migration applies once', async () => {
    const a = new pg.Pool({ connectionString: fixture.db.url, max: 2 });
    const b = new pg.Pool({ connectionString: fixture.db.url, max: 2 });
    try {
      const results = await Promise.all([migrate(a, 'zr_race'), migrate(b, 'zr_race')]);
      const applied = results.flatMap((r) => r.applied).sort();
      expect(applied).toEqual(ALL);
      expect(results.map((r) => r.applied.length).sort()).toEqual([0, ALL.length]);
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });

  it('keeps separate schemas separate', async () => {
    await migrate(fixture.db.pool, 'zr_one');
    await migrate(fixture.db.pool, 'zr_two');
    await fixture.db.pool.query(`INSERT INTO zr_one.locks VALUES ('c1', 'h', 't', now(), now())`);
    const two = await fixture.db.pool.query('SELECT * FROM zr_two.locks');
    expect(two.rowCount).toBe(0);
  });

  it('migrates into a schema a DBA created, as a role that may not create schemas', async () => {
    const role = `zr_app_${fixture.db.name.slice(-12)}`;
    await fixture.db.pool.query(`CREATE ROLE ${role} LOGIN`);
    try {
      await fixture.db.pool.query(`REVOKE CREATE ON DATABASE ${fixture.db.name} FROM PUBLIC`);
      await fixture.db.pool.query(`CREATE SCHEMA zr_owned AUTHORIZATION ${role}`);
      const url = new URL(fixture.db.url);
      url.username = role;
      const app = new pg.Pool({ connectionString: url.toString(), max: 1 });
      try {
        await expect(app.query('CREATE SCHEMA zr_not_allowed')).rejects.toThrow(/permission denied/);
        expect(await migrate(app, 'zr_owned')).toEqual({ applied: ALL });
        expect(await migrate(app, 'zr_owned')).toEqual({ applied: [] });
      } finally {
        await app.end();
      }
    } finally {
      await fixture.db.pool.query(`DROP SCHEMA IF EXISTS zr_owned CASCADE`);
      await fixture.db.pool.query(`DROP OWNED BY ${role}`);
      await fixture.db.pool.query(`DROP ROLE ${role}`);
    }
  });

  it('rolls back everything when a migration fails, leaving no half-built schema', async () => {
    // A table in the way makes 0001 fail; nothing else may stick, not even its record.
    await fixture.db.pool.query('CREATE SCHEMA zr_blocked');
    await fixture.db.pool.query('CREATE TABLE zr_blocked.backups (x int)');
    await expect(migrate(fixture.db.pool, 'zr_blocked')).rejects.toThrow(/already exists/);
    expect(await tables(fixture.db.pool, 'zr_blocked')).toEqual(['backups']);
  });
});
