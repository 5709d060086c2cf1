import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/helpers/global-setup.ts'],
    // Integration tests share one Redis and one Postgres server; each file isolates itself
    // (own database, own key prefix), so files may run in parallel.
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
