import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack } from '../helpers/stack.js';

const ROOT = join(import.meta.dirname, '..', '..');
let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
}, 60_000);
afterAll(async () => stack.stop());

describe('npm run demo', () => {
  it('seeds, serves the sandbox at the printed address, and Ctrl-C stops everything with exit 0', async () => {
    // The demo's own stores point at this test's database and key prefix; S3 is its embedded one.
    const env = {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? '/tmp',
      DATABASE_URL: stack.env.DATABASE_URL ?? '',
      REDIS_URL: stack.env.REDIS_URL ?? '',
      REDIS_KEY_PREFIX: stack.env.REDIS_KEY_PREFIX ?? '',
    };
    const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts'], { cwd: ROOT, env });
    let out = '';
    child.stdout.on('data', (d) => {
      out += d;
    });
    child.stderr.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const deadline = Date.now() + 45_000;
      let url: string | undefined;
      while (!url && Date.now() < deadline) {
        url = /http:\/\/127\.0\.0\.1:\d+\/?/.exec(out)?.[0];
        if (!url) await new Promise((r) => setTimeout(r, 100));
      }
      expect(url, out).toBeTruthy();
      const page = await fetch(url ?? '');
      expect(page.status).toBe(200);
      expect(await page.text()).toContain('<');
      // The five cases are seeded into the given stores.
      expect(await stack.redis.client.exists(stack.redis.key('c-healthy'))).toBe(1);
      const { rows } = await stack.db.pool.query(
        "SELECT id FROM conversations WHERE id IN ('c-lost', 'c-corrupt', 'c-ahead')",
      );
      expect(rows).toHaveLength(3);

      child.kill('SIGINT');
      expect(await exited, out).toBe(0);
      expect(out).toMatch(/Stopped/);
      // Nothing it started is still listening.
      await expect(fetch(url ?? '')).rejects.toThrow();
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  }, 90_000);
});
