import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockText } from '../../sandbox/slack/local-slack.js';
import { appHomeOpenedBody, EVENT_HEADERS, postToApp } from '../../sandbox/slack/requests.js';
import { makeConversation } from '../helpers/conversations.js';
import { CHANNEL, eventually, findButton, type Harness, SECRET, startHarness } from './bot-harness.js';

/**
 * A bulk restore under APPROVER_GROUPS (docs/approval-policies.md), through signed requests to
 * the running bot and the local Slack: after the on-call group approved, the card (edited in
 * place) names the group still missing, and App Home offers the job only to a member of it.
 */
let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    APPROVER_USER_IDS: '',
    APPROVER_GROUPS: 'S0ONCALL,S0DBA',
    REQUIRED_APPROVALS: '2',
  });
  h.slack.setUsergroup('S0ONCALL', ['U_CAROL', 'U_ERIN']);
  h.slack.setUsergroup('S0DBA', ['U_FRANK']);
}, 60_000);
afterAll(async () => h?.stop());

const homeSection = (user: string, title: string) =>
  (h.slack.homeOf(user)?.text ?? []).find((t) => t.startsWith(title)) ?? '';

describe('a bulk restore with approvers from distinct groups', () => {
  it('the card names the group still missing; App Home offers the job only to that group', async () => {
    const ids = ['c-bulkgroups-1', 'c-bulkgroups-2'];
    for (const id of ids) await h.stack.seed('postgres', id, makeConversation(id, 3));
    await h.slash('bulk-restore --from postgres --since 1h --match c-bulkgroups-* --reason INC-12 groups', {
      user: 'U_ALICE',
    });
    const cardOf = (jobId?: string) => {
      for (const m of h.slack
        .messagesInChannel(CHANNEL)
        .flatMap((root) => h.slack.messagesInThread(CHANNEL, root.ts))) {
        const id = findButton(m.blocks, 'bulk_approve');
        if (id && (jobId === undefined || id === jobId)) return { ts: m.ts, jobId: id, blocks: m.blocks };
      }
      return undefined;
    };
    const card = await h.slack.waitFor(() => cardOf(), 20_000, 'bulk card');
    expect(blockText(card.blocks).join(' ')).not.toMatch(/Still missing/);

    await h.click('bulk_approve', card.jobId, 'U_CAROL', card.ts);
    await eventually(
      async () =>
        (
          await h.stack.db.pool.query('SELECT 1 FROM zeus_recover.bulk_job_approvals WHERE job_id = $1', [
            card.jobId,
          ])
        ).rowCount === 1,
      'Carol counted',
    );
    // The card, edited in place, keeps its buttons and says what the request card says.
    const edited = await h.slack.waitFor(
      () => {
        const now = cardOf(card.jobId);
        const text = blockText(now?.blocks ?? null).join(' ');
        return /Still missing/.test(text) ? text : undefined;
      },
      10_000,
      'the card names the missing group',
    );
    expect(edited).toMatch(/Counted for <!subteam\^S0ONCALL> by .*U_CAROL/);
    expect(edited).toMatch(/Still missing: an approval from a member of <!subteam\^S0DBA>/);

    for (const user of ['U_ERIN', 'U_FRANK']) {
      await postToApp(h.url(), appHomeOpenedBody({ user }), { secret: SECRET, headers: EVENT_HEADERS });
    }
    await h.slack.waitFor(
      () =>
        homeSection('U_ERIN', '*Bulk jobs*').includes(card.jobId) &&
        homeSection('U_FRANK', '*Bulk jobs*').includes(card.jobId),
      15_000,
      'both Home tabs list the job',
    );
    expect(homeSection('U_FRANK', '*For you to approve*')).toContain(card.jobId);
    // Erin is on-call like Carol: her approval would not count, so the job is not offered to her.
    expect(homeSection('U_ERIN', '*For you to approve*')).not.toContain(card.jobId);
    expect(homeSection('U_ERIN', '*Bulk jobs*')).toContain(
      'waits for approval from a member of <!subteam^S0DBA>',
    );
  }, 60_000);
});
