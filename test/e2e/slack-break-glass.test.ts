import { afterAll, describe, expect, it } from 'vitest';
import { blockText } from '../../sandbox/slack/local-slack.js';
import { appHomeOpenedBody, EVENT_HEADERS, postToApp } from '../../sandbox/slack/requests.js';
import { makeConversation } from '../helpers/conversations.js';
import { eventually, findButton, type Harness, SECRET, startHarness } from './bot-harness.js';

/**
 * Break-glass self-approval (docs/approval-policies.md) through signed requests to the running
 * bot and the local Slack: off by default, then on.
 */

let h: Harness | undefined;
afterAll(async () => h?.stop());

async function requestRow(requestId: string) {
  const { rows } = await (h as Harness).stack.db.pool.query<{
    state: string;
    needs_review: boolean;
    break_glass_reason: string | null;
    reviewed_by: string | null;
  }>('SELECT state, needs_review, break_glass_reason, reviewed_by FROM zeus_recover.requests WHERE id = $1', [
    requestId,
  ]);
  return rows[0];
}

async function auditActions(requestId: string): Promise<string[]> {
  const { rows } = await (h as Harness).stack.db.pool.query<{ action: string }>(
    'SELECT action FROM zeus_recover.audit_log WHERE request_id = $1 ORDER BY seq',
    [requestId],
  );
  return rows.map((r) => r.action);
}

async function openHome(harness: Harness, user: string) {
  const res = await postToApp(harness.url(), appHomeOpenedBody({ user }), {
    secret: SECRET,
    headers: EVENT_HEADERS,
  });
  expect(res.status).toBe(200);
}

/** A section of the App Home tab the bot last published for `user` (the local Slack's views.publish). */
const homeSection = (harness: Harness, user: string, title: string) =>
  (harness.slack.homeOf(user)?.text ?? []).find((t) => t.startsWith(`*${title}*`)) ?? '';

async function openRequest(harness: Harness, id: string) {
  await harness.stack.seed('postgres', id, makeConversation(id, 3));
  await harness.slash(`restore ${id} --from postgres --reason INC-9 night shift`);
  return harness.slack.waitFor(() => harness.approvalMessage(id), 10_000, `approval message for ${id}`);
}

describe('break-glass self-approval', () => {
  it('is off by default: the requester is refused, and a crafted break-glass form counts nothing', async () => {
    h = await startHarness();
    const id = 'c-e2e-glass-off';
    const approval = await openRequest(h, id);
    const click = await h.click('request_approve', approval.requestId, 'U_ALICE', approval.ts);
    await h.slack.waitFor(
      () => (h?.slack.responses(click.responseId).length ?? 0) > 0,
      5000,
      'requester refused',
    );
    expect(JSON.stringify(h.slack.responses(click.responseId).map((r) => r.body))).toMatch(
      /someone else must approve/i,
    );
    expect(h.slack.calls('views.open')).toHaveLength(0);
    const crafted = await h.submitView(
      'break_glass_modal',
      'U_ALICE',
      { break_glass_reason: 'every approver is asleep, I am sure of it' },
      approval.requestId,
    );
    expect(crafted.json).toMatchObject({
      response_action: 'errors',
      errors: { break_glass_reason: expect.stringMatching(/Break-glass is off/) },
    });
    expect(await requestRow(approval.requestId)).toMatchObject({ state: 'requested', needs_review: false });
    await h.stop();
    h = undefined;
  }, 60_000);

  it('on: a short reason is refused, a long one approves loudly, and only someone else clears the review flag', async () => {
    // Approver ids Slack renders as mentions, so the notice can be seen to notify them.
    h = await startHarness({ BREAK_GLASS: 'on', APPROVER_USER_IDS: 'U0BOB,U0DAVE' });
    const id = 'c-e2e-glass-on';
    const approval = await openRequest(h, id);
    await h.click('request_approve', approval.requestId, 'U_ALICE', approval.ts);
    const opened = await h.slack.waitFor(
      () => h?.slack.calls('views.open').find((c) => JSON.stringify(c.args).includes(approval.requestId)),
      5000,
      'break-glass form',
    );
    const form = opened.args.view as { callback_id: string; private_metadata: string };
    expect(form.callback_id).toBe('break_glass_modal');

    const short = await h.submitView(
      'break_glass_modal',
      'U_ALICE',
      { break_glass_reason: 'nobody around' },
      form.private_metadata,
    );
    expect(short.json).toMatchObject({
      response_action: 'errors',
      errors: { break_glass_reason: expect.stringMatching(/at least 20 characters \(this one has 13\)/) },
    });
    expect((await requestRow(approval.requestId))?.state).toBe('requested');

    const reason = 'both approvers are on a plane until 09:00';
    const long = await h.submitView(
      'break_glass_modal',
      'U_ALICE',
      { break_glass_reason: reason },
      form.private_metadata,
    );
    expect(long.status).toBe(200);
    await eventually(
      async () => (await requestRow(approval.requestId))?.state === 'succeeded',
      'the restore',
      20_000,
    );
    expect(await requestRow(approval.requestId)).toMatchObject({
      needs_review: true,
      break_glass_reason: reason,
    });

    // Loud in the thread, mentioning the approvers.
    const notice = await h.slack.waitFor(
      () =>
        h
          ?.thread(id)
          .find((m) => /Break-glass/.test(m.text) && findButton(m.blocks, 'request_mark_reviewed')),
      10_000,
      'break-glass notice with Mark reviewed',
    );
    const shown = blockText(notice.blocks).join(' ');
    expect(shown).toMatch(/approved their own restore/);
    expect(shown).toContain(reason);
    expect(JSON.stringify(notice.blocks)).toMatch(/<@U0BOB>.*<@U0DAVE>/);

    // App Home: the line is flagged for everyone; Bob (not the requester) sees it awaiting his review.
    await openHome(h, 'U0BOB');
    await openHome(h, 'U_ALICE');
    const flag = '⚠️ needs review (break-glass by U_ALICE)';
    const bobs = await h.slack.waitFor(
      () => {
        const review = homeSection(h as Harness, 'U0BOB', 'Needs review');
        return review.includes(id) ? review : undefined;
      },
      15_000,
      "Bob's Needs review section",
    );
    expect(bobs).toMatch(/^\*Needs review\* \(1\)/);
    expect(bobs).toContain(flag);
    expect(homeSection(h, 'U0BOB', 'Last recoveries')).toContain(flag);
    await h.slack.waitFor(
      () => homeSection(h as Harness, 'U_ALICE', 'Last recoveries').includes(flag),
      15_000,
      "the flag on Alice's line",
    );
    expect(homeSection(h, 'U_ALICE', 'Needs review')).toBe('');

    // The requester cannot clear it; someone else can.
    const own = await h.click('request_mark_reviewed', approval.requestId, 'U_ALICE', notice.ts);
    await h.slack.waitFor(
      () => (h?.slack.responses(own.responseId).length ?? 0) > 0,
      5000,
      'own review refused',
    );
    expect(JSON.stringify(h.slack.responses(own.responseId).map((r) => r.body))).toMatch(
      /someone else has to review/,
    );
    expect((await requestRow(approval.requestId))?.needs_review).toBe(true);

    await h.click('request_mark_reviewed', approval.requestId, 'U0BOB', notice.ts);
    await eventually(
      async () => (await requestRow(approval.requestId))?.needs_review === false,
      'review flag cleared',
    );
    expect((await requestRow(approval.requestId))?.reviewed_by).toBe('U0BOB');
    await h.slack.waitFor(
      () => h?.transcript(id).some((l) => /reviewed by/.test(l)),
      10_000,
      'reviewed in thread',
    );
    expect(await auditActions(approval.requestId)).toEqual(
      expect.arrayContaining(['request.created', 'request.break_glass', 'request.reviewed']),
    );

    // App Home is refreshed without the flag and without the section.
    await h.slack.waitFor(
      () =>
        homeSection(h as Harness, 'U0BOB', 'Last recoveries').includes(id) &&
        !(h as Harness).slack.homeOf('U0BOB')?.text.join('\n').includes('needs review'),
      15_000,
      "Bob's tab after the review",
    );
    expect(homeSection(h, 'U0BOB', 'Needs review')).toBe('');
    expect(h.slack.okCalls('views.publish')).toEqual(h.slack.calls('views.publish'));

    // The notice itself is edited in place: the button gives way to who reviewed it and when.
    const edited = await h.slack.waitFor(
      () => h?.thread(id).find((m) => m.ts === notice.ts && !findButton(m.blocks, 'request_mark_reviewed')),
      10_000,
      'the notice without its Mark reviewed button',
    );
    expect(blockText(edited.blocks).join(' ')).toMatch(/Reviewed by <@U0BOB> at \d\d:\d\d:\d\d UTC/);
    expect(blockText(edited.blocks).join(' ')).toContain(reason);

    // A second click (an old copy of the button) is answered privately and posts nothing.
    const before = h.thread(id).length;
    const again = await h.click('request_mark_reviewed', approval.requestId, 'U0DAVE', notice.ts);
    await h.slack.waitFor(
      () => (h?.slack.responses(again.responseId).length ?? 0) > 0,
      5000,
      'second review answered',
    );
    const answer = h.slack.responses(again.responseId).map((r) => r.body);
    expect(JSON.stringify(answer)).toMatch(/Already reviewed by <@U0BOB> at \d\d:\d\d:\d\d UTC/);
    expect(JSON.stringify(answer)).toMatch(/ephemeral/);
    expect(h.thread(id)).toHaveLength(before);
    expect((await auditActions(approval.requestId)).filter((a) => a === 'request.reviewed')).toHaveLength(1);
  }, 60_000);
});
