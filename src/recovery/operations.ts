import { ErrorCode, errorMessage, RecoveryError } from '../errors.js';
import { crossTierAgreement } from './agreement.js';
import { analyzeAsync } from './analyze-async.js';
import type { CoreDeps } from './deps.js';
import { diffSteps, summarizeDiff } from './diff.js';
import { assertConversationId } from './ids.js';
import { inspectConversation, readTier } from './inspect.js';
import { readSource } from './plan.js';
import { describeSource, type RestoreSource } from './sources.js';
import { withTimeout } from './timeout.js';
import type { ConversationAnalysis, Recommendation, StepDiff, TierName, TierReport } from './types.js';
import { summarizeZeusStatus, type ZeusClient, type ZeusStatusSummary } from './zeus-api.js';

export interface DiffReport {
  conversationId: string;
  source: string;
  redis: TierReport;
  sourceAnalysis: ConversationAnalysis | null;
  diff: StepDiff;
  summary: string;
}

/** What a restore from `source` would change in Redis; unlike a plan, it refuses nothing. */
export async function diffConversation(
  deps: CoreDeps,
  rawId: string,
  source: RestoreSource,
): Promise<DiffReport> {
  const id = assertConversationId(rawId, deps.idPattern);
  const [{ report: redis }, target] = await Promise.all([
    readTier(deps, 'redis', id),
    readSource(deps, id, source),
  ]);
  const sourceAnalysis = target.exists ? await analyzeAsync(target.bytes, id) : null;

  const diff = diffSteps(redis.analysis, sourceAnalysis);
  return {
    conversationId: id,
    source: describeSource(source),
    redis,
    sourceAnalysis,
    diff,
    summary: summarizeDiff(diff),
  };
}

export type Verdict = 'healthy' | 'degraded' | 'broken';

export interface ValidationReport {
  conversationId: string;
  at: string;
  tiers: Record<TierName, TierReport>;
  agreement: ReturnType<typeof crossTierAgreement>;
  recommendation: Recommendation;
  verdict: Verdict;
  summary: string;
  /** The command an SRE would most likely run next, if any. */
  next: string | null;
  /** Zeus's own view of the conversation, when the Zeus API is configured. */
  zeus?: ZeusStatusSummary | { error: string };
}

/** Zeus's status is a side note of a validation: it gets one budget, retries included. */
const ZEUS_STATUS_BUDGET_MS = 5000;

async function zeusView(zeus: ZeusClient, id: string): Promise<ZeusStatusSummary | { error: string }> {
  return withTimeout<ZeusStatusSummary | { error: string }>(
    zeus.status(id).then(summarizeZeusStatus, (err: unknown) => ({
      error: errorMessage(err),
    })),
    ZEUS_STATUS_BUDGET_MS,
    () => ({ error: `no answer within ${ZEUS_STATUS_BUDGET_MS} ms` }),
  );
}

/** Schema and integrity per tier, cross-tier agreement, and a verdict with the next step. */
export async function validateConversation(deps: CoreDeps, rawId: string): Promise<ValidationReport> {
  // Checked here too so Zeus is never asked about an id the tiers would refuse.
  const checkedId = assertConversationId(rawId, deps.idPattern);
  const [{ report }, zeus] = await Promise.all([
    inspectConversation(deps, checkedId),
    deps.zeus ? zeusView(deps.zeus, checkedId) : Promise.resolve(undefined),
  ]);
  const { tiers, recommendation, conversationId: id } = report;
  const agreement = crossTierAgreement(tiers);
  const redis = tiers.redis;
  const redisOk = redis.status === 'found' && redis.analysis?.valid === true;
  const others = (['postgres', 's3'] as const).map((t) => tiers[t]);
  const otherTrouble = others.some(
    (t) => t.status === 'unreachable' || (t.status === 'found' && t.analysis?.valid === false),
  );
  const restoreFrom =
    recommendation.source && recommendation.source !== 'redis' ? recommendation.source : null;

  let verdict: Verdict;
  let summary: string;
  if (!redisOk) {
    verdict = 'broken';
    summary =
      redis.status === 'unreachable'
        ? `Redis is unreachable (${redis.reason}); the active copy cannot be checked.`
        : redis.status === 'missing'
          ? 'The active copy is missing from Redis.'
          : `The active copy in Redis is not valid (${firstError(redis)}).`;
  } else if (restoreFrom || otherTrouble) {
    verdict = 'degraded';
    summary = restoreFrom
      ? `Redis is valid but ${restoreFrom} has a more complete copy.`
      : 'Redis is valid; another tier is unreachable or holds an invalid copy.';
  } else {
    verdict = 'healthy';
    summary = 'Redis holds a valid copy and no tier has a more complete one.';
  }
  const zeusFailed = zeus !== undefined && 'state' in zeus && zeus.state === 'failed';
  if (zeusFailed) {
    if (verdict === 'healthy') verdict = 'degraded';
    const at =
      zeus.step === null ? '' : ` at step ${zeus.step}${zeus.total === null ? '' : `/${zeus.total}`}`;
    summary += ` Zeus reports the conversation failed${at}${zeus.message ? `: ${zeus.message}` : ''}.`;
  }
  const next = restoreFrom
    ? `/zeus-recover restore ${id} --from ${restoreFrom}`
    : verdict === 'broken'
      ? `/zeus-recover export ${id}`
      : zeusFailed
        ? `/zeus-recover replay ${id} --from-step ${redis.analysis?.checkpoint || 1}`
        : null;
  return {
    conversationId: id,
    at: report.at,
    tiers,
    agreement,
    recommendation,
    verdict,
    summary,
    next,
    ...(zeus === undefined ? {} : { zeus }),
  };
}

function firstError(t: TierReport): string {
  return t.analysis?.findings.find((f) => f.severity === 'error')?.code ?? 'unknown problem';
}

export interface ExportResult {
  conversationId: string;
  tier: TierName;
  bytes: Buffer;
  analysis: ConversationAnalysis;
  report: TierReport;
}

/** The stored bytes of one tier, unchanged, for a file (CLI) or an upload (Slack). */
export async function exportConversation(
  deps: CoreDeps,
  rawId: string,
  tier: TierName = 'redis',
): Promise<ExportResult> {
  const id = assertConversationId(rawId, deps.idPattern);
  const { read, report } = await readTier(deps, tier, id);
  if (read.status === 'missing') {
    throw new RecoveryError(
      ErrorCode.NotFound,
      `${tier} has no copy of ${id}.`,
      `Run \`inspect ${id}\` to see which tier has one.`,
    );
  }
  if (read.status === 'unreachable') {
    throw new RecoveryError(
      ErrorCode.TierUnreachable,
      `${tier} is unreachable: ${read.reason}.`,
      'Try again, or export from another tier.',
    );
  }
  return {
    conversationId: id,
    tier,
    bytes: read.bytes,
    // readTier analysed it already; found implies an analysis.
    analysis: report.analysis ?? (await analyzeAsync(read.bytes, id)),
    report,
  };
}

export interface ListResult {
  pattern: string;
  ids: string[];
  /** Pass back to continue; `'0'` when the scan is complete. */
  cursor: string;
}

const LIST_PATTERN = /^[A-Za-z0-9_*?-]{1,128}$/;

/** Active conversations by SCAN, a page at a time (never KEYS: it blocks Redis). */
export async function listConversations(
  deps: CoreDeps,
  options: { pattern?: string; limit?: number; cursor?: string } = {},
): Promise<ListResult> {
  const pattern = options.pattern ?? '*';
  if (!LIST_PATTERN.test(pattern)) {
    throw new RecoveryError(
      ErrorCode.InvalidInput,
      `${JSON.stringify(pattern.slice(0, 80))} is not a list pattern.`,
      'Use letters, digits, `_`, `-` and the wildcards `*` and `?`, e.g. `c-7f*`.',
    );
  }
  const limit = Math.min(Math.max(options.limit ?? 50, 1), 1000);
  let cursor = options.cursor ?? '0';
  if (!/^[A-Za-z0-9:_=-]{1,512}$/.test(cursor)) {
    throw new RecoveryError(
      ErrorCode.InvalidInput,
      'That cursor is not one list returned.',
      'Pass the cursor printed by the previous list.',
    );
  }
  const ids: string[] = [];
  // SCAN's COUNT is a hint, so keep going until a page is full or the scan wraps.
  do {
    const page = await deps.redis.scan(pattern, cursor, Math.min(limit * 2, 1000));
    ids.push(...page.ids);
    cursor = page.cursor;
  } while (cursor !== '0' && ids.length < limit);
  return { pattern, ids, cursor };
}
