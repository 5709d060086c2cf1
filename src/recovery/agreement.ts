import { TIER_NAMES, type TierName, type TierReport } from './types.js';

export interface AgreementGroup {
  /** Tiers whose copies have the same content hash, in tier order. */
  tiers: TierName[];
  contentHash: string;
  stepCount: number | null;
}

export interface TierAgreement {
  /** One group per distinct content among the found, parseable copies. */
  groups: AgreementGroup[];
  /** Every pair of differing copies where one has more steps than the other. */
  ahead: Array<{ tier: TierName; byStepsOver: TierName; steps: number }>;
  /** e.g. `redis and postgres agree (8 steps); s3 is 2 steps behind`. */
  summary: string;
}

function names(tiers: readonly string[]): string {
  if (tiers.length <= 1) return tiers.join('');
  return `${tiers.slice(0, -1).join(', ')} and ${tiers[tiers.length - 1]}`;
}

function steps(n: number): string {
  return `${n} ${n === 1 ? 'step' : 'steps'}`;
}

/**
 * Which copies hold the same content (by content hash, so a Postgres copy with reordered keys
 * still agrees with the Redis original) and which are ahead of which. Validity is not judged
 * here: two identical broken copies still agree.
 */
export function crossTierAgreement(tiers: Record<TierName, TierReport>): TierAgreement {
  const groups: AgreementGroup[] = [];
  const notes: string[] = [];
  for (const tier of TIER_NAMES) {
    const report = tiers[tier];
    const hash = report.analysis?.contentHash ?? null;
    if (report.status !== 'found') {
      notes.push(`${tier} is ${report.status}`);
    } else if (hash === null) {
      notes.push(`${tier} is unparseable`);
    } else {
      const group = groups.find((g) => g.contentHash === hash);
      if (group) group.tiers.push(tier);
      else groups.push({ tiers: [tier], contentHash: hash, stepCount: report.analysis?.stepCount ?? null });
    }
  }

  const ahead: TierAgreement['ahead'] = [];
  for (const a of groups) {
    for (const b of groups) {
      if (a === b || a.stepCount === null || b.stepCount === null || a.stepCount <= b.stepCount) continue;
      for (const tier of a.tiers) {
        for (const over of b.tiers) ahead.push({ tier, byStepsOver: over, steps: a.stepCount - b.stepCount });
      }
    }
  }
  ahead.sort(
    (x, y) =>
      TIER_NAMES.indexOf(x.tier) - TIER_NAMES.indexOf(y.tier) ||
      TIER_NAMES.indexOf(x.byStepsOver) - TIER_NAMES.indexOf(y.byStepsOver),
  );

  return { groups, ahead, summary: summarize(groups, notes) };
}

/** How a non-leading group stands against the leader: `is 2 steps behind`, `differs (…)`. */
function relation(group: AgreementGroup, leader: AgreementGroup): string {
  const plural = group.tiers.length > 1;
  const differ = plural ? 'agree with each other but differ' : 'differs';
  if (group.stepCount !== null && leader.stepCount !== null) {
    const behind = leader.stepCount - group.stepCount;
    if (behind > 0) return plural ? `agree, ${steps(behind)} behind` : `is ${steps(behind)} behind`;
    return `${differ} with the same number of steps (${group.stepCount})`;
  }
  return `${differ} (${group.stepCount === null ? 'no readable steps' : steps(group.stepCount)})`;
}

function summarize(groups: readonly AgreementGroup[], notes: readonly string[]): string {
  // The leader is the group with the most steps (earliest tier on a tie); the others are told
  // relative to it, which is what an operator deciding on a restore wants to read.
  const leader = groups.reduce<AgreementGroup | null>(
    (best, g) => (best === null || (g.stepCount ?? -1) > (best.stepCount ?? -1) ? g : best),
    null,
  );
  if (leader === null) return `no tier has a readable copy (${notes.join(', ')})`;
  const leaderSteps = leader.stepCount === null ? 'no readable steps' : steps(leader.stepCount);
  const parts: string[] = [];
  if (leader.tiers.length > 1) parts.push(`${names(leader.tiers)} agree (${leaderSteps})`);
  else if (groups.length === 1) parts.push(`only ${names(leader.tiers)} has a copy (${leaderSteps})`);
  else parts.push(`${names(leader.tiers)} has ${leaderSteps}`);
  for (const group of groups) {
    if (group !== leader) parts.push(`${names(group.tiers)} ${relation(group, leader)}`);
  }
  return [...parts, ...notes].join('; ');
}
