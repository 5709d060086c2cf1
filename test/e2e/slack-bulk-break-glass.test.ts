import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockText } from '../../sandbox/slack/local-slack.js';
import { appHomeOpenedBody, EVENT_HEADERS, postToApp } from '../../sandbox/slack/requests.js';
import { makeConversation } from '../helpers/conversations.js';
import {
  CHANNEL,
  eventually,
  findButton,
  type Harness,
  SECRET,
  startHarness,
  withoutButton,
} from './bot-harness.js';

/**
 * Break-glass for a bulk restore (BREAK_GLASS=on, docs/approval-policies.md) through signed
 * requests to the running bot and the local Slack: the requester's Approve opens the reason form,
 * a short reason approves nothing, a long one runs the job with a loud notice mentioning the
 * approvers, and only someone else clears its needs-review flag. All of it audited.
 */
let h: Harness;

beforeAll(async () => {
  // Approver ids Slack renders as mentions, so the notice can be seen to notify them.
  h = await startHarness({ BREAK_GLASS: 'on', APPROVER_USER_IDS: 'U0BOB,U0DAVE' });
}, 60_000);
afterAll(async () => h?.stop());

async function jobRow(jobId: string) {
  const { rows } = await h.stack.db.pool.query<{
    state: string;
    needs_review: boolean;
    break_glass_reason: string | null;
    reviewed_by: string | null;
  }>(
    'SELECT state, needs_review, break_glass_reason, reviewed_by FROM zeus_recover.bulk_jobs WHERE id = $1',
    [jobId],
  );
  return rows[0];
}

async function openHome(user: string) {
  const res = await postToApp(h.url(), appHomeOpenedBody({ user }), {
    secret: SECRET,
    headers: EVENT_HEADERS,
  });
  expect(res.status).toBe(200);
}

/** A section of the App Home tab the bot last published for `user` (the local Slack's views.publish). */
const homeSection = (user: string, title: string) =>
  (h.slack.homeOf(user)?.text ?? []).find((t) => t.startsWith(`*${title}*`)) ?? '';

const jobThread = (jobId: string) => {
  const root = h.slack.messagesInChannel(CHANNEL).find((m) => m.text.includes(`Zeus bulk restore: ${jobId}`));
  return root ? h.slack.messagesInThread(CHANNEL, root.ts) : [];
};

describe('break-glass for a bulk restore', () => {
  it('a short reason is refused, a long one runs the job loudly, and only someone else clears the review', async () => {
    const ids = ['c-bulkglass-1', 'c-bulkglass-2', 'c-bulkglass-3'];
    for (const id of ids) await h.stack.seed('postgres', id, makeConversation(id, 3));
    await h.slash(
      'bulk-restore --from postgres --since 1h --match c-bulkglass-* --reason INC-12 Redis lost',
      {
        user: 'U_ALICE',
      },
    );
    const card = await h.bulkCard();

    await h.click('bulk_approve', card.jobId, 'U_ALICE', card.ts);
    const opened = await h.slack.waitFor(
      () => h.slack.calls('views.open').find((c) => JSON.stringify(c.args).includes(card.jobId)),
      5000,
      'break-glass form',
    );
    const form = opened.args.view as { callback_id: string; private_metadata: string };
    expect(form.callback_id).toBe('break_glass_modal');
    expect(form.private_metadata).toBe(card.jobId);

    const short = await h.submitView(
      'break_glass_modal',
      'U_ALICE',
      { break_glass_reason: 'nobody around' },
      card.jobId,
    );
    expect(short.json).toMatchObject({
      response_action: 'errors',
      errors: { break_glass_reason: expect.stringMatching(/at least 20 characters \(this one has 13\)/) },
    });
    expect((await jobRow(card.jobId))?.state).toBe('pending');

    const reason = 'whole Redis lost at 3 a.m., no approver answers the page';
    const long = await h.submitView(
      'break_glass_modal',
      'U_ALICE',
      { break_glass_reason: reason },
      card.jobId,
    );
    expect(long.status).toBe(200);
    await eventually(
      async () => (await jobRow(card.jobId))?.state === 'succeeded',
      'the bulk restore',
      60_000,
    );
    expect(await jobRow(card.jobId)).toMatchObject({ needs_review: true, break_glass_reason: reason });
    for (const id of ids) expect(await h.stack.redis.client.exists(h.stack.redis.key(id))).toBe(1);

    // Loud in the job's thread, mentioning the approvers, with Mark reviewed.
    const notice = await h.slack.waitFor(
      () =>
        jobThread(card.jobId).find(
          (m) => /Break-glass/.test(m.text) && findButton(m.blocks, 'request_mark_reviewed') === card.jobId,
        ),
      10_000,
      'break-glass notice with Mark reviewed',
    );
    const shown = blockText(notice.blocks).join(' ');
    expect(shown).toMatch(/approved their own bulk restore of 3 conversations/);
    expect(shown).toContain(reason);
    expect(JSON.stringify(notice.blocks)).toMatch(/<@U0BOB>.*<@U0DAVE>/);

    // App Home: the job's line is flagged; Bob (not the requester) sees it awaiting his review.
    await openHome('U0BOB');
    await openHome('U_ALICE');
    const flag = '⚠️ needs review (break-glass by U_ALICE)';
    const bobs = await h.slack.waitFor(
      () => {
        const review = homeSection('U0BOB', 'Needs review');
        return review.includes(card.jobId) ? review : undefined;
      },
      15_000,
      "Bob's Needs review section",
    );
    expect(bobs).toContain(`bulk restore \`${card.jobId}\` of 3 conversations · ${flag}`);
    await h.slack.waitFor(
      () => homeSection('U_ALICE', 'Bulk jobs').includes(flag),
      15_000,
      "the flag on Alice's job line",
    );
    expect(homeSection('U0BOB', 'Bulk jobs')).toContain(flag);
    expect(homeSection('U_ALICE', 'Needs review')).toBe('');

    const own = await h.click('request_mark_reviewed', card.jobId, 'U_ALICE', notice.ts);
    await h.slack.waitFor(() => h.slack.responses(own.responseId).length > 0, 5000, 'own review refused');
    expect(JSON.stringify(h.slack.responses(own.responseId).map((r) => r.body))).toMatch(
      /someone else has to review/,
    );
    expect((await jobRow(card.jobId))?.needs_review).toBe(true);

    await h.click('request_mark_reviewed', card.jobId, 'U0BOB', notice.ts);
    await eventually(async () => (await jobRow(card.jobId))?.needs_review === false, 'review flag cleared');
    expect((await jobRow(card.jobId))?.reviewed_by).toBe('U0BOB');
    await h.slack.waitFor(
      () => jobThread(card.jobId).some((m) => /reviewed by/.test(m.text)),
      10_000,
      'reviewed in the thread',
    );

    const { rows } = await h.stack.db.pool.query<{ action: string; actor: string; reason: string | null }>(
      `SELECT action, actor, (data::jsonb)->>'reason' AS reason FROM zeus_recover.audit_log
        WHERE conversation_id = $1 AND action IN ('bulk.break_glass', 'bulk.reviewed') ORDER BY seq`,
      [card.jobId],
    );
    expect(rows).toEqual([
      { action: 'bulk.break_glass', actor: 'slack:U_ALICE', reason },
      { action: 'bulk.reviewed', actor: 'slack:U0BOB', reason: null },
    ]);

    // App Home is refreshed without the flag and without the section.
    await h.slack.waitFor(
      () =>
        homeSection('U0BOB', 'Bulk jobs').includes(card.jobId) &&
        !h.slack.homeOf('U0BOB')?.text.join('\n').includes('needs review'),
      15_000,
      "Bob's tab after the review",
    );
    expect(homeSection('U0BOB', 'Needs review')).toBe('');
    expect(h.slack.okCalls('views.publish')).toEqual(h.slack.calls('views.publish'));

    // The notice itself is edited in place: the button gives way to who reviewed it and when.
    const edited = await withoutButton(
      h,
      () => jobThread(card.jobId),
      notice.ts,
      'request_mark_reviewed',
      'the notice without its Mark reviewed button',
    );
    expect(blockText(edited.blocks).join(' ')).toMatch(/Reviewed by <@U0BOB> at \d\d:\d\d:\d\d UTC/);
    expect(blockText(edited.blocks).join(' ')).toMatch(/bulk restore of 3 conversations/);

    // A second click (an old copy of the button) is answered privately and posts nothing.
    const before = jobThread(card.jobId).length;
    const again = await h.click('request_mark_reviewed', card.jobId, 'U0DAVE', notice.ts);
    await h.slack.waitFor(
      () => h.slack.responses(again.responseId).length > 0,
      5000,
      'second review answered',
    );
    const answer = JSON.stringify(h.slack.responses(again.responseId).map((r) => r.body));
    expect(answer).toMatch(/Already reviewed by <@U0BOB> at \d\d:\d\d:\d\d UTC/);
    expect(answer).toMatch(/ephemeral/);
    expect(jobThread(card.jobId)).toHaveLength(before);
    const { rows: reviews } = await h.stack.db.pool.query(
      `SELECT seq FROM zeus_recover.audit_log WHERE conversation_id = $1 AND action = 'bulk.reviewed'`,
      [card.jobId],
    );
    expect(reviews).toHaveLength(1);
  }, 90_000);
});
