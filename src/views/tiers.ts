import type { inspectJson, TierSummary } from '../recovery/summary.js';
import type { TierName } from '../recovery/types.js';
import { code, line } from './escape.js';
import { firstLines, formatBytes, formatTime, formatTtl, plural, shortChecksum } from './format.js';

/** The inspect report as both faces show it (and the CLI's `--json` contract). */
export type InspectSummary = ReturnType<typeof inspectJson>;

export const TIER_ORDER: readonly TierName[] = ['redis', 'postgres', 's3'];
export const TIER_LABEL: Record<TierName, string> = { redis: 'Redis', postgres: 'PostgreSQL', s3: 'S3' };

export function tierIcon(s: TierSummary): string {
  if (s.status === 'unreachable') return '🔌';
  if (s.status === 'missing') return '❌';
  return s.valid ? '✅' : '⚠️';
}

export function tierState(s: TierSummary): string {
  if (s.status === 'unreachable') return 'unreachable';
  if (s.status === 'missing') return 'missing';
  return s.valid ? 'valid' : 'found but invalid';
}

function unreachableReason(s: TierSummary): string {
  const first = s.problems[0] ?? 'no reason given';
  return first.replace(/^unreachable:\s*/, '');
}

/** `*Redis* ✅ valid · 12 steps · last step 10:00:04 UTC · 4.2 KB · `1a2b3c4d5e6f` · TTL 6 h` */
export function tierLine(name: TierName, s: TierSummary, now?: Date): string {
  const head = `*${TIER_LABEL[name]}* ${tierIcon(s)} ${tierState(s)}`;
  if (s.status === 'unreachable') return `${head} — ${line(unreachableReason(s), FINDING_MAX)}`;
  if (s.status === 'missing') return head;
  const facts = [
    s.steps === null ? 'steps unknown' : plural(s.steps, 'step'),
    // To the second: copies a few seconds apart must not read as the same moment.
    s.lastStepAt ? `last step ${formatTime(s.lastStepAt, now, { seconds: true })}` : null,
    formatBytes(s.bytes),
    code(shortChecksum(s.checksum)),
    name === 'redis' ? formatTtl(s.ttlMs) : null,
  ].filter((f): f is string => f !== null);
  return `${head} · ${facts.join(' · ')}`;
}

/** One finding line; beyond this the list's "…and N more" would be cut off. */
const FINDING_MAX = 240;

/** Errors first: they are why a copy is not usable. */
export function findingLines(s: TierSummary, max: number): string[] {
  const sorted = [...s.findings].sort((a, b) =>
    a.severity === b.severity ? 0 : a.severity === 'error' ? -1 : 1,
  );
  const render = (f: TierSummary['findings'][number]): string =>
    `    ${f.severity === 'error' ? '❌' : '⚠️'} ${line(f.message, FINDING_MAX)}`;
  return firstLines(sorted, max, render, 'finding');
}

/** `Redis ✅ 12 steps` — for the approval message, where the full report is one click away. */
export function compactTier(name: TierName, s: TierSummary): string {
  const steps = s.status === 'found' && s.steps !== null ? ` ${plural(s.steps, 'step')}` : ` ${tierState(s)}`;
  return `${TIER_LABEL[name]} ${tierIcon(s)}${steps}`;
}

/**
 * Copies with the same content but different checksums, said in words: without it, two tiers
 * that "agree" beside two different checksums read as a contradiction. Postgres stores jsonb,
 * which reorders keys and drops whitespace, so its bytes differ from what Zeus wrote.
 */
export function sameContentNote(tiers: Record<TierName, TierSummary>): string | null {
  const groups = new Map<string, TierName[]>();
  for (const name of TIER_ORDER) {
    const s = tiers[name];
    if (s.status !== 'found' || s.contentHash === null) continue;
    groups.set(s.contentHash, [...(groups.get(s.contentHash) ?? []), name]);
  }
  const notes: string[] = [];
  for (const names of groups.values()) {
    // Measured against the first tier of the group: only the tiers whose bytes differ from it are named.
    const [first, ...rest] = names;
    if (first === undefined) continue;
    for (const name of rest) {
      if (tiers[name].checksum === tiers[first].checksum) continue;
      const why =
        name === 'postgres' || first === 'postgres'
          ? ' (Postgres stores jsonb, which reorders keys and drops spaces)'
          : '';
      notes.push(
        `${TIER_LABEL[name]} holds the same content as ${TIER_LABEL[first]} in different bytes${why}`,
      );
    }
  }
  return notes.length === 0 ? null : `ℹ️ ${notes.join('; ')}.`;
}
