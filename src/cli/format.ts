import type { RestoreResult } from '../recovery/execute.js';
import type { DiffReport, ListResult, ValidationReport } from '../recovery/operations.js';
import type { RestorePlan } from '../recovery/plan.js';
import type { ReplayPlan, ReplayResult } from '../recovery/replay.js';
import { inspectJson, summarizeTier } from '../recovery/summary.js';
import type { InspectReport, TierName } from '../recovery/types.js';
import type { UnlockPlan, UnlockResult } from '../recovery/unlock.js';
import { describeZeusStatus, type ZeusStatus } from '../recovery/zeus-api.js';
import type { AuditVerifyResult, Backup } from '../store/types.js';
import { formatTtl, shortChecksum } from '../text-format.js';
import { table } from './table.js';

const DESTRUCTIVE = /^zeus-recover (restore|undo|replay|resume|bulk-restore|unlock)\b/;

/**
 * A command the core suggests (written for Slack, `/zeus-recover restore c-1 --from postgres`,
 * or bare, `inspect c-1`) as a CLI line that runs as shown: destructive ones get the
 * `--yes --reason` the CLI needs instead of an approver.
 */
export function cliCommand(suggested: string): string {
  const cmd = suggested.trim().replace(/^\/?(zeus-recover )?/, 'zeus-recover ');
  return DESTRUCTIVE.test(cmd) && !/\s--yes\b/.test(cmd) ? `${cmd} --yes --reason "…"` : cmd;
}

const VERB_IN_CODE =
  /`(\/?zeus-recover [^`]+|(?:inspect|validate|diff|export|list|backups|restore|undo|replay) [^`]*)`/g;

/** An error's hint with every command in it written as the CLI line to type. */
export function cliHint(hint: string): string {
  return hint.replace(VERB_IN_CODE, (_m, cmd: string) => `\`${cliCommand(cmd)}\``);
}

const MARK = { found: '✔', missing: '∅', unreachable: '✖' } as const;

function tierTable(tiers: InspectReport['tiers']): string {
  const rows = (Object.keys(tiers) as TierName[]).map((name) => {
    const s = summarizeTier(tiers[name]);
    return [
      name,
      `${MARK[s.status]} ${s.status}`,
      s.valid === null ? null : s.valid ? 'yes' : 'NO',
      s.steps,
      s.lastStepAt,
      s.bytes,
      // a dash, not "none", where the tier holds nothing to have a TTL or checksum
      s.ttlMs === null ? null : formatTtl(s.ttlMs, { compact: true }),
      s.checksum ? shortChecksum(s.checksum, { algorithm: true }) : null,
      s.problems.length > 0
        ? s.problems.slice(0, 2).join('; ') + (s.problems.length > 2 ? ` (+${s.problems.length - 2})` : '')
        : null,
    ];
  });
  return table(
    ['TIER', 'STATUS', 'VALID', 'STEPS', 'LAST STEP', 'BYTES', 'TTL', 'CHECKSUM', 'PROBLEMS'],
    rows,
  );
}

export function formatInspect(report: InspectReport): string {
  const { recommendation: rec, conversationId: id } = report;
  const lines = [`Conversation ${id} — inspected ${report.at}`, '', tierTable(report.tiers), ''];
  const lock = lockText(report.lock);
  if (lock) lines.push(lock, '');
  lines.push(`Recommendation: ${rec.reason}`);
  if (rec.source && rec.source !== 'redis') {
    lines.push(`Next: zeus-recover diff ${id} --from ${rec.source}`);
    lines.push(`      zeus-recover restore ${id} --from ${rec.source} --yes --reason "…"`);
  }
  return lines.join('\n');
}

export { inspectJson };

/** What unlock is about to break, before it does. */
export function formatUnlockPlan(plan: UnlockPlan): string {
  return `Breaking the lock on ${plan.conversationId}: ${lockText(plan.lock)}`;
}

export function formatUnlock(r: UnlockResult): string {
  const was = `${r.broken.holder}${r.broken.requestId ? ` for request ${r.broken.requestId}` : ''}`;
  return [
    `Lock on ${r.conversationId} broken (it was held by ${was} since ${r.broken.since}).`,
    r.broken.gone
      ? 'Its holder was gone; nothing else changes.'
      : 'Its holder was still renewing it: if it was running, it stops at its next renewal and writes nothing after.',
    `Next: zeus-recover inspect ${r.conversationId}`,
  ].join('\n');
}

/** The lock in one line, or null when the conversation is not locked. */
function lockText(lock: InspectReport['lock']): string | null {
  if (lock === undefined || lock === null) return null;
  if (lock === 'unreadable') return 'Lock: unknown (Postgres did not answer); inspect again when it does.';
  const by = `${lock.holder}${lock.requestId ? ` for request ${lock.requestId}` : ''}`;
  if (lock.gone) {
    return `Lock: left behind by ${by} (taken ${lock.since}); holder gone since ${lock.expiresAt}. The next restore takes it over.`;
  }
  return `Lock: held by ${by} since ${lock.since} (lease renewed until ${lock.expiresAt}); wait for its outcome.`;
}

export function formatValidate(r: ValidationReport): string {
  const icon = { healthy: '✅ healthy', degraded: '⚠️  degraded', broken: '❌ broken' }[r.verdict];
  const lines = [`Validation of ${r.conversationId} — ${icon}`, '', tierTable(r.tiers), ''];
  for (const name of Object.keys(r.tiers) as TierName[]) {
    const findings = r.tiers[name].analysis?.findings ?? [];
    for (const f of findings) lines.push(`  ${name}: ${f.severity === 'error' ? '❌' : '⚠️ '} ${f.message}`);
  }
  if (r.zeus) {
    lines.push(
      'error' in r.zeus
        ? `Zeus: status unavailable (${r.zeus.error})`
        : `Zeus: ${describeZeusStatus(r.zeus)}`,
    );
  }
  lines.push(`Agreement: ${r.agreement.summary}`);
  lines.push(`Verdict: ${r.summary}`);
  if (r.next) lines.push(`Next: ${cliCommand(r.next)}`);
  return lines.join('\n');
}

export function formatDiff(d: DiffReport): string {
  const lines = [`Diff of ${d.conversationId}: Redis → ${d.source}`, `Summary: ${d.summary}`];
  if (d.sourceAnalysis && !d.sourceAnalysis.valid) lines.push(`Warning: the ${d.source} copy is not valid.`);
  const rows: Array<Array<string | number | null>> = [
    ...d.diff.added.map((s) => ['+ add', s.step, s.role, s.ts]),
    ...d.diff.removed.map((s) => ['- remove', s.step, s.role, s.ts]),
    ...d.diff.changed.map((c) => [
      '~ change',
      c.step,
      `${c.from.role ?? '?'} → ${c.to.role ?? '?'}`,
      c.to.ts,
    ]),
  ];
  if (rows.length > 0) lines.push('', table(['CHANGE', 'STEP', 'ROLE', 'TS'], rows));
  lines.push('', `Unchanged steps: ${d.diff.unchanged}`);
  return lines.join('\n');
}

/** A copy that does not parse has no step count: said in words, as the Slack card does. */
function stepsText(steps: number | null | undefined): string {
  return steps === null || steps === undefined ? 'steps unknown' : `${steps} steps`;
}

function planSide(side: RestorePlan['target']): string {
  const invalid = side.analysis && !side.analysis.valid ? ', NOT valid' : '';
  return `${stepsText(side.analysis?.stepCount)}, ${shortChecksum(side.checksum, { algorithm: true })}${invalid}`;
}

export function formatPlan(p: RestorePlan): string {
  const lines = [
    `Restore ${p.conversationId} from ${p.sourceLabel}`,
    `  Redis now: ${p.current.exists ? planSide(p.current) : 'missing'}`,
    `  Will hold: ${p.target.exists ? planSide(p.target) : 'nothing (key deleted)'}`,
    `  Change:    ${p.diffSummary}`,
  ];
  for (const w of p.warnings) lines.push(`  Warning:   ${w}`);
  return lines.join('\n');
}

export function formatRestore(r: RestoreResult): string {
  const valid = !r.verified
    ? 'could not be read back (Redis acknowledged the write); run inspect to check it'
    : r.validation
      ? r.validation.valid
        ? 'valid'
        : 'NOT valid'
      : 'key removed';
  const lines = [
    `Restored ${r.conversationId} from ${r.source}.`,
    `  Before:  ${r.before ?? 'absent'}`,
    `  After:   ${r.after ?? 'absent'}`,
    `  TTL:     ${formatTtl(r.ttlMs, { compact: true })}`,
    `  Read-back: ${valid}${r.validation ? `, ${stepsText(r.validation.stepCount)}` : ''}`,
    `  Backup:  ${r.backupId}`,
    `Undo with: zeus-recover undo ${r.backupId} --yes --reason "…"`,
  ];
  if (!r.recorded) {
    lines.push(
      'WARNING: the audit log could not be written after retrying for about 30 s; this restore is not recorded there.',
    );
  }
  return lines.join('\n');
}

export function formatReplayPlan(p: ReplayPlan, requestId: string): string {
  const count = p.steps.length;
  const lines = [
    `Replay ${p.conversationId} from step ${p.fromStep} (request ${requestId})`,
    `  Zeus will re-run ${count} of ${p.stepCount} step${p.stepCount === 1 ? '' : 's'}; checkpoint: ${p.checkpoint ?? 'none'}; Redis ${shortChecksum(p.redisChecksum, { algorithm: true })}`,
  ];
  for (const w of p.warnings) lines.push(`  Warning: ${w}`);
  // A long conversation would bury the plan; the first steps and the count say enough.
  const shown = p.steps.length > 30 ? p.steps.slice(0, 25) : p.steps;
  lines.push(
    '',
    table(
      ['STEP', 'ROLE', 'TS'],
      shown.map((s) => [s.step, s.role, s.ts]),
    ),
  );
  if (shown.length < p.steps.length) {
    lines.push(`… and ${p.steps.length - shown.length} more, up to step ${p.stepCount}`);
  }
  return lines.join('\n');
}

export function formatReplayProgress(s: ZeusStatus): string {
  return `  Zeus: ${describeZeusStatus(s)}`;
}

export function formatReplayResult(r: ReplayResult): string {
  const head = {
    done: `Replayed ${r.conversationId} from step ${r.fromStep}.`,
    failed: `Replay of ${r.conversationId} FAILED.`,
    timed_out: `Replay of ${r.conversationId} still not finished; stopped following it.`,
    unknown: `Replay of ${r.conversationId}: outcome UNKNOWN.`,
  }[r.outcome];
  const lines = [
    head,
    `  ${r.detail}`,
    `  Zeus:     ${r.lastStatus ? describeZeusStatus(r.lastStatus) : 'no status'}`,
    `  Request:  ${r.requestId}${r.replayId ? ` (Zeus replay ${r.replayId})` : ''}`,
  ];
  if (r.outcome !== 'done') {
    lines.push(
      `Check with: zeus-recover validate ${r.conversationId} (it shows Zeus's status) before replaying again.`,
    );
  }
  return lines.join('\n');
}

export function formatList(l: ListResult): string {
  const lines = l.ids.length > 0 ? [...l.ids] : ['(no conversations match)'];
  lines.push('');
  lines.push(
    l.cursor === '0'
      ? `${l.ids.length} shown; end of list.`
      : `${l.ids.length} shown; more with --cursor ${l.cursor}`,
  );
  return lines.join('\n');
}

export function formatBackups(id: string, backups: readonly Backup[]): string {
  if (backups.length === 0) {
    return `No backups of ${id}. A backup is taken before every restore or undo that writes to Redis.`;
  }
  const rows = backups.map((b) => [
    b.id,
    b.takenAt.toISOString().replace(/\.\d{3}Z$/, 'Z'),
    b.takenFor,
    b.existed ? shortChecksum(b.checksum, { algorithm: true }) : 'absent (undo deletes the key)',
    b.existed ? (b.value?.length ?? null) : null,
    b.actor,
    b.reason,
  ]);
  const newest = backups[0]?.id ?? 'bk_…';
  return [
    table(['BACKUP', 'TAKEN (UTC)', 'FOR', 'REDIS HELD', 'BYTES', 'BY', 'REASON'], rows),
    '',
    `Put one back: zeus-recover undo ${newest} --yes --reason "…"`,
  ].join('\n');
}

/** A backup without its bytes (export the conversation, or undo, to get at them). */
export function backupJson(b: Backup) {
  return {
    id: b.id,
    takenAt: b.takenAt.toISOString(),
    takenFor: b.takenFor,
    existed: b.existed,
    checksum: b.checksum,
    bytes: b.value?.length ?? null,
    ttlMs: b.ttlMs,
    actor: b.actor,
    reason: b.reason,
    requestId: b.requestId,
  };
}

export function formatAuditVerify(v: AuditVerifyResult): string {
  return v.ok
    ? `Audit log intact: ${v.rows} rows, hash chain verified.`
    : `Audit log BROKEN at row ${v.firstBroken?.seq}: ${v.firstBroken?.problem} (${v.rows} rows read).`;
}
