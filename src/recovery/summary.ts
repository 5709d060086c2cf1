import type { InspectReport, TierName, TierReport } from './types.js';

/** The flat per-tier shape both faces show (and the CLI's `--json` contract). */
export interface TierSummary {
  status: 'found' | 'missing' | 'unreachable';
  valid: boolean | null;
  steps: number | null;
  checksum: string | null;
  contentHash: string | null;
  bytes: number | null;
  lastStepAt: string | null;
  ttlMs: number | null;
  location: string;
  latencyMs: number;
  /** Human sentences: what is wrong with this copy, or why the tier could not be read. */
  problems: string[];
  findings: Array<{ severity: string; code: string; message: string }>;
}

export function summarizeTier(t: TierReport): TierSummary {
  const a = t.analysis;
  const problems =
    t.status === 'unreachable'
      ? [`unreachable: ${t.reason ?? 'no reason given'}`]
      : (a?.findings.filter((f) => f.severity === 'error').map((f) => f.message) ?? []);
  return {
    status: t.status,
    valid: a ? a.valid : null,
    steps: a ? a.stepCount : null,
    checksum: a ? a.checksum : null,
    contentHash: a ? a.contentHash : null,
    bytes: a ? a.bytes : null,
    lastStepAt: a ? a.lastStepAt : null,
    ttlMs: t.ttlMs,
    location: t.location,
    latencyMs: t.latencyMs,
    problems,
    findings: a ? a.findings.map(({ severity, code, message }) => ({ severity, code, message })) : [],
  };
}

export function inspectJson(report: InspectReport) {
  const tiers = {} as Record<TierName, TierSummary>;
  for (const [name, t] of Object.entries(report.tiers) as Array<[TierName, TierReport]>)
    tiers[name] = summarizeTier(t);
  return {
    conversationId: report.conversationId,
    at: report.at,
    tiers,
    recommendation: report.recommendation,
    // Absent in entries written before locks were shown.
    ...(report.lock === undefined ? {} : { lock: report.lock as InspectReport['lock'] }),
  };
}
