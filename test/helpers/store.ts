import type pg from 'pg';
import { afterAll, beforeAll } from 'vitest';
import type { RestorePlan } from '../../src/recovery/plan.js';
import { migrate } from '../../src/store/migrate.js';
import { createTestDatabase, type TestDatabase } from './pg.js';

export interface MigratedStore<T> {
  readonly db: TestDatabase;
  readonly store: T;
}

/**
 * One store over its own freshly migrated database for the whole test file; the database is
 * dropped after the file. Read `db`/`store` inside tests only: they exist once beforeAll ran.
 */
export function useMigratedStore<T>(
  label: string,
  schema: string,
  create: (pool: pg.Pool, schema: string) => T,
): MigratedStore<T> {
  let db: TestDatabase | undefined;
  let store: T | undefined;
  beforeAll(async () => {
    db = await createTestDatabase(label);
    await migrate(db.pool, schema);
    store = create(db.pool, schema);
  });
  afterAll(async () => {
    await db?.drop();
  });
  return {
    get db() {
      if (!db) throw new Error('useMigratedStore: database read before beforeAll ran');
      return db;
    },
    get store() {
      if (store === undefined) throw new Error('useMigratedStore: store read before beforeAll ran');
      return store;
    },
  };
}

/** A plausible stored plan: the request store keeps it as opaque JSON, so any valid shape will do. */
export function storedPlan(conversationId: string, over: Partial<RestorePlan> = {}): RestorePlan {
  return {
    conversationId,
    source: { kind: 'tier', tier: 'postgres' },
    sourceLabel: 'postgres',
    target: { exists: true, checksum: `sha256:${'a'.repeat(64)}`, bytes: 512, analysis: null },
    current: { exists: true, checksum: `sha256:${'b'.repeat(64)}`, bytes: 300, ttlMs: null, analysis: null },
    diff: { added: [], removed: [], changed: [], unchanged: 2, identical: false },
    diffSummary: '+1 step',
    warnings: [],
    createdAt: '2025-12-13T10:05:00.000Z',
    ...over,
  };
}
