import type { BulkJobStatus } from '../recovery/bulk/job.js';
import type { BulkPreview } from '../recovery/bulk/preview.js';

const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;

export function formatBulkPreview(p: BulkPreview): string {
  const sel = p.selection;
  const lines = [
    `Selection: updated_at ${sel.since as string} … ${(sel.until as string | null) ?? 'now'}` +
      `${sel.status ? `, status ${sel.status as string}` : ''}${sel.match ? `, id ${sel.match as string}` : ''}`,
    `${p.total} conversations, ${mb(p.bytes)} at the source`,
    '',
    'GROUP       COUNT   SAMPLE',
  ];
  const label: Record<string, string> = {
    absent: 'absent',
    identical: 'identical',
    older: 'older',
    newer: 'newer',
    invalid: 'invalid',
  };
  for (const [group, count] of Object.entries(p.groups)) {
    const sample = p.samples[group as keyof typeof p.samples].join(', ');
    lines.push(`${(label[group] ?? group).padEnd(10)}  ${String(count).padStart(6)}   ${sample}`);
  }
  const invalid = Object.entries(p.invalidReasons);
  if (invalid.length > 0)
    lines.push(`Invalid at the source: ${invalid.map(([c, n]) => `${c} ${n}`).join(', ')}`);
  lines.push(
    '',
    `To write: ${p.toRestore} (${mb(p.bytesToRestore)}); newer-in-Redis copies are ${p.overwrite ? 'OVERWRITTEN (--overwrite)' : 'kept'}.`,
  );
  const m = p.memory;
  lines.push(
    `Redis memory: ${mb(m.usedBytes)} used of ${m.maxBytes === 0 ? 'no limit' : mb(m.maxBytes)}, ` +
      `about ${mb(m.bytesToWrite)} to add, maxmemory-policy ${m.policies.join(', ')}`,
  );
  if (p.refusal) lines.push(`REFUSED: ${p.refusal}.`);
  return lines.join('\n');
}

export function bulkPreviewJson(p: BulkPreview) {
  return {
    total: p.total,
    bytes: p.bytes,
    groups: p.groups,
    samples: p.samples,
    toRestore: p.toRestore,
    bytesToRestore: p.bytesToRestore,
    invalidReasons: p.invalidReasons,
    overwrite: p.overwrite,
    selection: p.selection,
    memory: p.memory,
    refusal: p.refusal,
  };
}

export function bulkResultJson(s: BulkJobStatus) {
  return { jobId: s.jobId, state: s.state, counts: s.counts, done: s.done, total: s.total };
}

export function bulkJobJson(s: BulkJobStatus) {
  return { ...s };
}

export function formatBulkJob(s: BulkJobStatus): string {
  const c = s.counts;
  return [
    `Job ${s.jobId}: ${s.state}, ${s.done}/${s.total} done`,
    `  restored ${c.restored} · identical ${c.identical} · newer ${c.newer} · changed ${c.changed} · invalid ${c.invalid} · failed ${c.failed}`,
    `  chunks: ${s.chunks.done}/${s.chunks.total} done, ${s.chunks.working} being worked (${s.liveWorkers} by a live worker), ${s.chunks.pending} waiting${s.chunks.cancelled ? `, ${s.chunks.cancelled} cancelled` : ''}${s.chunks.failed ? `, ${s.chunks.failed} failed` : ''}`,
    ...(s.error && (s.state === 'failed' || s.state === 'cancelled')
      ? [
          `  Stopped: ${s.error}. Nothing done is redone; go on from where it stopped: zeus-recover resume ${s.jobId} --yes --reason "…"`,
        ]
      : []),
    ...(s.state === 'running' && s.liveWorkers === 0
      ? [
          `  No worker is on this job right now. If no bot replica works bulk jobs, go on from this machine: zeus-recover resume ${s.jobId} --yes --reason "…"`,
        ]
      : []),
    `  by ${s.actor} at ${s.createdAt}${s.finishedAt ? `, finished ${s.finishedAt}` : ''}${s.overwrite ? ', --overwrite' : ''}${s.maxRate ? `, --max-rate ${s.maxRate}` : ''}`,
  ].join('\n');
}

export function formatBulkJobs(jobs: readonly BulkJobStatus[]): string {
  if (jobs.length === 0) return 'No bulk jobs yet.';
  const rows = jobs.map(
    (s) =>
      `${s.jobId}  ${s.state.padEnd(10)}  ${`${s.done}/${s.total}`.padStart(13)}  ${s.createdAt}  ${s.actor}`,
  );
  const header = `${'JOB'.padEnd(23)}  ${'STATE'.padEnd(10)}  ${'DONE'.padStart(13)}  ${'CREATED'.padEnd(24)}  BY`;
  return [header, ...rows].join('\n');
}

export function formatFailures(
  failures: ReadonlyArray<{ conversationId: string; outcome: string; detail: string | null }>,
  more: boolean,
  jobId: string,
): string {
  if (failures.length === 0) return '';
  const lines = failures.map((f) => `  ${f.conversationId}  ${f.outcome}${f.detail ? `: ${f.detail}` : ''}`);
  // A line that runs as shown: every one of them into a file.
  const rest = `  … and more: zeus-recover job ${jobId} --out ${jobId}-not-restored.tsv`;
  return ['Not restored:', ...lines, ...(more ? [rest] : [])].join('\n');
}

/** One progress line: a bar on a terminal, plain text otherwise. */
export function formatProgress(s: BulkJobStatus, ratePerS: number, tty: boolean): string {
  const pct = s.total === 0 ? 100 : Math.floor((s.done / s.total) * 100);
  const left = s.total - s.done;
  const eta = ratePerS > 0 ? `${Math.ceil(left / ratePerS)} s` : '?';
  const problems = s.counts.failed + s.counts.changed;
  const text = `${s.done}/${s.total} (${pct}%) ${Math.round(ratePerS)} conv/s ETA ${eta} failures ${problems}`;
  if (!tty) return `bulk ${s.jobId} ${s.state}: ${text}`;
  const width = 30;
  const filled = Math.round((pct / 100) * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${text}`;
}
