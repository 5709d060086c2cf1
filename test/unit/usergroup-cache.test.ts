import { LogLevel, WebClient } from '@slack/web-api';
import nock from 'nock';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createUsergroupCache, slackUsergroupFetcher } from '../../src/approval/usergroup-cache.js';

const API = 'https://slack.test';

function client(): WebClient {
  return new WebClient('xoxb-test', {
    slackApiUrl: `${API}/api/`,
    retryConfig: { retries: 0 },
    logLevel: LogLevel.ERROR,
  });
}

/** Answers usergroups.users.list for `group`, counting calls; `times` answers at most. */
function slackAnswers(group: string, users: string[], times = 1) {
  let calls = 0;
  const scope = nock(API)
    .post('/api/usergroups.users.list', (body: Record<string, unknown>) => body.usergroup === group)
    .times(times)
    .reply(200, () => {
      calls += 1;
      return { ok: true, users };
    });
  return { scope, calls: () => calls };
}

function quietLogger() {
  const warnings: Array<{ fields: Record<string, unknown>; message: string }> = [];
  return {
    warnings,
    warn: (fields: Record<string, unknown>, message: string) => warnings.push({ fields, message }),
  };
}

beforeAll(() => {
  nock.disableNetConnect();
});
afterEach(() => {
  nock.cleanAll();
});
afterAll(() => {
  nock.enableNetConnect();
});

describe('usergroup cache over the real WebClient', () => {
  it('asks Slack once for many lookups within the TTL, and again after it', async () => {
    let now = 1_000_000;
    const first = slackAnswers('S0SRE', ['U1', 'U2']);
    const cache = createUsergroupCache({
      fetchMembers: slackUsergroupFetcher(client()),
      ttlMs: 60_000,
      clock: () => now,
    });
    const sets = await Promise.all(Array.from({ length: 10 }, () => cache.members('S0SRE')));
    for (const s of sets) expect(s && [...s].sort()).toEqual(['U1', 'U2']);
    for (let i = 0; i < 5; i++) {
      now += 10_000;
      expect((await cache.members('S0SRE'))?.has('U1')).toBe(true);
    }
    expect(first.calls()).toBe(1);
    expect(first.scope.isDone()).toBe(true);

    now += 60_000;
    const second = slackAnswers('S0SRE', ['U2', 'U3']);
    const fresh = await cache.members('S0SRE');
    expect(fresh && [...fresh].sort()).toEqual(['U2', 'U3']);
    expect(second.calls()).toBe(1);
  });

  it('keeps groups apart', async () => {
    const a = slackAnswers('S0A', ['UA']);
    const b = slackAnswers('S0B', ['UB']);
    const cache = createUsergroupCache({ fetchMembers: slackUsergroupFetcher(client()) });
    const [ma, mb] = await Promise.all([cache.members('S0A'), cache.members('S0B')]);
    expect(ma?.has('UA')).toBe(true);
    expect(mb?.has('UB')).toBe(true);
    expect(ma?.has('UB')).toBe(false);
    expect([a.calls(), b.calls()]).toEqual([1, 1]);
  });

  it('serves the last good list when Slack fails, with a warning, and null past the grace period', async () => {
    let now = 0;
    const log = quietLogger();
    slackAnswers('S0SRE', ['U1']);
    const cache = createUsergroupCache({
      fetchMembers: slackUsergroupFetcher(client()),
      ttlMs: 1000,
      staleGraceMs: 10_000,
      retryAfterFailureMs: 0,
      clock: () => now,
      logger: log,
    });
    expect((await cache.members('S0SRE'))?.has('U1')).toBe(true);

    now = 5000;
    nock(API).post('/api/usergroups.users.list').reply(200, { ok: false, error: 'ratelimited' });
    expect((await cache.members('S0SRE'))?.has('U1')).toBe(true);
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]?.message).toMatch(/using the last known list/);
    expect(log.warnings[0]?.fields).toMatchObject({ groupId: 'S0SRE', servingStale: true });

    now = 20_000;
    nock(API).post('/api/usergroups.users.list').reply(500, 'oops');
    expect(await cache.members('S0SRE')).toBeNull();
    expect(log.warnings[1]?.message).toMatch(/refused until it answers/);
  });

  it('is null, not an empty group, when Slack never answered', async () => {
    const log = quietLogger();
    nock(API).post('/api/usergroups.users.list').reply(200, { ok: false, error: 'no_such_subteam' });
    const cache = createUsergroupCache({ fetchMembers: slackUsergroupFetcher(client()), logger: log });
    expect(await cache.members('S0NOPE')).toBeNull();
    expect(log.warnings).toHaveLength(1);
  });
});

describe('usergroup cache behaviour', () => {
  it('shares one fetch among concurrent callers', async () => {
    let calls = 0;
    let release: (users: string[]) => void = () => {};
    const cache = createUsergroupCache({
      fetchMembers: () => {
        calls += 1;
        return new Promise<string[]>((resolve) => {
          release = resolve;
        });
      },
    });
    const waiting = Array.from({ length: 20 }, () => cache.members('S0SRE'));
    release(['U1']);
    const results = await Promise.all(waiting);
    expect(calls).toBe(1);
    expect(new Set(results).size).toBe(1);
  });

  it('does not hammer Slack after a failure, then tries again', async () => {
    let now = 0;
    let calls = 0;
    let fail = true;
    const cache = createUsergroupCache({
      fetchMembers: async () => {
        calls += 1;
        if (fail) throw new Error('slack down');
        return ['U1'];
      },
      retryAfterFailureMs: 15_000,
      clock: () => now,
      logger: quietLogger(),
    });
    expect(await cache.members('S0SRE')).toBeNull();
    now = 5000;
    expect(await cache.members('S0SRE')).toBeNull();
    expect(calls).toBe(1);
    fail = false;
    now = 16_000;
    expect((await cache.members('S0SRE'))?.has('U1')).toBe(true);
    expect(calls).toBe(2);
  });

  it('answers from the cache when Slack is slow, and fills it when the answer lands', async () => {
    let now = 0;
    let release: (users: string[]) => void = () => {};
    let calls = 0;
    const log = quietLogger();
    const cache = createUsergroupCache({
      fetchMembers: async () => {
        calls += 1;
        if (calls === 1) return ['U1'];
        return new Promise<string[]>((resolve) => {
          release = resolve;
        });
      },
      ttlMs: 1000,
      fetchTimeoutMs: 20,
      clock: () => now,
      logger: log,
    });
    expect((await cache.members('S0SRE'))?.has('U1')).toBe(true);
    now = 2000;
    const stale = await cache.members('S0SRE');
    expect(stale?.has('U1')).toBe(true);
    expect(log.warnings[0]?.message).toMatch(/slow/);
    release(['U2']);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect((await cache.members('S0SRE'))?.has('U2')).toBe(true);
    expect(calls).toBe(2);
  });
});
