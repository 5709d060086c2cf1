import { compareTimestamps } from './conversation.js';
import {
  type ConversationAnalysis,
  type Recommendation,
  TIER_NAMES,
  type TierName,
  type TierReport,
} from './types.js';

export const TIER_LABELS: Readonly<Record<TierName, string>> = {
  redis: 'Redis',
  postgres: 'Postgres',
  s3: 'S3',
};

type ValidReport = TierReport & { status: 'found'; analysis: ConversationAnalysis };

function isValidCopy(report: TierReport): report is ValidReport {
  return report.status === 'found' && report.analysis !== null && report.analysis.valid;
}

function steps(n: number | null): string {
  return `${n ?? 0} ${n === 1 ? 'step' : 'steps'}`;
}

/** The distinct error codes of a broken copy, the way an SRE greps for them: `step_gap, ts_decreasing`. */
export function errorCodes(analysis: ConversationAnalysis | null): string {
  if (!analysis) return 'unreadable';
  const codes = [...new Set(analysis.findings.filter((f) => f.severity === 'error').map((f) => f.code))];
  return codes.length > 3 ? `${codes.slice(0, 3).join(', ')}, …` : codes.join(', ') || 'invalid';
}

function clipReason(reason: string | null): string {
  const text = (reason ?? 'no reason given').replace(/\s+/g, ' ').trim();
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

/** Newer first; timestamps that do not parse compare as equal (they cannot decide anything). */
function newer(a: string | null, b: string | null): number {
  if (a === null || b === null) return a === b ? 0 : a === null ? 1 : -1;
  return -(compareTimestamps(a, b) ?? 0);
}

/** Best first: most steps, then newest last step, then newest update, then redis > postgres > s3. */
function compareCandidates(a: ValidReport, b: ValidReport): number {
  return (
    (b.analysis.stepCount ?? 0) - (a.analysis.stepCount ?? 0) ||
    newer(a.analysis.lastStepAt, b.analysis.lastStepAt) ||
    newer(a.analysis.updatedAt, b.analysis.updatedAt) ||
    TIER_NAMES.indexOf(a.tier) - TIER_NAMES.indexOf(b.tier)
  );
}

/** How another tier compares with the chosen copy, e.g. `S3 agrees`, `S3 has 6`, `S3 is missing`. */
function otherClause(report: TierReport, best: ValidReport): string {
  const name = TIER_LABELS[report.tier];
  switch (report.status) {
    case 'missing':
      return `${name} is missing`;
    case 'unreachable':
      return `${name} is unreachable`;
    case 'found': {
      const a = report.analysis;
      if (a?.contentHash && a.contentHash === best.analysis.contentHash) return `${name} agrees`;
      if (!a?.valid) return `${name} is invalid (${errorCodes(a)})`;
      return a.stepCount === best.analysis.stepCount
        ? `${name} has ${steps(a.stepCount)} but different content`
        : `${name} has ${a.stepCount ?? 0}`;
    }
  }
}

function brokenClause(report: TierReport): string {
  switch (report.status) {
    case 'missing':
      return `${report.tier} missing`;
    case 'unreachable':
      return `${report.tier} unreachable (${clipReason(report.reason)})`;
    case 'found':
      return `${report.tier} invalid (${errorCodes(report.analysis)})`;
  }
}

/**
 * Why there is no source, and the next step that fits: "export what exists" only when a copy
 * exists. An id no tier holds is most often a typo; a tier that did not answer may hold it.
 */
function noValidCopy(reports: readonly TierReport[]): string {
  const clauses = reports.map(brokenClause).join(', ');
  if (reports.some((r) => r.status === 'found')) {
    return `No tier has a valid copy: ${clauses}. Export what exists and investigate.`;
  }
  const silent = reports.filter((r) => r.status === 'unreachable').map((r) => TIER_LABELS[r.tier]);
  if (silent.length === 0) {
    return `No tier holds this id: ${clauses}. Check the id; \`list <first characters>*\` shows the ids Redis holds.`;
  }
  return `No tier holds a readable copy: ${clauses}. Inspect again once ${silent.join(' and ')} ${silent.length === 1 ? 'answers' : 'answer'}.`;
}

/** Redis's state, when it is not the best source, as the first half of the reason. */
function redisClause(redis: TierReport, best: ValidReport): string {
  switch (redis.status) {
    case 'missing':
      return 'Redis is missing';
    case 'unreachable':
      return `Redis is unreachable (${clipReason(redis.reason)})`;
    case 'found': {
      const a = redis.analysis;
      if (!a?.valid) return `Redis is corrupted (${errorCodes(a)})`;
      if ((a.stepCount ?? 0) < (best.analysis.stepCount ?? 0))
        return `Redis is valid but behind (${steps(a.stepCount)})`;
      return `Redis is valid but older (${steps(a.stepCount)}, last step ${a.lastStepAt ?? 'unknown'}, updated ${a.updatedAt ?? 'unknown'})`;
    }
  }
}

/**
 * The tier to restore Redis from: among copies that are found and valid, the most complete,
 * then the newest, then redis > postgres > s3. `source: 'redis'` means Redis already holds the
 * best copy (nothing to restore); `null` means no tier has a valid copy.
 */
export function recommendSource(tiers: Record<TierName, TierReport>): Recommendation {
  const reports = TIER_NAMES.map((t) => tiers[t]);
  const [best] = reports.filter(isValidCopy).sort(compareCandidates);
  if (!best) return { source: null, reason: noValidCopy(reports) };
  const count = steps(best.analysis.stepCount);
  const others = reports.filter((r) => r.tier !== best.tier && r.tier !== 'redis');
  if (best.tier === 'redis') {
    if (others.every((r) => otherClause(r, best).endsWith(' agrees'))) {
      return {
        source: 'redis',
        reason: `Redis, Postgres and S3 hold the same content (${count}) — no restore needed.`,
      };
    }
    return {
      source: 'redis',
      reason: `Redis is valid and the most complete (${count}) — no restore needed (${others.map((r) => otherClause(r, best)).join('; ')}).`,
    };
  }
  const rest = others.map((r) => otherClause(r, best));
  const suffix = rest.length > 0 ? ` (${rest.join('; ')})` : '';
  const caveat =
    tiers.redis.status === 'unreachable' ? ' Redis must be reachable before a restore can run.' : '';
  return {
    source: best.tier,
    reason: `${redisClause(tiers.redis, best)}; ${TIER_LABELS[best.tier]} has a valid copy with ${count}${suffix}.${caveat}`,
  };
}
