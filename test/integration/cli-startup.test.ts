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

  // usage.ts is generated from the verb table: both must be read from the stripped copies the
  // bin keeps, side by side, or the native import of usage.js could not find the table.
  it('answers --help from the stripped copies of usage.ts and the verb table, no TypeScript source', async () => {
    const r = await run(['--help']);
    const local = r.loaded.filter((url) => url.startsWith('file:') && !url.endsWith('/bin/zeus-recover.js'));
    const cached = local.filter((url) => url.includes('/node_modules/.cache/zeus-recover/'));
    expect(cached.map((url) => url.replace(/.*\/usage-[^/]+\//, ''))).toEqual([
      'cli/usage.js',
      'verb-table.js',
    ]);
    expect(local.filter((url) => !cached.includes(url) && !url.includes('/test/fixtures/'))).toEqual([]);
  });

  it('refuses an unknown command without loading the SDKs or store clients', async () => {
    const r = await run(['no-such-command']);
    expect(r.code).toBe(2);
    const heavy = heavyIn(r.loaded).filter((url) => !url.includes('/tsx/'));
    expect(heavy).toEqual([]);
  });
});
