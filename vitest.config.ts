import { defineConfig } from 'vitest/config';

// Two projects: `unit` needs no Redis or Postgres and runs in seconds (`npx vitest run --project
// unit`, even with no services on the machine); `integration` holds the tests on the real services
// and the end-to-end ones. `npm test` runs both.
export default defineConfig({
  test: {
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 30_000,
    projects: [
      {
        extends: true,
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'] },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          // Integration tests share one Redis and one Postgres server; each file isolates itself
          // (own database, own key prefix), so files may run in parallel. A missing service fails
          // the run here instead of letting tests skip.
          globalSetup: ['test/helpers/global-setup.ts'],
        },
      },
    ],
  },
});
