import { execFile } from 'node:child_process';
import { join } from 'node:path';

/** The CLI as users run it: a separate process through bin/zeus-recover.js. */
export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'zeus-recover.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with only PATH, HOME and `env`, so the test's own environment cannot leak in. */
export function cli(args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [BIN, ...args],
      { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err && typeof err.code === 'number' ? err.code : err ? 1 : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
