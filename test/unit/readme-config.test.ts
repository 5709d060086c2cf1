import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONFIG_VARIABLES, loadConfig } from '../../src/config.js';
import { MAX_REQUIRED_APPROVALS } from '../../src/store/types.js';

const root = join(import.meta.dirname, '..', '..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

/** The rows of README's configuration table: the variables each row names, and its default. */
function tableRows(): { names: string[]; fallback: string }[] {
  const lines = readme.split('\n');
  const start = lines.findIndex((l) => /^\| variable\s+\| default\s+\| meaning/.test(l));
  expect(start, 'README has a configuration table').toBeGreaterThan(-1);
  const rows: { names: string[]; fallback: string }[] = [];
  for (const line of lines.slice(start + 2)) {
    if (!line.startsWith('|')) break;
    const [, names = '', fallback = ''] = line.split('|');
    rows.push({
      names: [...names.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((m) => m[1] ?? ''),
      fallback: fallback.trim(),
    });
  }
  return rows;
}

const base = { DATABASE_URL: 'postgres://u@h/db', REDIS_URL: 'redis://h:6379' };

describe('README configuration table', () => {
  it('lists every variable the configuration reads, once, and no other', () => {
    const listed = tableRows().flatMap((r) => r.names);
    expect(new Set(listed).size, 'a variable listed twice').toBe(listed.length);
    expect([...listed].sort()).toEqual([...CONFIG_VARIABLES].sort());
  });

  it('gives the default the configuration really uses, where it names one', () => {
    const defaults = loadConfig(base, 'cli');
    const flat = JSON.stringify(defaults);
    for (const row of tableRows()) {
      const literal = /^`([^`]+)`$/.exec(row.fallback)?.[1];
      if (!literal || row.names.length !== 1) continue;
      // The documented default, set explicitly, must give the same configuration as leaving it out.
      const name = row.names[0] ?? '';
      expect(JSON.stringify(loadConfig({ ...base, [name]: literal }, 'cli')), name).toBe(flat);
    }
  });
});

describe('REQUIRED_APPROVALS', () => {
  it('has one range: the configuration takes what the requests table accepts', () => {
    expect(
      loadConfig({ ...base, REQUIRED_APPROVALS: String(MAX_REQUIRED_APPROVALS) }, 'cli').policy
        .requiredApprovals,
    ).toBe(MAX_REQUIRED_APPROVALS);
    expect(() =>
      loadConfig({ ...base, REQUIRED_APPROVALS: String(MAX_REQUIRED_APPROVALS + 1) }, 'cli'),
    ).toThrow(`at most ${MAX_REQUIRED_APPROVALS}`);
    const schema = readFileSync(join(root, 'src', 'store', 'migrations', '0004-requests.ts'), 'utf8');
    expect(schema).toContain(`required_approvals BETWEEN 1 AND ${MAX_REQUIRED_APPROVALS}`);
  });
});
