import { checkBulkApprove } from '../approval/bulk-rules.js';
import { assignGroup, checkReview, type GroupMembership, missingGroups } from '../approval/policies.js';
import { checkApprover } from '../approval/rules.js';
import type { RecoveryRequest } from '../approval/types.js';
import type { Config } from '../config.js';
import type { BulkStore } from '../store/bulk-jobs.js';
import type { BulkRequestStore } from '../store/bulk-requests.js';
import type { HomeItemRef, HomeStore } from '../store/home.js';
import type { RequestStore } from '../store/requests.js';
import type { HomeBulkJob, HomeData, HomeLimits, HomeRequest, HomeReviewItem } from '../views/home.js';

/** Items per list: the tab stays well inside Slack's 100 blocks and 3000 characters a section. */
const OPEN_SHOWN = 15;
const BULK_SHOWN = 5;
const RECENT_SHOWN = 8;
const REVIEW_SHOWN = 5;

export interface HomeTabDeps {
  requests: Pick<RequestStore, 'get'>;
  bulkRequests: Pick<BulkRequestStore, 'get'>;
  bulkJobs: Pick<BulkStore, 'getJob' | 'counts'>;
  home: HomeStore;
  policy: Pick<Config['policy'], 'approverUserIds' | 'approverUsergroupId' | 'approverGroups'>;
  approverHint: string;
  groupMembers: () => Promise<ReadonlySet<string> | null>;
  /** APPROVER_GROUPS: a group's members (null when Slack does not say), to tell whose approval counts. */
  groupMembersOf?: (groupId: string) => Promise<ReadonlySet<string> | null>;
  /** The hourly limit and the breaker (store/blast-radius.ts); null when they cannot be read. */
  limits: () => Promise<HomeLimits | null>;
  /** A link to a message, or null (the chat could not say). */
  permalink: (channelId: string, ts: string) => Promise<string | null>;
}

/**
 * What one person's App Home tab shows, read from the stores at the moment it is built: open
 * requests (and which of them this person may approve), bulk jobs, the last recoveries with a
 * link to their thread, and the limits. Wording is views/home.ts; publishing is the chat's.
 */
export function createHomeTab(deps: HomeTabDeps) {
  const { requests, bulkRequests, bulkJobs, home, policy } = deps;

  const link = async (ref: HomeItemRef): Promise<string | null> =>
    ref.threadTs === null ? null : deps.permalink(ref.channelId, ref.threadTs).catch(() => null);

  async function groupsOf(groups: readonly string[]): Promise<GroupMembership> {
    const unique = [...new Set(groups)];
    const lookup = deps.groupMembersOf;
    const answers = await Promise.all(
      unique.map(async (g) => [g, lookup ? await lookup(g).catch(() => null) : null] as const),
    );
    return new Map(answers);
  }

  async function build(viewer: string, now: Date): Promise<HomeData> {
    const [openRefs, recentRefs, bulkRefs, reviewRefs, groupMembers, limits] = await Promise.all([
      home.openRequests(OPEN_SHOWN + 1),
      home.recentRecoveries(RECENT_SHOWN),
      home.bulkJobs(BULK_SHOWN),
      // Read past what is shown: the viewer's own are left out of their list.
      home.awaitingReview(REVIEW_SHOWN * 4),
      deps.groupMembers().catch(() => null),
      deps.limits().catch(() => null),
    ]);
    const rule = { ...policy, userId: viewer, groupMembers };
    const open: HomeRequest[] = [];
    const found: RecoveryRequest[] = [];
    for (const ref of openRefs) {
      const request = await requests.get(ref.id);
      if (request) found.push(request);
    }
    // APPROVER_GROUPS: an approval counts only from a group none of the earlier ones came from.
    // Bulk jobs keep no copy of the groups: the ones configured now apply to them.
    const membership = await groupsOf([
      ...found.flatMap((r) => r.approverGroups ?? []),
      ...policy.approverGroups,
    ]);
    for (const request of found) {
      const ref = openRefs.find((r) => r.id === request.id);
      const groups = request.approverGroups ?? [];
      const taken = request.approvals.map((a) => a.groupId ?? null);
      const counts = groups.length === 0 || assignGroup(groups, membership, taken, viewer).ok;
      open.push({
        request,
        link: ref ? await link(ref) : null,
        mayApprove: checkApprover({ ...rule, request }).ok && counts,
        ...(groups.length > 0 ? { missingGroups: missingGroups(groups, taken) } : {}),
      });
    }
    const recent: HomeRequest[] = [];
    for (const ref of recentRefs) {
      const request = await requests.get(ref.id);
      if (request) recent.push({ request, link: await link(ref), mayApprove: false });
    }
    const bulk: HomeBulkJob[] = [];
    for (const ref of bulkRefs) {
      const [job, row, counts] = await Promise.all([
        bulkRequests.get(ref.id),
        bulkJobs.getJob(ref.id),
        bulkJobs.counts(ref.id),
      ]);
      if (!job || !row) continue;
      const done = Object.values(counts).reduce((a, b) => a + b, 0);
      const groups = policy.approverGroups;
      const taken = job.approvals.map((a) => a.groupId ?? null);
      const counted = groups.length === 0 || assignGroup(groups, membership, taken, viewer).ok;
      bulk.push({
        job,
        done,
        failed: (counts.failed ?? 0) + (counts.changed ?? 0) + (counts.invalid ?? 0),
        updatedAt: row.updatedAt.toISOString(),
        link: await link(ref),
        mayApprove: checkBulkApprove({ ...rule, job }).ok && counted,
        ...(groups.length > 0 && job.state === 'pending'
          ? { missingGroups: missingGroups(groups, taken) }
          : {}),
      });
    }
    // Anyone but the requester may review (approval/policies.ts checkReview), approver or not.
    const review: HomeReviewItem[] = [];
    for (const ref of reviewRefs.requests) {
      const request = await requests.get(ref.id);
      if (request && checkReview(request, viewer).ok)
        review.push({ kind: 'request', request, link: await link(ref) });
    }
    for (const ref of reviewRefs.bulk) {
      const job = await bulkRequests.get(ref.id);
      if (job && checkReview(job, viewer).ok) review.push({ kind: 'bulk', job, link: await link(ref) });
    }
    return {
      viewer,
      now,
      review: review.slice(0, REVIEW_SHOWN),
      moreReview: review.length > REVIEW_SHOWN,
      open: open.slice(0, OPEN_SHOWN),
      moreOpen: openRefs.length > OPEN_SHOWN,
      bulk,
      recent,
      limits,
      approverHint: deps.approverHint,
    };
  }

  return {
    build,
    /** Someone opened the tab: they are among the people shown changes from now on. */
    opened: (userId: string) => home.opened(userId),
  };
}

export type HomeTab = ReturnType<typeof createHomeTab>;
