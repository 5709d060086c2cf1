import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

/** The CLI as users run it: a separate process through bin/zeus-recover.js. */
export const BIN = join(import.meta.dirname, '..', '..', 'bin', 'zeus-recover.js');

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `file` with only PATH, HOME and `env`, so the test's own environment cannot leak in. */
function run(file: string, args: string[], env: Record<string, string>): Promise<Run> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp', ...env }, encoding: 'utf8' },
      (err, stdout, stderr) => {
        const code = err && typeof err.code === 'number' ? err.code : err ? 1 : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** Runs the CLI with only PATH, HOME and `env`, so the test's own environment cannot leak in. */
export function cli(args: string[], env: Record<string, string>): Promise<Run> {
  return run(process.execPath, [BIN, ...args], env);
}

/** Whether util-linux `script` is here to give the CLI a terminal. */
export const canFakeTerminal = existsSync('/usr/bin/script') || existsSync('/bin/script');

/** The CLI on a pseudo-terminal (util-linux `script`), stdout and stderr merged into `stdout`. */
export function cliOnTerminal(args: string[], env: Record<string, string>): Promise<Run> {
  const command = [process.execPath, BIN, ...args].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ');
  return run('script', ['-qfec', command, '/dev/null'], env);
}
