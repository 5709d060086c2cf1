/**
 * Members of the approver user group, cached per process. `usergroups.users.list` is Slack
 * tier 2 (about 20 calls a minute), and every approval click needs the answer, so a burst of
 * clicks must not turn into a burst of calls. This is a cache, not state: losing it costs one
 * call, and replicas each keep their own.
 *
 * When Slack fails, the last good answer is served for a grace period (with a warning), because
 * group membership changes rarely and an incident is exactly when Slack may be struggling.
 * Past that, or if Slack never answered, members() is null: the approval rules then fail
 * closed for the group and tell the user why.
 */

import { errorMessage } from '../errors.js';

export interface UsergroupCacheLogger {
  warn(fields: Record<string, unknown>, message: string): void;
}

export interface UsergroupCacheOptions {
  fetchMembers: (groupId: string) => Promise<string[]>;
  /** How long an answer counts as fresh. */
  ttlMs?: number;
  /** How long past its freshness a last good answer is still served while Slack fails. */
  staleGraceMs?: number;
  /** After a failed fetch, how long to wait before asking Slack again (tier 2 budget). */
  retryAfterFailureMs?: number;
  /**
   * How long a caller waits for Slack. @slack/web-api retries 429s for up to ~30 min by
   * default; an approval click must not hang that long. The fetch goes on in the background
   * and fills the cache when it lands.
   */
  fetchTimeoutMs?: number;
  /** Milliseconds since the epoch; injectable for tests. */
  clock?: () => number;
  logger?: UsergroupCacheLogger;
}

export interface UsergroupCache {
  members(groupId: string): Promise<ReadonlySet<string> | null>;
}

interface Entry {
  members: ReadonlySet<string> | null;
  fetchedAt: number;
  failedAt: number | null;
  inflight: Promise<void> | null;
}

const defaultLogger: UsergroupCacheLogger = {
  warn(fields, message) {
    console.warn(message, fields);
  },
};

class FetchTimeout extends Error {}

export function createUsergroupCache(options: UsergroupCacheOptions): UsergroupCache {
  const ttlMs = options.ttlMs ?? 5 * 60_000;
  const staleGraceMs = options.staleGraceMs ?? 60 * 60_000;
  const retryAfterFailureMs = options.retryAfterFailureMs ?? 15_000;
  const fetchTimeoutMs = options.fetchTimeoutMs ?? 5_000;
  const clock = options.clock ?? Date.now;
  const logger = options.logger ?? defaultLogger;
  const entries = new Map<string, Entry>();

  function usable(entry: Entry, now: number): ReadonlySet<string> | null {
    if (entry.members === null) return null;
    return now - entry.fetchedAt <= ttlMs + staleGraceMs ? entry.members : null;
  }

  function startFetch(groupId: string, entry: Entry): Promise<void> {
    const run = (async () => {
      try {
        const users = await options.fetchMembers(groupId);
        entry.members = new Set(users);
        entry.fetchedAt = clock();
        entry.failedAt = null;
      } catch (err) {
        entry.failedAt = clock();
        const stale = usable(entry, clock());
        logger.warn(
          { groupId, error: errorMessage(err), servingStale: stale !== null },
          stale
            ? 'Could not refresh approver group members from Slack; using the last known list'
            : 'Could not read approver group members from Slack; group approvals are refused until it answers',
        );
      } finally {
        entry.inflight = null;
      }
    })();
    entry.inflight = run;
    return run;
  }

  async function waitAtMost(run: Promise<void>, groupId: string): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new FetchTimeout()), fetchTimeoutMs);
      timer.unref();
    });
    try {
      await Promise.race([run, timeout]);
    } catch (err) {
      if (!(err instanceof FetchTimeout)) throw err;
      logger.warn(
        { groupId, timeoutMs: fetchTimeoutMs },
        'Slack is slow to list approver group members; answering from the cache',
      );
    } finally {
      clearTimeout(timer);
    }
  }

  async function members(groupId: string): Promise<ReadonlySet<string> | null> {
    let entry = entries.get(groupId);
    if (!entry) {
      entry = { members: null, fetchedAt: 0, failedAt: null, inflight: null };
      entries.set(groupId, entry);
    }
    const now = clock();
    if (entry.members !== null && now - entry.fetchedAt < ttlMs) return entry.members;
    const recentlyFailed = entry.failedAt !== null && now - entry.failedAt < retryAfterFailureMs;
    if (entry.inflight) {
      await waitAtMost(entry.inflight, groupId);
    } else if (!recentlyFailed) {
      await waitAtMost(startFetch(groupId, entry), groupId);
    }
    return usable(entry, clock());
  }

  return { members };
}

/** What slackUsergroupFetcher needs of a WebClient (or a fake one in tests). */
export interface UsergroupsClient {
  usergroups: {
    users: {
      list(args: { usergroup: string }): Promise<{ ok?: boolean; error?: string; users?: string[] }>;
    };
  };
}

export function slackUsergroupFetcher(client: UsergroupsClient): (groupId: string) => Promise<string[]> {
  return async (groupId) => {
    const res = await client.usergroups.users.list({ usergroup: groupId });
    // WebClient throws on ok:false itself; a hand-rolled client might not.
    if (res.ok === false) throw new Error(`usergroups.users.list failed: ${res.error ?? 'unknown error'}`);
    return res.users ?? [];
  };
}
