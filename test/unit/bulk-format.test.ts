import { describe, expect, it } from 'vitest';
import { formatBulkJobs } from '../../src/cli/bulk-format.js';
import type { BulkJobStatus } from '../../src/recovery/bulk/job.js';

function job(over: Partial<BulkJobStatus>): BulkJobStatus {
  return {
    jobId: 'bj_69iUoGrJSO6IXd1cWT63',
    state: 'succeeded',
    done: 4,
    total: 4,
    counts: { restored: 2, identical: 1, newer: 1, changed: 0, invalid: 0, failed: 0 },
    chunks: { pending: 0, working: 0, done: 1, cancelled: 0, failed: 0, live: 0, total: 1 },
    liveWorkers: 0,
    overwrite: false,
    maxRate: null,
    selection: {},
    actor: 'cli:root',
    createdAt: '2026-11-30T14:59:24.775Z',
    finishedAt: '2026-11-30T14:59:25.101Z',
    error: null,
    ...over,
  };
}

describe('zeus-recover jobs', () => {
  it('names every column it prints, each heading over its column', () => {
    const [header, ...rows] = formatBulkJobs([
      job({}),
      job({
        jobId: 'bj_AAAAAAAAAAAAAAAAAAAA',
        state: 'running',
        done: 12_000,
        total: 100_000,
        actor: 'slack:U_ALICE',
      }),
    ]).split('\n');
    const headings = [...(header ?? '').matchAll(/\S+/g)].map((m) => m.index);
    expect(header?.split(/\s+/)).toEqual(['JOB', 'STATE', 'DONE', 'CREATED', 'BY']);
    for (const row of rows) {
      const cells = [...row.matchAll(/\S+/g)];
      expect(cells).toHaveLength(headings.length);
      // Left-aligned columns start under their heading; DONE is right-aligned and ends under it.
      expect(cells[0]?.index).toBe(headings[0]);
      expect(cells[1]?.index).toBe(headings[1]);
      expect((cells[2]?.index ?? 0) + (cells[2]?.[0].length ?? 0)).toBe((headings[2] ?? 0) + 'DONE'.length);
      expect(cells[3]?.index).toBe(headings[3]);
      expect(cells[4]?.index).toBe(headings[4]);
    }
    expect(rows[1]).toContain('12000/100000');
    expect(rows[1]).toContain('slack:U_ALICE');
  });

  it('says so when there is no job', () => {
    expect(formatBulkJobs([])).toBe('No bulk jobs yet.');
  });
});
