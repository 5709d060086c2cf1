import { execFile } from 'node:child_process';
import { join } from 'node:path';

export interface ScriptRun {
  code: number;
  stdout: string;
  stderr: string;
}

const ROOT = join(import.meta.dirname, '..', '..');

/**
 * Runs `script` (TypeScript as an ES module, importing from the repo root, e.g.
 * `./src/last-resort.ts`) in a fresh Node process that sees only PATH plus `env`. Never rejects:
 * what crashes the child is the thing under test, so it comes back as `code` and `stderr`.
 */
export function runTsScript(script: string, env: Record<string, string> = {}): Promise<ScriptRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['--import', 'tsx', '--input-type=module', '--eval', script],
      { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, encoding: 'utf8', timeout: 20_000 },
      (err, stdout, stderr) => {
        const code = err && typeof err.code === 'number' ? err.code : err ? 1 : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
