import { describe, expect, it } from 'vitest';
import { runTsScript } from '../helpers/child-script.js';

/**
 * A process of its own, with the handlers installed as main.ts installs them: a throw nobody
 * catches and a rejection nobody handles are reported, and the process goes on to finish its
 * work. Without them Node ends it at the first one (exit code 1, nothing printed after).
 */
const SCRIPT = `
import { installLastResort } from './src/last-resort.ts';
const seen = [];
installLastResort(process, (kind, err) => seen.push(kind + ': ' + err.message));
setTimeout(() => { throw new Error('thrown in a timer'); }, 10);
void Promise.reject(new Error('rejected, never handled'));
// A report that itself throws must not turn into a loop of reports.
let reports = 0;
installLastResort(process, () => { reports++; throw new Error('the reporter broke'); });
setTimeout(() => {
  console.log(JSON.stringify({ seen, reports, alive: true }));
}, 200);
`;

const run = () => runTsScript(SCRIPT);

describe('installLastResort', () => {
  it('reports an uncaught exception and an unhandled rejection, and the process keeps running', async () => {
    const result = await run();
    expect(result.code).toBe(0);
    const out = JSON.parse(result.stdout.trim().split('\n').pop() ?? '{}') as {
      seen: string[];
      reports: number;
      alive: boolean;
    };
    expect(out.alive).toBe(true);
    expect(out.seen.sort()).toEqual([
      'uncaught_exception: thrown in a timer',
      'unhandled_rejection: rejected, never handled',
    ]);
    expect(out.reports).toBe(2);
    expect(result.stderr).toMatch(/reporting it failed/);
  });
});
