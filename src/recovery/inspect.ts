import { isBusy } from '../capacity.js';
import { errorMessage } from '../errors.js';
import { analyzeAsync } from './analyze-async.js';
import type { CoreDeps } from './deps.js';
import { assertConversationId } from './ids.js';
import { readLock } from './lock-state.js';
import { recommendSource } from './recommend.js';
import { withTimeout } from './timeout.js';
import { type InspectReport, TIER_NAMES, type TierName, type TierRead, type TierReport } from './types.js';

/** Reads one tier under its own timeout; never throws (a failure is an `unreachable` report). */
export async function readTier(
  deps: CoreDeps,
  tier: TierName,
  id: string,
): Promise<{ read: TierRead; report: TierReport }> {
  const reader = deps[tier];
  const budget = deps.timeoutsMs[tier];
  const started = performance.now();
  const read = await withTimeout<TierRead>(
    reader.read(id).catch((err: unknown) => {
      // The bot's own connections being taken says nothing about the tier: the caller answers "busy".
      if (isBusy(err)) throw err;
      return { status: 'unreachable', reason: errorMessage(err) };
    }),
    budget,
    () => ({ status: 'unreachable', reason: `no answer within ${budget} ms` }),
  );
  const elapsed = performance.now() - started;
  const latencyMs = Math.round(elapsed);
  deps.onTierRead?.(tier, read.status, elapsed / 1000);
  const report: TierReport = {
    tier,
    location: reader.locate(id),
    status: read.status,
    reason: read.status === 'unreachable' ? read.reason : null,
    analysis: read.status === 'found' ? await analyzeAsync(read.bytes, id) : null,
    ttlMs: read.status === 'found' ? (read.ttlMs ?? null) : null,
    latencyMs,
  };
  return { read, report };
}

export interface InspectResult {
  report: InspectReport;
  reads: Record<TierName, TierRead>;
}

/** All three tiers in parallel, each on its own clock; one tier down never blocks the others. */
export async function inspectConversation(deps: CoreDeps, rawId: string): Promise<InspectResult> {
  const id = assertConversationId(rawId, deps.idPattern);
  const [lock, ...results] = await Promise.all([
    readLock(deps, id),
    ...TIER_NAMES.map((tier) => readTier(deps, tier, id)),
  ]);
  const tiers = {} as Record<TierName, TierReport>;
  const reads = {} as Record<TierName, TierRead>;
  TIER_NAMES.forEach((tier, i) => {
    const r = results[i];
    if (!r) throw new Error('unreachable: one result per tier');
    tiers[tier] = r.report;
    reads[tier] = r.read;
  });
  const now = (deps.clock ?? (() => new Date()))();
  return {
    report: {
      conversationId: id,
      at: now.toISOString(),
      tiers,
      recommendation: recommendSource(tiers),
      lock,
    },
    reads,
  };
}
