import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appHomeOpenedBody, EVENT_HEADERS, postToApp } from '../../sandbox/slack/requests.js';
import { seedMixed } from '../helpers/bulk.js';
import { makeConversation } from '../helpers/conversations.js';
import { CHANNEL, eventually, findButton, type Harness, SECRET, startHarness } from './bot-harness.js';

/**
 * Issue 12, items 3 and 4, over signed HTTP against two replicas of the bot and the local Slack:
 * the "expires soon" reply (once, whichever replica sweeps), Renew on an expired request (a fresh
 * preview that says when Redis changed), and App Home for people who may approve different things.
 *
 * REQUEST_TTL_MINUTES=1 with the default REQUEST_WARN_MINUTES=5: a request is due its warning at
 * once, so no test waits for a clock.
 */
let h: Harness;

beforeAll(async () => {
  h = await startHarness({ REQUEST_TTL_MINUTES: '1', MAX_DESTRUCTIVE_PER_HOUR: '50', BREAKER_FAILURES: '3' });
  await h.startAnotherBot();
}, 60_000);
afterAll(async () => h?.stop());

const SCHEMA = 'zeus_recover';

async function auditCount(action: string, requestId: string): Promise<number> {
  const { rows } = await h.stack.db.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${SCHEMA}.audit_log WHERE action = $1 AND request_id = $2`,
    [action, requestId],
  );
  return Number(rows[0]?.n ?? 0);
}

/** Sweep ticks completed so far, by any replica (pg-boss's own table, in the bot's jobs schema). */
async function sweepsDone(): Promise<number> {
  const { rows } = await h.stack.db.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${SCHEMA}_jobs.job WHERE name = 'zeus-recover-sweep' AND state = 'completed'`,
  );
  return Number(rows[0]?.n ?? 0);
}

async function requestRestore(id: string, user = 'U_ALICE') {
  const res = await h.slash(`restore ${id} --from postgres --reason INC-12 expiry and home`, { user });
  expect(res.status).toBe(200);
  return h.slack.waitFor(() => h.approvalMessage(id), 10_000, `approval message for ${id}`);
}

/** Closes a request's approval window now; the next sweep expires it and edits its card. */
async function expireNow(requestId: string): Promise<void> {
  await h.stack.db.pool.query(
    `UPDATE ${SCHEMA}.requests SET expires_at = now() - interval '1 second' WHERE id = $1`,
    [requestId],
  );
}

function renewButtonOn(id: string): { ts: string; requestId: string } | undefined {
  for (const m of h.thread(id)) {
    const value = findButton(m.blocks, 'request_renew');
    if (value) return { ts: m.ts, requestId: value };
  }
  return undefined;
}

describe('expiry warning', () => {
  it('is posted once in the thread, naming the requester and the approvers, with two replicas sweeping', async () => {
    const id = 'c-warn-once';
    await h.stack.seed('redis', id, makeConversation(id, 2));
    await h.stack.seed('postgres', id, makeConversation(id, 5));
    const approval = await requestRestore(id);
    const warning = await h.slack.waitFor(
      () => h.thread(id).find((m) => m.text.includes('still needs 1 approval')),
      10_000,
      'expiry warning',
    );
    // The test's ids are not Slack-shaped (U_…), so they show as text; real ids become mentions.
    expect(warning.text).toContain('U_ALICE, an approver (U_BOB, U_DAVE) can approve or deny it');
    expect(warning.text).toContain('expires in');
    // Both replicas keep sweeping; several more ticks pass and nothing is posted again.
    const after = await sweepsDone();
    await eventually(async () => (await sweepsDone()) >= after + 6, 'six more sweep ticks', 20_000);
    expect(await auditCount('request.expiring', approval.requestId)).toBe(1);
    expect(h.thread(id).filter((m) => m.text.includes('still needs 1 approval'))).toHaveLength(1);
    const { rows } = await h.stack.db.pool.query<{ warned: boolean }>(
      `SELECT warned_at IS NOT NULL AS warned FROM ${SCHEMA}.requests WHERE id = $1`,
      [approval.requestId],
    );
    expect(rows[0]?.warned).toBe(true);
  }, 40_000);
});

describe('Renew on an expired request', () => {
  async function expiredCard(id: string) {
    const approval = await requestRestore(id);
    await expireNow(approval.requestId);
    const renew = await h.slack.waitFor(() => renewButtonOn(id), 10_000, `Renew button on ${id}`);
    expect(renew.requestId).toBe(approval.requestId);
    return { approval, renew };
  }

  it('files a fresh request with the same plan; unchanged Redis is said to be unchanged', async () => {
    const id = 'c-renew-same';
    await h.stack.seed('redis', id, makeConversation(id, 2));
    await h.stack.seed('postgres', id, makeConversation(id, 5));
    const { approval, renew } = await expiredCard(id);
    const click = await h.click('request_renew', renew.requestId, 'U_ALICE', renew.ts, 1);
    expect(click.status).toBe(200);
    const fresh = await h.slack.waitFor(() => h.approvalMessage(id), 10_000, 'renewed approval message');
    expect(fresh.requestId).not.toBe(approval.requestId);
    const card = h.thread(id).find((m) => m.ts === fresh.ts);
    expect(JSON.stringify(card?.blocks)).not.toContain('Redis changed since the expired request');
    await h.slack.waitFor(
      () => h.transcript(id).find((l) => l.includes('renewed the restore') && l.includes('as it was')),
      10_000,
      'renewal note',
    );
    expect(await auditCount('request.renewed', approval.requestId)).toBe(1);
    // The expired card now says what it became, and a second click renews nothing.
    await h.slack.waitFor(
      () => {
        const old = h.thread(id).find((m) => m.ts === approval.ts);
        return (
          JSON.stringify(old?.blocks).includes(`Renewed as \`${fresh.requestId}\``) && !renewButtonOn(id)
        );
      },
      10_000,
      'the expired card edited',
    );
    const again = await h.click('request_renew', renew.requestId, 'U_DAVE', renew.ts);
    await h.slack.waitFor(
      () =>
        JSON.stringify(h.slack.responses(again.responseId)).includes(
          `already renewed, as ${fresh.requestId}`,
        ),
      10_000,
      'second Renew refused',
    );
    expect(await auditCount('request.renewed', approval.requestId)).toBe(1);
    const { rows } = await h.stack.db.pool.query<{ requester: string; reason: string; plan_source: string }>(
      `SELECT requester, reason, plan->'source'->>'tier' AS plan_source FROM ${SCHEMA}.requests WHERE id = $1`,
      [fresh.requestId],
    );
    expect(rows[0]).toMatchObject({
      requester: 'U_ALICE',
      reason: 'INC-12 expiry and home',
      plan_source: 'postgres',
    });
    // The renewed request is a request like any other: its approval runs the restore.
    await h.click('request_approve', fresh.requestId, 'U_BOB', fresh.ts);
    await eventually(
      async () => (await auditCount('restore.succeeded', fresh.requestId)) === 1,
      'the renewed restore',
      15_000,
    );
  }, 40_000);

  it('says so on the new preview when Redis changed since the expired request', async () => {
    const id = 'c-renew-changed';
    await h.stack.seed('redis', id, makeConversation(id, 2));
    await h.stack.seed('postgres', id, makeConversation(id, 5));
    const { approval, renew } = await expiredCard(id);
    await h.stack.seed('redis', id, makeConversation(id, 3));
    await h.click('request_renew', renew.requestId, 'U_DAVE', renew.ts);
    const fresh = await h.slack.waitFor(() => h.approvalMessage(id), 10_000, 'renewed approval message');
    expect(fresh.requestId).not.toBe(approval.requestId);
    const card = h.thread(id).find((m) => m.ts === fresh.ts);
    expect(JSON.stringify(card?.blocks)).toContain('Redis changed since the expired request');
    await h.slack.waitFor(
      () => h.transcript(id).find((l) => l.includes('renewed the restore') && l.includes('Redis changed')),
      10_000,
      'renewal note with the change',
    );
    // Whoever renews asks: Dave filed it, so Dave cannot approve it, and Alice's old request stays expired.
    const { rows } = await h.stack.db.pool.query<{ id: string; state: string; requester: string }>(
      `SELECT id, state, requester FROM ${SCHEMA}.requests WHERE id = ANY($1) ORDER BY created_at`,
      [[approval.requestId, fresh.requestId]],
    );
    expect(rows).toEqual([
      { id: approval.requestId, state: 'expired', requester: 'U_ALICE' },
      { id: fresh.requestId, state: 'requested', requester: 'U_DAVE' },
    ]);
  }, 40_000);

  it('refuses to renew a request that has not expired, and writes nothing', async () => {
    const id = 'c-renew-open';
    await h.stack.seed('redis', id, makeConversation(id, 2));
    await h.stack.seed('postgres', id, makeConversation(id, 5));
    const approval = await requestRestore(id);
    const click = await h.click('request_renew', approval.requestId, 'U_BOB', approval.ts);
    await h.slack.waitFor(
      () =>
        JSON.stringify(h.slack.responses(click.responseId)).includes(
          'only an expired request can be renewed',
        ),
      10_000,
      'refusal',
    );
    expect(await auditCount('request.renewed', approval.requestId)).toBe(0);
  }, 30_000);
});

describe('App Home', () => {
  async function openHome(user: string, bot = 0) {
    const res = await postToApp(h.url(bot), appHomeOpenedBody({ user }), {
      secret: SECRET,
      headers: EVENT_HEADERS,
    });
    expect(res.status).toBe(200);
  }

  /** The lines of the tab's "For you to approve" section. */
  function mine(user: string): string {
    const text = h.slack.homeOf(user)?.text ?? [];
    return text.find((t) => t.startsWith('*For you to approve*')) ?? '';
  }

  it('shows each person what they may approve, open requests with age and approvers, and refreshes on change', async () => {
    const a = 'c-home-alice';
    const b = 'c-home-bob';
    for (const id of [a, b]) {
      await h.stack.seed('redis', id, makeConversation(id, 2));
      await h.stack.seed('postgres', id, makeConversation(id, 5));
    }
    const alices = await requestRestore(a, 'U_ALICE');
    await requestRestore(b, 'U_BOB');

    await openHome('U_BOB', 0);
    await openHome('U_DAVE', 1);
    await openHome('U_ALICE', 1);
    await h.slack.waitFor(() => mine('U_BOB').includes(a) && mine('U_DAVE').includes(b), 15_000, 'home tabs');

    // Bob may approve Alice's request but not his own; Dave both; Alice (no approver) neither.
    expect(mine('U_BOB')).toContain(a);
    expect(mine('U_BOB')).not.toContain(b);
    expect(mine('U_DAVE')).toContain(a);
    expect(mine('U_DAVE')).toContain(b);
    await h.slack.waitFor(() => mine('U_ALICE') !== '', 15_000, "Alice's home tab");
    expect(mine('U_ALICE')).toContain('Nothing waits for your approval');

    const bobsTab = h.slack.homeOf('U_BOB')?.text.join('\n') ?? '';
    expect(bobsTab).toMatch(/\*Open requests\* \(\d+\)/);
    expect(bobsTab).toContain(`restore of \`${a}\` from \`postgres\``);
    expect(bobsTab).toContain('waits for 1 approval from an approver (U_BOB, U_DAVE)');
    expect(bobsTab).toContain('asked by U_ALICE');
    // The hourly limit and the breaker, as store/blast-radius.ts counts them.
    expect(bobsTab).toMatch(/Destructive requests in the last hour: \*\d+ of 50\*\./);
    expect(bobsTab).toContain('Circuit breaker: closed (0 of 3 failed restores in a row).');
    expect(bobsTab).toMatch(/<http:\/\/127\.0\.0\.1:\d+\/archives\/C_INC\/p\d+\|thread>/);

    // A change is published to those who looked, without opening the tab again: Bob approves
    // Alice's request, it runs, and Dave's tab lists it among the last recoveries with its thread.
    await h.click('request_approve', alices.requestId, 'U_BOB', alices.ts);
    await h.slack.waitFor(
      () => {
        const text = h.slack.homeOf('U_DAVE')?.text ?? [];
        const recent = text.find((t) => t.startsWith('*Last recoveries*')) ?? '';
        return (
          recent.includes(`✅ the restore of \`${a}\``) &&
          recent.includes('|thread>') &&
          !mine('U_DAVE').includes(a)
        );
      },
      20_000,
      "Dave's tab after the restore",
    );
    // Every publish was a valid Home view (the local Slack checks Block Kit limits on views.publish).
    expect(h.slack.calls('views.publish').length).toBeGreaterThan(0);
    expect(h.slack.okCalls('views.publish')).toEqual(h.slack.calls('views.publish'));
  }, 60_000);
});

describe('a pending bulk restore', () => {
  it('gets one expiry warning in its own thread and shows in App Home with its progress', async () => {
    await seedMixed(h.stack.db.pool, h.stack.redis.client, h.stack.redis.key, 20, 'c-bulkhome');
    const res = await h.slash(
      "bulk-restore --from postgres --since 1h --match 'c-bulkhome*' --reason INC-12 bulk and home",
    );
    expect(res.status).toBe(200);
    const root = await h.slack.waitFor(
      () => h.slack.messagesInChannel(CHANNEL).find((m) => /Zeus bulk restore: bj_/.test(m.text)),
      20_000,
      'bulk thread root',
    );
    const jobId = /(bj_[A-Za-z0-9_-]{20})/.exec(root.text)?.[1] ?? '';
    const thread = () => h.slack.messagesInThread(CHANNEL, root.ts);
    const warning = await h.slack.waitFor(
      () => thread().find((m) => m.text.includes(`Bulk restore \`${jobId}\` expires`)),
      15_000,
      'bulk expiry warning',
    );
    expect(warning.text).toContain('U_ALICE, an approver (U_BOB, U_DAVE) can approve or deny it');

    await postToApp(h.url(), appHomeOpenedBody({ user: 'U_DAVE' }), {
      secret: SECRET,
      headers: EVENT_HEADERS,
    });
    const bulkLine = () =>
      (h.slack.homeOf('U_DAVE')?.text ?? []).find((t) => t.startsWith('*Bulk jobs*'))?.includes(jobId);
    await h.slack.waitFor(() => bulkLine(), 15_000, 'the job in App Home');
    const forDave = (h.slack.homeOf('U_DAVE')?.text ?? []).find((t) => t.startsWith('*For you to approve*'));
    expect(forDave).toContain(jobId);

    // Approved, it runs to its end; Dave's tab follows without his opening it again.
    const card = thread().find((m) => findButton(m.blocks, 'bulk_approve') === jobId);
    expect(card).toBeDefined();
    await h.click('bulk_approve', jobId, 'U_DAVE', card?.ts ?? '');
    await h.slack.waitFor(
      () => {
        const line = (h.slack.homeOf('U_DAVE')?.text ?? []).find((t) => t.startsWith('*Bulk jobs*')) ?? '';
        return line.includes(`\`${jobId}\` succeeded`) && line.includes('20/20 (100%)');
      },
      30_000,
      'the finished job in App Home',
    );
    const sweeps = await sweepsDone();
    await eventually(async () => (await sweepsDone()) >= sweeps + 4, 'four more sweep ticks', 20_000);
    expect(thread().filter((m) => m.text.includes(`Bulk restore \`${jobId}\` expires`))).toHaveLength(1);
  }, 90_000);
});
