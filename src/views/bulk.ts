import type { RecoveryRequest } from '../approval/types.js';
import type { AuditData } from '../audit-vocabulary.js';
import type { BulkCounts, BulkJobStatus } from '../recovery/bulk/job.js';
import { ACTION } from '../slack-ids.js';
import { mention } from './approval-refusals.js';
import { code, escapeMrkdwn, oneLine, userRef } from './escape.js';
import { formatBytes, formatTime } from './format.js';
import { clip } from './limits.js';
import { groupProgressText } from './policies.js';
import type { ReplyText } from './replies.js';
import {
  type ActionsBlock,
  context,
  type EphemeralMessage,
  ephemeral,
  fieldsSection,
  type KnownBlock,
  message,
  plain,
  type SlackMessage,
  section,
} from './slack.js';

/**
 * A bulk restore in Slack: its thread (keyed by the job id), the preview and approval card, the
 * one progress message edited in place, the final report, and the private `job`/`jobs` answers.
 */

export const BULK_ACTIONS_BLOCK_ID = 'bulk_actions';
/** Failures listed in the thread; more go as a file. */
export const BULK_FAILURES_SHOWN = 20;
const BAR_WIDTH = 20;

const GROUP_TEXT: Record<string, string> = {
  absent: 'absent from Redis',
  identical: 'identical',
  older: 'older in Redis',
  newer: 'newer in Redis',
  invalid: 'invalid at the source',
};

export function isBulkJobId(id: string): boolean {
  return /^bj_[A-Za-z0-9_-]{20}$/.test(id);
}

export function bulkThreadRootView(jobId: string): SlackMessage {
  return message(`Zeus bulk restore: ${escapeMrkdwn(jobId)}`, [
    section(`🛟 *Zeus bulk restore: ${code(jobId)}*`),
    context(
      '🧵 This thread holds the whole story of this bulk restore: preview, approval, progress and report.',
    ),
  ]);
}

function selectionText(sel: Record<string, unknown>): string {
  const part = (label: string, v: unknown) =>
    v === null || v === undefined ? null : `${label} ${code(String(v))}`;
  return [
    part('since', sel.since),
    part('until', sel.until),
    part('status', sel.status),
    part('match', sel.match),
  ]
    .filter((x): x is string => x !== null)
    .join(', ');
}

type Requested = AuditData<'bulk.requested'>;

function previewBlocks(d: Requested) {
  const groups = Object.entries(GROUP_TEXT).map(([g, label]) => {
    const samples = (d.samples[g] ?? []).slice(0, 3).map((id) => code(clip(id, 60)));
    return `*${d.groups[g] ?? 0}* ${label}${samples.length > 0 ? ` — e.g. ${samples.join(', ')}` : ''}`;
  });
  const m = d.memory;
  const limit =
    m.maxBytes === 0
      ? 'no maxmemory limit'
      : `${formatBytes(m.headroomBytes)} free of ${formatBytes(m.maxBytes)}`;
  return [
    section(
      `*${d.total}* conversations (${formatBytes(d.bytes)}) updated ${selectionText(d.selection)}; *${d.toRestore}* would be written (${formatBytes(d.bytesToRestore)}).`,
    ),
    section(groups.join('\n')),
    ...(d.toRestore === 0 ? [section(nothingToWriteText(d))] : []),
    fieldsSection([
      `*Redis memory*\nadds about ${formatBytes(m.bytesToWrite)}; ${limit}`,
      `*Eviction policy*\n${code(m.policies.join(', ') || 'unknown')}`,
      `*Newer in Redis*\n${d.overwrite ? 'overwritten (--overwrite), after a backup' : 'kept (no --overwrite)'}`,
      `*Rate cap*\n${d.maxRate === null ? 'none' : `${d.maxRate} conv/s per worker`}`,
    ]),
  ];
}

/**
 * A card that would write nothing must say so where the approver looks, as the single restore's
 * card does for a copy Redis already holds: otherwise a second engineer is paged to approve a
 * no-op, or approves it believing something was restored.
 */
function nothingToWriteText(d: Requested): string {
  const why = [
    d.groups.identical ? `${d.groups.identical} identical in Redis` : null,
    d.groups.newer ? `${d.groups.newer} newer in Redis, kept without --overwrite` : null,
    d.groups.invalid ? `${d.groups.invalid} invalid at the source, never written` : null,
  ].filter((x): x is string => x !== null);
  return `⚠️ *Nothing would be written now*${why.length > 0 ? ` (${why.join('; ')})` : ''}. An approval decides each again against live Redis and restores only what it lost by then; if nothing was lost, cancel the request.`;
}

/** Where a waiting job's approvals stand, for its card (APPROVER_GROUPS: the groups still missing). */
export type BulkApprovalProgress = Pick<
  RecoveryRequest,
  'approverGroups' | 'approvals' | 'requiredApprovals'
>;

/**
 * The preview with its buttons: what the approvers approve is exactly this frozen list. With
 * `progress` (edited in place after a partial approval) it says who counted and what is missing.
 */
export function bulkRequestView(
  d: Requested,
  opts: { now: Date; progress?: BulkApprovalProgress },
): SlackMessage {
  const by = userRef(d.requester);
  const actions: ActionsBlock = {
    type: 'actions',
    block_id: BULK_ACTIONS_BLOCK_ID,
    elements: [
      {
        type: 'button',
        action_id: ACTION.bulkApprove,
        text: plain('Approve'),
        style: 'primary',
        value: d.jobId,
      },
      { type: 'button', action_id: ACTION.bulkDeny, text: plain('Deny'), style: 'danger', value: d.jobId },
      { type: 'button', action_id: ACTION.bulkCancel, text: plain('Cancel request'), value: d.jobId },
    ],
  };
  const head = `🚚 ${by} asks to bulk-restore ${d.total} conversations from Postgres (job ${code(d.jobId)})`;
  const p = opts.progress;
  const counted =
    p === undefined
      ? null
      : (groupProgressText(p) ??
        `${p.approvals.length} of ${p.requiredApprovals} approvals so far (${p.approvals.map((a) => mention(a.userId)).join(', ')}).`);
  return message(head, [
    section(`*${head}*\nReason: ${escapeMrkdwn(clip(oneLine(d.reason), 500))}`),
    ...previewBlocks(d),
    ...(counted ? [context(counted)] : []),
    actions,
    context(
      `Needs ${d.requiredApprovals} approval${d.requiredApprovals === 1 ? '' : 's'} from ${d.approverHint}, until ${escapeMrkdwn(formatTime(d.expiresAt, opts.now))}. The list was frozen when asked: approval restores exactly these conversations, each decided again against live Redis.`,
    ),
  ]);
}

export type BulkDecisionShown =
  /** `breakGlass`: the requester approved it alone (BREAK_GLASS=on); it needs review. */
  | { kind: 'approved'; by: readonly string[]; breakGlass?: boolean }
  | { kind: 'denied'; by: string; reason: string }
  | { kind: 'cancelled'; by: string }
  | { kind: 'expired' };

/** The card once decided: its buttons replaced by the decision. */
/** What the decided card names: views take the job's facts, not the store's row type. */
export interface BulkCardJob {
  jobId: string;
  total: number;
  /** Slack user id of who asked. */
  requester: string;
}

export function bulkDecidedView(job: BulkCardJob, decision: BulkDecisionShown): SlackMessage {
  const what = `bulk restore ${code(job.jobId)} of ${job.total} conversations, asked by ${mention(job.requester)}`;
  let line: string;
  switch (decision.kind) {
    case 'approved':
      // The card is not edited again when the job ends, so it says nothing that goes stale (it
      // said "is running" under the report that the job had finished).
      line = decision.breakGlass
        ? `🚨 Self-approved by ${mention(job.requester)} (break-glass, *needs review*): the ${what}. The review notice, its progress and its report follow in this thread.`
        : `✅ Approved by ${decision.by.map(mention).join(', ')}: the ${what}. Its progress and its report follow in this thread.`;
      break;
    case 'denied':
      line = `⛔ Denied by ${mention(decision.by)}: ${escapeMrkdwn(clip(oneLine(decision.reason), 500))}. Nothing was written for the ${what}.`;
      break;
    case 'cancelled':
      line = `🚫 Cancelled by ${mention(decision.by)} before approval. Nothing was written for the ${what}.`;
      break;
    case 'expired':
      line = `⌛ Expired without approval. Nothing was written for the ${what}. Ask again if it is still needed.`;
      break;
  }
  return message(line, [section(line)]);
}

export function bulkDeniedView(d: AuditData<'bulk.denied'>, actor: string): SlackMessage {
  const text = `⛔ ${userRef(actor)} denied bulk restore ${code(d.jobId)}: ${escapeMrkdwn(clip(oneLine(d.reason), 500))}. Nothing was written.`;
  return message(text, [section(text)]);
}

export function bulkExpiredView(d: AuditData<'bulk.expired'>): SlackMessage {
  const text = `⌛ Bulk restore ${code(d.jobId)} expired without approval. Nothing was written; ask again if it is still needed.`;
  return message(text, [section(text)]);
}

export function bulkCancelRequestedView(d: AuditData<'bulk.cancel_requested'>, actor: string): SlackMessage {
  const now =
    d.state === 'cancelled' ? 'It is cancelled.' : 'The chunk being worked finishes; no other starts.';
  const why = d.reason ? `: ${escapeMrkdwn(clip(oneLine(d.reason), 300))}` : '';
  const text = `🛑 ${userRef(actor)} cancelled bulk restore ${code(d.jobId)}${why}. ${now} Resume it with \`/zeus-recover resume ${d.jobId} --reason "…"\`.`;
  return message(text, [section(text)]);
}

export function bulkResumedView(d: AuditData<'bulk.resumed'>, actor: string): SlackMessage {
  const text = `▶️ ${userRef(actor)} resumed bulk restore ${code(d.jobId)} (${d.chunks} chunk${d.chunks === 1 ? '' : 's'} to go): ${escapeMrkdwn(clip(oneLine(d.reason), 300))}. Progress is in the message above.`;
  return message(text, [section(text)]);
}

function bar(done: number, total: number): string {
  const filled = total === 0 ? BAR_WIDTH : Math.min(BAR_WIDTH, Math.floor((done / total) * BAR_WIDTH));
  return `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
}

function failuresSoFar(c: BulkCounts): number {
  return c.failed + c.changed + c.invalid;
}

function seconds(s: number): string {
  if (s < 90) return `${Math.max(1, Math.round(s))} s`;
  if (s < 5400) return `${Math.round(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/**
 * Conversations per second since the job (last) started running: from the approval, or from a
 * resume with the count done by then, so the time it sat cancelled is not in it. Null before any
 * is done since.
 */
export function bulkRate(done: number, since: { at: Date; done: number } | null, now: Date): number | null {
  if (!since) return null;
  const secs = (now.getTime() - since.at.getTime()) / 1000;
  const moved = done - since.done;
  return moved > 0 && secs > 0 ? moved / secs : null;
}

/** One label per outcome, as the final report and the settled progress message both say it. */
const OUTCOME_LABELS: ReadonlyArray<[keyof BulkCounts, string]> = [
  ['restored', 'Restored'],
  ['identical', 'Identical'],
  ['newer', 'Newer in Redis, kept'],
  ['changed', 'Changed under it, skipped'],
  ['invalid', 'Invalid at the source'],
  ['failed', 'Failed'],
];

export interface BulkProgress {
  jobId: string;
  state: BulkJobStatus['state'];
  done: number;
  total: number;
  counts: BulkCounts;
  /** Conversations per second since it (last) started running (`bulkRate`); null before any is done. */
  rate: number | null;
}

const STATE_LINE: Record<BulkJobStatus['state'], string> = {
  pending: '⏳ Waiting for approval',
  running: '🚚 Restoring',
  cancelling: '🛑 Cancelling (the chunk being worked finishes)',
  cancelled: '🚫 Cancelled',
  failed: '❌ Failed',
  succeeded: '✅ Finished',
};

/** The one progress message: a bar, done/total, rate, ETA, failures so far, and Cancel while it runs. */
export function bulkProgressView(p: BulkProgress): SlackMessage {
  const pct = p.total === 0 ? 100 : Math.floor((p.done / p.total) * 100);
  const live = p.state === 'running' || p.state === 'cancelling' || p.state === 'pending';
  const eta =
    p.state === 'running' && p.rate !== null && p.rate > 0 && p.done < p.total
      ? `, about ${seconds((p.total - p.done) / p.rate)} left`
      : '';
  const rate = p.rate === null ? '' : `, ${p.rate.toFixed(p.rate < 10 ? 1 : 0)} conv/s`;
  const head = `${STATE_LINE[p.state]} — bulk restore ${code(p.jobId)}: ${p.done}/${p.total} (${pct}%)`;
  const blocks: KnownBlock[] = [
    section(`*${head}*\n\`${bar(p.done, p.total)}\`${rate}${eta}`),
    context(
      live
        ? `restored ${p.counts.restored} · identical ${p.counts.identical} · newer kept ${p.counts.newer} · failures so far ${failuresSoFar(p.counts)} (changed ${p.counts.changed}, invalid ${p.counts.invalid}, failed ${p.counts.failed})`
        : // Settled: the report's words and counts, so the two never read differently.
          `${OUTCOME_LABELS.map(([k, label]) => `${label} ${p.counts[k]}`).join(' · ')} — the report in this thread has the details.`,
    ),
  ];
  if (live && p.state !== 'pending') {
    const actions: ActionsBlock = {
      type: 'actions',
      block_id: BULK_ACTIONS_BLOCK_ID,
      elements: [
        {
          type: 'button',
          action_id: ACTION.bulkCancel,
          text: plain('Cancel'),
          style: 'danger',
          value: p.jobId,
        },
      ],
    };
    blocks.push(actions);
  }
  return message(head, blocks);
}

export function bulkApprovedView(d: AuditData<'bulk.approved'>): SlackMessage {
  return bulkProgressView({
    jobId: d.jobId,
    state: 'running',
    done: 0,
    total: d.total,
    counts: { restored: 0, identical: 0, newer: 0, changed: 0, invalid: 0, failed: 0 },
    rate: null,
  });
}

/** The final report: counts per outcome, and the failures (a file holds them all past 20). */
export function bulkReportView(d: AuditData<'bulk.reported'>): SlackMessage {
  const c = d.counts;
  const head = `${STATE_LINE[d.state]}: bulk restore ${code(d.jobId)} — ${c.restored} restored of ${d.total}`;
  const lines = d.failures
    .slice(0, BULK_FAILURES_SHOWN)
    .map(
      (f) =>
        `• ${code(clip(f.conversationId, 128))} ${f.outcome}${f.detail ? `: ${escapeMrkdwn(clip(oneLine(f.detail), 120))}` : ''}`,
    );
  const more =
    d.file !== null
      ? `All ${d.failureCount} are in the file ${code(d.file)} in this thread.`
      : d.failureCount > lines.length
        ? `${d.failureCount - lines.length} more: \`zeus-recover job ${d.jobId} --out failures.tsv\`.`
        : '';
  const backups =
    c.restored > 0
      ? " Each overwrite was backed up first: `zeus-recover backups <id>` lists a conversation's, `undo <backupId>` puts one back."
      : '';
  const next =
    d.state !== 'succeeded'
      ? `Resume it from where it stopped with \`/zeus-recover resume ${d.jobId} --reason "…"\`.`
      : d.failureCount === 0
        ? `Nothing was skipped for a reason to look at.${backups}`
        : `Look at the ones not restored above.${backups}`;
  return message(head, [
    section(`*${head}*`),
    fieldsSection(OUTCOME_LABELS.map(([k, label]) => `*${label}*\n${c[k]}`)),
    ...(lines.length > 0 ? [section(`*Not restored (${d.failureCount})*\n${lines.join('\n')}`)] : []),
    context(...[more, next].filter((x) => x !== '')),
  ]);
}

function statusLine(s: BulkJobStatus): string {
  const who = userRef(s.actor);
  const stranded =
    s.state === 'running' && s.liveWorkers === 0 && s.chunks.working > 0
      ? ' ⚠️ no worker holds it right now: resume it'
      : '';
  return `${code(s.jobId)} ${STATE_LINE[s.state]} ${s.done}/${s.total} · conversations updated ${selectionText(s.selection)} · by ${who}${stranded}`;
}

/** `job <jobId>`, privately. */
export function bulkJobView(s: BulkJobStatus, opts: { now: Date }): EphemeralMessage {
  const c = s.counts;
  return ephemeral(
    message(`Bulk job ${s.jobId}: ${s.state}, ${s.done}/${s.total}`, [
      section(statusLine(s)),
      fieldsSection([
        `*Counts*\nrestored ${c.restored} · identical ${c.identical} · newer ${c.newer} · changed ${c.changed} · invalid ${c.invalid} · failed ${c.failed}`,
        `*Chunks*\n${s.chunks.done} done · ${s.chunks.working} working (${s.liveWorkers} live) · ${s.chunks.pending} pending · ${s.chunks.cancelled} cancelled · ${s.chunks.failed} failed of ${s.chunks.total}`,
        `*Created*\n${escapeMrkdwn(formatTime(s.createdAt, opts.now))}`,
        `*Finished*\n${s.finishedAt ? escapeMrkdwn(formatTime(s.finishedAt, opts.now)) : '—'}`,
      ]),
      ...(s.error
        ? [
            context(
              `⚠️ ${escapeMrkdwn(clip(oneLine(s.error), 300))} — resume it with \`/zeus-recover resume ${s.jobId} --reason "…"\`.`,
            ),
          ]
        : []),
    ]),
  );
}

/** `jobs`, privately. */
export function bulkJobsView(list: readonly BulkJobStatus[]): EphemeralMessage {
  if (list.length === 0) {
    return ephemeral(
      message('No bulk jobs yet.', [
        section(
          'No bulk jobs yet. Start one with `/zeus-recover bulk-restore --from postgres --since 1h --reason "…"`.',
        ),
      ]),
    );
  }
  return ephemeral(
    message(`${list.length} recent bulk jobs`, [
      section(
        `*Recent bulk jobs* (newest first)\n${list
          .slice(0, 20)
          .map((s) => `• ${statusLine(s)}`)
          .join('\n')}`,
      ),
      context('Details: `/zeus-recover job <jobId>`.'),
    ]),
  );
}

/** Private answers about bulk jobs (plain text; the handler escapes it). */
export const bulkReplies = {
  requested: (jobId: string, total: number): ReplyText => ({
    message: `Preview posted and approval requested for bulk restore ${jobId} (${total} conversations). Nothing is written until an approver approves.`,
  }),
  counted: (have: number, need: number): ReplyText => ({
    message: `Your approval counted (${have} of ${need}); it runs once ${need - have} more approve.`,
  }),
  duplicate: (have: number, need: number): ReplyText => ({
    message: `You approved this already (${have} of ${need}).`,
  }),
  approvedRunning: (jobId: string): ReplyText => ({
    message: `Approved: bulk restore ${jobId} is running; its progress is in the thread.`,
  }),
  queueFailed: (jobId: string, detail: string): ReplyText => ({
    message: `Approved, but its chunks could not be queued: ${detail.slice(0, 200)}.`,
    hint: `Nothing was written yet. Queue them again with \`/zeus-recover resume ${jobId} --reason "…"\`.`,
  }),
  notOpen: (jobId: string, state: string): ReplyText => ({
    message: `Bulk restore ${jobId} is ${state}, no longer waiting for a decision.`,
  }),
  expired: (jobId: string): ReplyText => ({
    message: `Bulk restore ${jobId} expired before this click; nothing was written.`,
    hint: 'Ask again with the same command if it is still needed.',
  }),
  denied: (jobId: string): ReplyText => ({ message: `Denied bulk restore ${jobId}; nothing was written.` }),
  /** The cancel form's heading: what is cancelled. */
  cancelWhat: (jobId: string, total: number): ReplyText => ({
    message: `bulk restore ${jobId} (${total} conversations)`,
  }),
  cancelled: (jobId: string, state: string): ReplyText => ({
    message: `Cancel of bulk restore ${jobId} recorded; it is ${state} now.`,
  }),
  cannotCancel: (jobId: string, state: string): ReplyText => ({
    message: `Bulk restore ${jobId} is ${state}: there is nothing to cancel.`,
  }),
  notResumable: (jobId: string, state: string): ReplyText => ({
    message: `Bulk restore ${jobId} is ${state}: only a cancelled or failed job (or one left running without a worker) can be resumed.`,
    hint: `See it with \`/zeus-recover job ${jobId}\`.`,
  }),
  neverApproved: (jobId: string): ReplyText => ({
    message: `Bulk restore ${jobId} was never approved, so there is nothing to resume.`,
    hint: 'Ask for it again with `/zeus-recover bulk-restore …`: a fresh preview, and a fresh approval.',
  }),
  resumed: (jobId: string, state: string): ReplyText => ({
    message: `Bulk restore ${jobId} resumed (${state}); progress is in its thread.`,
  }),
  notSlackJob: (jobId: string): ReplyText => ({
    message: `Bulk job ${jobId} was started from the CLI, so it has no thread here.`,
    hint: `Use the CLI for it: \`zeus-recover job ${jobId}\`, \`zeus-recover resume ${jobId} --yes --reason "…"\`.`,
  }),
  notConfigured: (): ReplyText => ({
    message: 'Bulk restore is not set up on this bot (no job engine).',
    hint: 'Use the CLI: `zeus-recover bulk-restore --from postgres --since 1h --yes --reason "…"`.',
  }),
  selfApproval: (): ReplyText => ({
    message: 'You asked for this bulk restore, so someone else must approve it.',
    hint: 'Ask a teammate who is an approver.',
  }),
  ownDeny: (): ReplyText => ({
    message: 'You asked for this bulk restore: cancel it instead of denying it.',
  }),
  notRequesterPending: (requester: string): ReplyText => ({
    message: `Only ${mention(requester)}, who asked for it, may cancel this request while it waits; approvers deny it instead.`,
  }),
  notAllowedToStop: (verb: 'cancel' | 'resume'): ReplyText => ({
    message: `Only the person who asked for this bulk restore or an approver may ${verb} it.`,
    hint: 'Ask them in the thread.',
  }),
};
