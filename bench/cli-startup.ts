/**
 * How long an SRE waits for `zeus-recover --help`, beside two baselines measured in the same run:
 * Node itself starting (the floor) and loading every CLI module through the TypeScript loader,
 * which is what `--help` cost before the CLI loaded its SDKs lazily.
 */
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
const bin = join(root, 'bin', 'zeus-recover.js');

export type Measure = (name: string, n: number, fn: () => unknown) => Promise<void>;

function node(args: string[]): void {
  execFileSync(process.execPath, args, { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
}

export async function measureCliStartup(measure: Measure, n = 20): Promise<void> {
  await measure('baseline: node -e 0 (the floor)', n, () => node(['-e', '0']));
  await measure('zeus-recover --help (checkout)', n, () => node([bin, '--help']));
  await measure('baseline: every CLI module via tsx (old --help)', n, () =>
    node(['--import', 'tsx', '-e', "await import('./src/cli/run-command.ts')", '--input-type=module']),
  );
}
