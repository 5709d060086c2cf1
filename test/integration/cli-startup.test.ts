import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { USAGE } from '../../src/cli/usage.js';
import { BIN } from '../helpers/cli.js';

const RECORDER = join(import.meta.dirname, '..', 'fixtures', 'record-imports.mjs');
const HEAVY = ['@aws-sdk', 'ioredis', '/pg/', 'pg-pool', '@slack', 'pino', 'zod', '/tsx/'];

/** Runs the CLI under the import recorder; returns its output and every module it loaded. */
function run(args: string[]): Promise<{ code: number; stdout: string; loaded: string[] }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', RECORDER, BIN, ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' }, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err && typeof err.code === 'number' ? err.code : err ? 1 : 0;
        const loaded = stderr.split('--loaded--\n')[1]?.split('\n').filter(Boolean) ?? [];
        resolve({ code, stdout, loaded });
      },
    );
  });
}

const heavyIn = (loaded: string[]) => loaded.filter((url) => HEAVY.some((h) => url.includes(h)));

// An SRE at 3 a.m. types --help first: it must answer without loading the SDKs, the stores'
// clients or the TypeScript loader (they cost most of a second). Counted, not timed.
describe('CLI start-up', () => {
  it.each([{ argv: ['--help'] }, { argv: ['-h'] }, { argv: ['help'] }, { argv: [] }])(
    'answers $argv with the usage and loads no heavy module',
    async ({ argv }: { argv: string[] }) => {
      const r = await run(argv);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe(`${USAGE}\n`);
      expect(r.loaded.length).toBeGreaterThan(0);
      expect(heavyIn(r.loaded)).toEqual([]);
    },
  );

  it('refuses an unknown command without loading the SDKs or store clients', async () => {
    const r = await run(['no-such-command']);
    expect(r.code).toBe(2);
    const heavy = heavyIn(r.loaded).filter((url) => !url.includes('/tsx/'));
    expect(heavy).toEqual([]);
  });
});
