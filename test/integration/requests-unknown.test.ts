import { describe, expect, it } from 'vitest';
import { migrate } from '../../src/store/migrate.js';
import { MIGRATIONS } from '../../src/store/migrations/index.js';
import { createRequestStore, type RequestStore } from '../../src/store/requests.js';
import { quoteIdent } from '../../src/store/sql.js';
import { storedPlan, useTestDatabase } from '../helpers/store.js';

const fixture = useTestDatabase('zr_unknown');

async function executing(store: RequestStore, conversationId: string) {
  const r = await store.create({
    kind: 'restore',
    conversationId,
    channelId: 'C0INC',
    requester: 'UREQ',
    reason: 'reply lost',
    plan: storedPlan(conversationId),
    requiredApprovals: 1,
    ttlMinutes: 30,
  });
  expect((await store.approve(r.id, 'UAPP')).kind).toBe('approved');
  expect(await store.startExecution(r.id)).toBe(true);
  return r;
}

describe("request outcome 'unknown'", () => {
  it('finishes an executing request as unknown, once, and frees the conversation for the next request', async () => {
    await migrate(fixture.db.pool, 'zr_fresh');
    const store = createRequestStore(fixture.db.pool, 'zr_fresh');
    const r = await executing(store, 'c-unknown-1');
    const detail = { detail: 'Redis holds sha256:9911, neither …', backupId: 'bk_aaaaaaaaaaaaaaaaaaaa' };
    const done = await store.finish(r.id, 'unknown', detail);
    expect(done.kind).toBe('done');
    expect(done.request.state).toBe('unknown');
    expect(done.request.result).toEqual(detail);
    expect((await store.finish(r.id, 'failed', {})).kind).toBe('not_open');
    expect(await store.openForConversation('c-unknown-1')).toBeNull();
    await executing(store, 'c-unknown-1');
  });

  it('an existing database (migrated before this step) accepts unknown after migrating again, keeping its rows', async () => {
    const schema = 'zr_old';
    const s = quoteIdent(schema);
    // Bring up the schema as the previous release left it: every step before the new one.
    await fixture.db.pool.query(`CREATE SCHEMA ${s}`);
    await fixture.db.pool.query(
      `CREATE TABLE ${s}.schema_migrations (id text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    for (const m of MIGRATIONS) {
      if (m.id === '0007_requests_outcome_unknown') continue;
      await fixture.db.pool.query(m.sql(s));
      await fixture.db.pool.query(`INSERT INTO ${s}.schema_migrations (id) VALUES ($1)`, [m.id]);
    }
    const store = createRequestStore(fixture.db.pool, schema);
    const before = await executing(store, 'c-unknown-2');
    await expect(store.finish(before.id, 'unknown', {})).rejects.toThrow(/requests_state_check/);
    expect(await migrate(fixture.db.pool, schema)).toEqual({ applied: ['0007_requests_outcome_unknown'] });
    expect((await store.finish(before.id, 'unknown', {})).request.state).toBe('unknown');
  });
});
