import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockText } from '../../sandbox/slack/local-slack.js';
import { makeConversation } from '../helpers/conversations.js';
import { eventually, type Harness, startHarness } from './bot-harness.js';

/**
 * Step-up confirmation and approvers from distinct groups (docs/approval-policies.md), through
 * signed requests to the running bot and the local Slack: restores and bulk restores need one
 * approval from each of two user groups, typed by the approver (the id, or the count) before it
 * counts.
 */

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    APPROVER_USER_IDS: '',
    APPROVER_GROUPS: 'S0ONCALL,S0DBA',
    REQUIRED_APPROVALS: '2',
    STEP_UP_OPERATIONS: 'restore,bulk-restore',
  });
  h.slack.setUsergroup('S0ONCALL', ['U_CAROL', 'U_ERIN']);
  h.slack.setUsergroup('S0DBA', ['U_FRANK']);
}, 60_000);
afterAll(async () => h?.stop());

async function approvals(requestId: string): Promise<Array<{ user_id: string; group_id: string | null }>> {
  const { rows } = await h.stack.db.pool.query<{ user_id: string; group_id: string | null }>(
    'SELECT user_id, group_id FROM zeus_recover.request_approvals WHERE request_id = $1 ORDER BY at',
    [requestId],
  );
  return rows;
}

async function requestState(requestId: string): Promise<string | undefined> {
  const { rows } = await h.stack.db.pool.query<{ state: string }>(
    'SELECT state FROM zeus_recover.requests WHERE id = $1',
    [requestId],
  );
  return rows[0]?.state;
}

/** Clicks Approve and returns the form it opened (the click's own views.open call). */
async function approveOpensForm(requestId: string, user: string, ts: string) {
  const before = h.slack.calls('views.open').length;
  const click = await h.click('request_approve', requestId, user, ts);
  expect(click.status).toBe(200);
  const opened = await h.slack.waitFor(
    () =>
      h.slack
        .calls('views.open')
        .slice(before)
        .find((c) => JSON.stringify(c.args).includes(requestId)),
    5000,
    `the form ${user}'s Approve opened`,
  );
  return opened.args.view as { callback_id: string; private_metadata: string; blocks: unknown[] };
}

describe('step-up confirmation and approvers from distinct groups', () => {
  it('counts an approval only after the typed id; one per group; the message names the group still missing', async () => {
    const id = 'c-e2e-policies';
    await h.stack.seed('postgres', id, makeConversation(id, 4));
    await h.slash(`restore ${id} --from postgres --reason two groups, typed`);
    const approval = await h.slack.waitFor(() => h.approvalMessage(id), 10_000, 'approval message');
    const first = h.thread(id).find((m) => m.ts === approval.ts);
    expect(blockText(first?.blocks ?? null).join(' ')).toMatch(/one member each of .*S0ONCALL.*S0DBA/);

    // Carol (on-call) gets the confirm form; a wrong id is a field error and counts as nothing.
    const form = await approveOpensForm(approval.requestId, 'U_CAROL', approval.ts);
    expect(form.callback_id).toBe('step_up_confirm_modal');
    const wrong = await h.submitView(
      'step_up_confirm_modal',
      'U_CAROL',
      { step_up_confirmation: 'c-e2e-other' },
      form.private_metadata,
    );
    expect(wrong.json).toMatchObject({
      response_action: 'errors',
      errors: { step_up_confirmation: expect.stringMatching(/not the conversation id .*not counted/) },
    });
    expect(await approvals(approval.requestId)).toEqual([]);

    const right = await h.submitView(
      'step_up_confirm_modal',
      'U_CAROL',
      { step_up_confirmation: ` ${id} ` },
      form.private_metadata,
    );
    expect(right.status).toBe(200);
    await eventually(async () => (await approvals(approval.requestId)).length === 1, 'Carol counted');
    expect(await approvals(approval.requestId)).toEqual([{ user_id: 'U_CAROL', group_id: 'S0ONCALL' }]);
    // The approval message, edited in place, says which group is still missing.
    await h.slack.waitFor(
      () =>
        /Still missing: an approval from a member of .*S0DBA/.test(
          blockText(h.thread(id).find((m) => m.ts === approval.ts)?.blocks ?? null).join(' '),
        ),
      10_000,
      'approval message names the missing group',
    );

    // Erin is on-call too: refused privately before any form, naming the group still missing.
    const erin = await h.click('request_approve', approval.requestId, 'U_ERIN', approval.ts);
    await h.slack.waitFor(() => h.slack.responses(erin.responseId).length > 0, 5000, 'Erin refused');
    const said = JSON.stringify(h.slack.responses(erin.responseId).map((r) => r.body));
    expect(said).toMatch(/already has its approval/);
    expect(said).toMatch(/Still missing: a member of <!subteam\^S0DBA>/);
    expect(await approvals(approval.requestId)).toHaveLength(1);
    expect(await requestState(approval.requestId)).toBe('requested');

    // Frank (DBA) completes it.
    const frankForm = await approveOpensForm(approval.requestId, 'U_FRANK', approval.ts);
    await h.submitView(
      'step_up_confirm_modal',
      'U_FRANK',
      { step_up_confirmation: id },
      frankForm.private_metadata,
    );
    await eventually(
      async () => (await requestState(approval.requestId)) === 'succeeded',
      'the restore',
      20_000,
    );
    expect(await approvals(approval.requestId)).toEqual([
      { user_id: 'U_CAROL', group_id: 'S0ONCALL' },
      { user_id: 'U_FRANK', group_id: 'S0DBA' },
    ]);
    expect(await h.stack.redis.client.exists(h.stack.redis.key(id))).toBe(1);
  });

  it('a crafted submission for a second on-call approver is refused as well; outsiders cannot deny', async () => {
    const id = 'c-e2e-policies-2';
    await h.stack.seed('postgres', id, makeConversation(id, 3));
    await h.slash(`restore ${id} --from postgres --reason crafted second`);
    const approval = await h.slack.waitFor(() => h.approvalMessage(id), 10_000, 'approval message');
    await h.submitView('step_up_confirm_modal', 'U_CAROL', { step_up_confirmation: id }, approval.requestId);
    await eventually(async () => (await approvals(approval.requestId)).length === 1, 'Carol counted');
    // No click, no form: Erin submits the confirmation form directly.
    const before = h.slack.calls('chat.postEphemeral').length;
    await h.submitView('step_up_confirm_modal', 'U_ERIN', { step_up_confirmation: id }, approval.requestId);
    const told = await h.slack.waitFor(
      () =>
        h.slack
          .calls('chat.postEphemeral')
          .slice(before)
          .find((c) => c.args.user === 'U_ERIN'),
      5000,
      'Erin told privately',
    );
    expect(JSON.stringify(told.args)).toMatch(/Still missing: a member of/);
    expect(await approvals(approval.requestId)).toEqual([{ user_id: 'U_CAROL', group_id: 'S0ONCALL' }]);

    // Deny is for the groups' members too: an outsider gets no reason form.
    const opened = h.slack.calls('views.open').length;
    const mallory = await h.click('request_deny', approval.requestId, 'U_MALLORY', approval.ts);
    await h.slack.waitFor(() => h.slack.responses(mallory.responseId).length > 0, 5000, 'Mallory refused');
    expect(JSON.stringify(h.slack.responses(mallory.responseId).map((r) => r.body))).toMatch(
      /Only members of <!subteam\^S0ONCALL> or <!subteam\^S0DBA> may deny here/,
    );
    expect(h.slack.calls('views.open')).toHaveLength(opened);
    const posted = h.slack.calls('chat.postEphemeral').length;
    await h.submitView('deny_reason_modal', 'U_MALLORY', { deny_reason: 'crafted' }, approval.requestId);
    const refusal = await h.slack.waitFor(
      () =>
        h.slack
          .calls('chat.postEphemeral')
          .slice(posted)
          .find((c) => c.args.user === 'U_MALLORY'),
      5000,
      'crafted deny refused privately',
    );
    expect(JSON.stringify(refusal.args)).toMatch(/may deny here/);
    expect(await requestState(approval.requestId)).toBe('requested');
  });

  it('a bulk restore: the typed count, one approval per group', async () => {
    const ids = ['c-e2e-bulkup-1', 'c-e2e-bulkup-2', 'c-e2e-bulkup-3'];
    for (const id of ids) await h.stack.seed('postgres', id, makeConversation(id, 3));
    await h.slash('bulk-restore --from postgres --since 1h --match c-e2e-bulkup-* --reason bulk, typed');
    const card = await h.bulkCard();
    const jobState = async () =>
      (
        await h.stack.db.pool.query<{ state: string }>(
          'SELECT state FROM zeus_recover.bulk_jobs WHERE id = $1',
          [card.jobId],
        )
      ).rows[0]?.state;
    const jobApprovals = async () =>
      (
        await h.stack.db.pool.query<{ user_id: string; group_id: string | null }>(
          'SELECT user_id, group_id FROM zeus_recover.bulk_job_approvals WHERE job_id = $1 ORDER BY at',
          [card.jobId],
        )
      ).rows;

    const before = h.slack.calls('views.open').length;
    await h.click('bulk_approve', card.jobId, 'U_CAROL', card.ts);
    const opened = await h.slack.waitFor(
      () =>
        h.slack
          .calls('views.open')
          .slice(before)
          .find((c) => JSON.stringify(c.args).includes(card.jobId)),
      5000,
      'the count form',
    );
    const form = opened.args.view as { callback_id: string; private_metadata: string };
    expect(form.callback_id).toBe('step_up_confirm_modal');
    const wrong = await h.submitView(
      'step_up_confirm_modal',
      'U_CAROL',
      { step_up_confirmation: '4' },
      form.private_metadata,
    );
    expect(wrong.json).toMatchObject({
      response_action: 'errors',
      errors: { step_up_confirmation: expect.stringMatching(/not the number of conversations .*\(3\)/) },
    });
    expect(await jobApprovals()).toEqual([]);
    await h.submitView(
      'step_up_confirm_modal',
      'U_CAROL',
      { step_up_confirmation: '3' },
      form.private_metadata,
    );
    await eventually(async () => (await jobApprovals()).length === 1, 'Carol counted');

    const erin = await h.click('bulk_approve', card.jobId, 'U_ERIN', card.ts);
    await h.slack.waitFor(() => h.slack.responses(erin.responseId).length > 0, 5000, 'Erin refused');
    expect(JSON.stringify(h.slack.responses(erin.responseId).map((r) => r.body))).toMatch(
      /Still missing: a member of <!subteam\^S0DBA>/,
    );
    expect(await jobState()).toBe('pending');

    await h.submitView('step_up_confirm_modal', 'U_FRANK', { step_up_confirmation: '3' }, card.jobId);
    await eventually(async () => (await jobState()) === 'succeeded', 'the bulk restore', 60_000);
    expect(await jobApprovals()).toEqual([
      { user_id: 'U_CAROL', group_id: 'S0ONCALL' },
      { user_id: 'U_FRANK', group_id: 'S0DBA' },
    ]);
    for (const id of ids) expect(await h.stack.redis.client.exists(h.stack.redis.key(id))).toBe(1);
    // Someone else's job is resumed (or cancelled) only by the groups' members.
    const mallory = await h.slash(`resume ${card.jobId} --reason mine now`, { user: 'U_MALLORY' });
    await h.slack.waitFor(
      () => /may resume here/.test(JSON.stringify(h.slack.responses(mallory.responseId).map((r) => r.body))),
      10_000,
      'Mallory may not resume',
    );
  }, 90_000);
});
