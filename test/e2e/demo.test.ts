import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { type Stack, startStack } from '../helpers/stack.js';

const ROOT = join(import.meta.dirname, '..', '..');
let stack: Stack;
let dir: string;

beforeAll(async () => {
  stack = await startStack();
  dir = await mkdtemp(join(tmpdir(), 'zr-demo-'));
}, 60_000);
afterAll(async () => stack.stop());

/** The demo's own stores point at this test's database and key prefix; S3 is its embedded one. */
function demoEnv(): Record<string, string> {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    DATABASE_URL: stack.env.DATABASE_URL ?? '',
    REDIS_URL: stack.env.REDIS_URL ?? '',
    REDIS_KEY_PREFIX: stack.env.REDIS_KEY_PREFIX ?? '',
    DEMO_ENV_FILE: join(dir, '.demo.env'),
  };
}

function startDemo(args: string[] = []) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'scripts/demo.ts', ...args], {
    cwd: ROOT,
    env: demoEnv(),
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return { child, exited, output: () => out };
}

/** This host's first address that is not loopback, if it has one. */
function outsideAddress(): string | undefined {
  return Object.values(networkInterfaces())
    .flat()
    .find((a) => a && a.family === 'IPv4' && !a.internal)?.address;
}

/** `source FILE` in a shell, as the demo's banner says. */
function sourced(file: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const m of readFileSync(file, 'utf8').matchAll(/^export ([A-Z0-9_]+)='([^']*)'$/gm)) {
    env[m[1] ?? ''] = m[2] ?? '';
  }
  return env;
}

describe('npm run demo', () => {
  it('seeds, serves the sandbox at the printed address, says how to run the CLI on its data, and Ctrl-C stops everything with exit 0', async () => {
    const demo = startDemo();
    try {
      const deadline = Date.now() + 45_000;
      while (!/Ctrl-C stops everything/.test(demo.output()) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const out = demo.output();
      const url = /http:\/\/127\.0\.0\.1:\d+\/?/.exec(out)?.[0];
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

      // A second terminal: the file the banner names is all the CLI needs to reach the demo's data.
      const envFile = join(dir, '.demo.env');
      expect(out).toContain(`source ${envFile}`);
      const second = await cli(['inspect', 'c-lost'], sourced(envFile));
      expect(second.stdout, second.stderr).toMatch(/postgres\s+✔ found\s+yes\s+8/);
      expect(second.stdout).toMatch(/s3\s+✔ found\s+yes\s+5/);

      // The bot is where the banner says, and only there.
      const botPort = /Bot on 127\.0\.0\.1:(\d+)\/slack\/events/.exec(out)?.[1];
      expect(botPort, out).toBeTruthy();
      expect((await fetch(`http://127.0.0.1:${botPort}/healthz`)).status).toBe(200);
      const outside = outsideAddress();
      if (outside) await expect(fetch(`http://${outside}:${botPort}/healthz`)).rejects.toThrow();

      demo.child.kill('SIGINT');
      expect(await demo.exited, demo.output()).toBe(0);
      expect(demo.output()).toMatch(/Stopped/);
      // Nothing it started is still listening, and the file naming them is gone.
      await expect(fetch(url ?? '')).rejects.toThrow();
      expect(existsSync(envFile)).toBe(false);
    } finally {
      if (demo.child.exitCode === null) demo.child.kill('SIGKILL');
    }
  }, 90_000);

  it('--cli walks the CLI in its human tables, not JSON', async () => {
    const demo = startDemo(['--cli']);
    expect(await demo.exited, demo.output()).toBe(0);
    const out = demo.output();
    expect(out).toMatch(/TIER\s+STATUS\s+VALID/);
    expect(out).toMatch(/^Restored c-lost from postgres\.$/m);
    expect(out).toMatch(/BACKUP\s+TAKEN \(UTC\)/);
    expect(out).toMatch(/^Restored c-lost from backup:bk_/m);
    expect(out).not.toMatch(/^\s*"\w+": /m);
  }, 90_000);

  it('--clean removes the demo’s keys and rows, and the README says how', async () => {
    await stack.redis.client.set(stack.redis.key('c-healthy'), '{}');
    await stack.redis.client.set(stack.redis.key('c-not-the-demos'), '{}');
    const demo = startDemo(['--clean']);
    expect(await demo.exited, demo.output()).toBe(0);
    expect(await stack.redis.client.exists(stack.redis.key('c-healthy'))).toBe(0);
    // A prefix the caller chose may hold other keys: only the demo's own go.
    expect(await stack.redis.client.exists(stack.redis.key('c-not-the-demos'))).toBe(1);
    const { rows } = await stack.db.pool.query(
      "SELECT id FROM conversations WHERE id IN ('c-healthy', 'c-lost', 'c-corrupt', 'c-archived', 'c-ahead')",
    );
    expect(rows).toHaveLength(0);
    expect(readFileSync(join(ROOT, 'README.md'), 'utf8')).toContain('npm run demo -- --clean');
  }, 60_000);
});
