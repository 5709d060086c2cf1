import type { RecoveryRequest } from '../approval/types.js';
import { SLASH_COMMAND } from '../slack-ids.js';
import { code, escapeExceptMentions, escapeMrkdwn, oneLine, userRef } from './escape.js';
import { formatDuration, formatRelative, formatTime, plural } from './format.js';
import { clip } from './limits.js';
import { operationPhrase } from './request.js';
import { context, divider, header, type KnownBlock, section } from './slack.js';

/** The hourly limit and the breaker as App Home shows them (store/blast-radius.ts `BlastRadiusStatus`). */
export interface HomeLimits {
  hourly: { max: number | null; used: number; freesAt: string | null };
  breaker: {
    threshold: number | null;
    failuresInARow: number;
    open: boolean;
    resetPending: { id: string; requester: string; reason: string } | null;
  };
}

export interface HomeRequest {
  request: RecoveryRequest;
  /** The incident thread, null while it is not posted (or Slack would not say). */
  link: string | null;
  /** The person looking may approve it now. */
  mayApprove: boolean;
  /** APPROVER_GROUPS: the groups no approval came from yet (each must approve). */
  missingGroups?: string[];
}

export interface HomeBulkJob {
  /** A bulk job as store/bulk-requests.ts reads it (the fields shown). */
  job: {
    jobId: string;
    state: string;
    total: number;
    requester: string;
    expiresAt: string;
    /** Break-glass: its requester approved it alone and nobody else has reviewed it yet. */
    needsReview?: boolean;
  };
  /** Conversations decided so far, and how many of them did not restore. */
  done: number;
  failed: number;
  updatedAt: string;
  link: string | null;
  mayApprove: boolean;
  /** APPROVER_GROUPS: the groups no approval came from yet, as for a request. */
  missingGroups?: string[];
}

/** A break-glass request or bulk job the viewer may review (someone other than its requester). */
export type HomeReviewItem =
  | { kind: 'request'; request: RecoveryRequest; link: string | null }
  | { kind: 'bulk'; job: { jobId: string; total: number; requester: string }; link: string | null };

export interface HomeData {
  viewer: string;
  now: Date;
  open: HomeRequest[];
  /** More open requests than are listed. */
  moreOpen: boolean;
  bulk: HomeBulkJob[];
  recent: HomeRequest[];
  /** What awaits this viewer's review; absent or empty, the section is not shown. */
  review?: HomeReviewItem[];
  /** More awaiting review than are listed. */
  moreReview?: boolean;
  limits: HomeLimits | null;
  /** Who may approve, as app-built mrkdwn (mentions stay live). */
  approverHint: string;
}

/** A Home tab as views.publish takes it. */
export interface HomeView {
  type: 'home';
  blocks: KnownBlock[];
}

const LINE_MAX = 400;
const BAR_WIDTH = 10;

/** Only an http(s) link without the characters that would end Slack's `<url|label>` early. */
function threadLink(url: string | null): string {
  if (url === null || !/^https?:\/\/[^\s<>|]+$/.test(url)) return '_thread not posted yet_';
  return `<${url}|thread>`;
}

function age(at: string, now: Date): string {
  const ms = now.getTime() - Date.parse(at);
  return Number.isFinite(ms) && ms >= 60_000 ? `${formatDuration(ms)} old` : 'new';
}

/** A Slack user group as a live mention; anything else shown literally. */
function groupRef(groupId: string): string {
  return /^S[A-Z0-9]{2,30}$/.test(groupId) ? `<!subteam^${groupId}>` : code(groupId);
}

function approvers(hint: string): string {
  return clip(escapeExceptMentions(oneLine(hint)), 300, { markup: true });
}

/** Who may still approve: the groups still missing (APPROVER_GROUPS), else the approver hint. */
function approversOrGroups(missingGroups: readonly string[] | undefined, hint: string): string {
  const groups = missingGroups ?? [];
  return groups.length > 0
    ? `a member of ${groups
        .slice(0, 5)
        .map(groupRef)
        .join(groups.length > 1 ? ' and of ' : '')}`
    : approvers(hint);
}

/** What an open request waits for, in a few words. */
function waitingFor(item: HomeRequest, now: Date, hint: string): string {
  const req = item.request;
  switch (req.state) {
    case 'requested': {
      const missing = Math.max(1, req.requiredApprovals - req.approvals.length);
      const from = approversOrGroups(item.missingGroups, hint);
      return `waits for ${plural(missing, 'approval')} from ${from}, expires ${formatRelative(req.expiresAt, now)}`;
    }
    case 'approved':
      return 'approved, starting';
    case 'executing':
      return 'running now';
    default:
      return escapeMrkdwn(req.state);
  }
}

/** The break-glass flag on a line, until someone other than the requester reviews it. */
function reviewFlag(flagged: boolean | undefined, requester: string): string {
  return flagged ? ` · ⚠️ needs review (break-glass by ${userRef(requester)})` : '';
}

function openLine(item: HomeRequest, now: Date, hint: string): string {
  const r = item.request;
  return clip(
    `• ${operationPhrase(r)} — ${waitingFor(item, now, hint)}${reviewFlag(r.needsReview, r.requester)} · asked by ${userRef(r.requester)}, ${age(r.createdAt, now)} · ${threadLink(item.link)}`,
    LINE_MAX,
    { markup: true },
  );
}

const OUTCOME_ICON: Partial<Record<RecoveryRequest['state'], string>> = {
  succeeded: '✅',
  failed: '❌',
  unknown: '❓',
};

function recentLine(item: HomeRequest, now: Date): string {
  const r = item.request;
  const when = r.decidedAt ?? r.createdAt;
  const unknown = r.state === 'unknown' ? ' — outcome unknown, check before anything else' : '';
  return clip(
    `• ${OUTCOME_ICON[r.state] ?? '•'} ${operationPhrase(r)}${unknown}${reviewFlag(r.needsReview, r.requester)} · ${escapeMrkdwn(formatTime(when, now))} · ${threadLink(item.link)}`,
    LINE_MAX,
    { markup: true },
  );
}

function bar(done: number, total: number): string {
  const filled = total <= 0 ? BAR_WIDTH : Math.min(BAR_WIDTH, Math.floor((done / total) * BAR_WIDTH));
  return `${'█'.repeat(filled)}${'░'.repeat(BAR_WIDTH - filled)}`;
}

function bulkLine(item: HomeBulkJob, now: Date, hint: string): string {
  const { job } = item;
  const pct = job.total > 0 ? Math.floor((item.done / job.total) * 100) : 100;
  const state =
    job.state === 'pending'
      ? `waits for approval from ${approversOrGroups(item.missingGroups, hint)}, expires ${formatRelative(job.expiresAt, now)}`
      : escapeMrkdwn(job.state);
  const failed = item.failed > 0 ? ` · ${item.failed.toLocaleString('en-US')} not restored` : '';
  return clip(
    `• ${code(job.jobId)} ${state} · ${bar(item.done, job.total)} ${item.done.toLocaleString('en-US')}/${job.total.toLocaleString('en-US')} (${pct}%)${failed}${reviewFlag(job.needsReview, job.requester)} · asked by ${userRef(job.requester)} · ${threadLink(item.link)}`,
    LINE_MAX,
    { markup: true },
  );
}

function reviewLine(item: HomeReviewItem): string {
  const what =
    item.kind === 'request'
      ? `${operationPhrase(item.request)}${reviewFlag(true, item.request.requester)}`
      : `bulk restore ${code(item.job.jobId)} of ${plural(item.job.total, 'conversation')}${reviewFlag(true, item.job.requester)}`;
  return clip(`• ${what} · ${threadLink(item.link)}`, LINE_MAX, { markup: true });
}

function reviewSection(d: HomeData): KnownBlock[] {
  const items = d.review ?? [];
  if (items.length === 0) return [];
  return [
    section(
      `*Needs review* (${items.length}${d.moreReview ? '+' : ''})\n${items.map(reviewLine).join('\n')}\n_Self-approved with break-glass: open the thread and press *Mark reviewed* on the notice once you have looked._`,
    ),
  ];
}

function limitsText(limits: HomeLimits | null, now: Date): string {
  if (limits === null)
    return '_The hourly limit and the breaker could not be read just now; they are still enforced._';
  const { hourly, breaker } = limits;
  const hour =
    hourly.max === null
      ? `Destructive requests in the last hour: ${hourly.used} (no hourly limit set).`
      : `Destructive requests in the last hour: *${hourly.used} of ${hourly.max}*${
          hourly.freesAt
            ? ` — limit reached, the next slot frees ${formatRelative(hourly.freesAt, now)} (${escapeMrkdwn(formatTime(hourly.freesAt, now))})`
            : ''
        }.`;
  let brk: string;
  if (breaker.threshold === null) brk = 'Circuit breaker: not set.';
  else if (breaker.open) {
    const reset = breaker.resetPending
      ? ` A reset asked by ${userRef(breaker.resetPending.requester)} waits for approval (${code(breaker.resetPending.id)}).`
      : ` Ask for a reset with ${code(`${SLASH_COMMAND} breaker-reset --reason <why>`)}; it needs approval.`;
    brk = `🛑 *Circuit breaker open*: ${breaker.failuresInARow} failed restores in a row, approvals are stopped.${reset}`;
  } else {
    brk = `Circuit breaker: closed (${breaker.failuresInARow} of ${breaker.threshold} failed restores in a row).`;
  }
  return `${hour}\n${brk}`;
}

/**
 * One person's App Home tab. Every list is cut to a few lines, each line to LINE_MAX characters,
 * so the tab stays inside Slack's limits (100 blocks, 3000 characters a section) whatever the
 * stores hold.
 */
export function homeView(d: HomeData): HomeView {
  const { now } = d;
  const mine = [
    ...d.open.filter((o) => o.mayApprove).map((o) => openLine(o, now, d.approverHint)),
    ...d.bulk.filter((b) => b.mayApprove).map((b) => bulkLine(b, now, d.approverHint)),
  ];
  const blocks: KnownBlock[] = [
    header('Zeus recovery'),
    context(
      `For ${userRef(d.viewer)} · as of ${escapeMrkdwn(formatTime(now, now))} · refreshed when something changes`,
    ),
    section(
      `*For you to approve* (${mine.length})\n${mine.length > 0 ? mine.join('\n') : '_Nothing waits for your approval._'}`,
    ),
    ...reviewSection(d),
    divider(),
    section(
      `*Open requests* (${d.open.length}${d.moreOpen ? '+' : ''})\n${
        d.open.length > 0
          ? d.open.map((o) => openLine(o, now, d.approverHint)).join('\n')
          : `_None. Ask for one with ${code(`${SLASH_COMMAND} restore <id> --from <source> --reason <why>`)} in an incident channel._`
      }${d.moreOpen ? '\n…and more: see the incident channels.' : ''}`,
    ),
    section(
      `*Bulk jobs*\n${d.bulk.length > 0 ? d.bulk.map((b) => bulkLine(b, now, d.approverHint)).join('\n') : '_None yet._'}`,
    ),
    section(
      `*Last recoveries*\n${d.recent.length > 0 ? d.recent.map((r) => recentLine(r, now)).join('\n') : '_None yet._'}`,
    ),
    divider(),
    section(`*Limits*\n${limitsText(d.limits, now)}`),
  ];
  return { type: 'home', blocks };
}
