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
 * A database of the test file's own, created before its tests and dropped after them. Read `db`
 * inside tests only: it exists once beforeAll ran.
 */
export function useTestDatabase(label: string): { readonly db: TestDatabase } {
  let db: TestDatabase | undefined;
  beforeAll(async () => {
    db = await createTestDatabase(label);
  });
  afterAll(async () => {
    await db?.drop();
  });
  return {
    get db() {
      if (!db) throw new Error('useTestDatabase: database read before beforeAll ran');
      return db;
    },
  };
}

/** One store over its own freshly migrated database for the whole test file (see useTestDatabase). */
export function useMigratedStore<T>(
  label: string,
  schema: string,
  create: (pool: pg.Pool, schema: string) => T,
): MigratedStore<T> {
  const database = useTestDatabase(label);
  let store: T | undefined;
  beforeAll(async () => {
    await migrate(database.db.pool, schema);
    store = create(database.db.pool, schema);
  });
  return {
    get db() {
      return database.db;
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
