import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appHomeOpenedBody, EVENT_HEADERS, postToApp } from '../../sandbox/slack/requests.js';
import { makeConversation } from '../helpers/conversations.js';
import { type Harness, SECRET, startHarness } from './bot-harness.js';

/**
 * App Home under APPROVER_GROUPS (docs/approval-policies.md): after one group has approved, the
 * request is listed "for you to approve" only for members of a group still missing, and its line
 * names that group.
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

const forYou = (user: string) =>
  (h.slack.homeOf(user)?.text ?? []).find((t) => t.startsWith('*For you to approve*')) ?? '';
const openLines = (user: string) =>
  (h.slack.homeOf(user)?.text ?? []).find((t) => t.startsWith('*Open requests*')) ?? '';

describe('App Home with approver groups', () => {
  it('offers the request only to members of a group that has not approved yet', async () => {
    const id = 'c-home-groups';
    await h.stack.seed('redis', id, makeConversation(id, 2));
    await h.stack.seed('postgres', id, makeConversation(id, 5));
    await h.slash(`restore ${id} --from postgres --reason INC-12 groups`, { user: 'U_ALICE' });
    const approval = await h.slack.waitFor(() => h.approvalMessage(id), 10_000, 'approval message');
    await h.click('request_approve', approval.requestId, 'U_CAROL', approval.ts);
    await h.slack.waitFor(
      () => h.transcript(id).some((l) => /U_CAROL approved/.test(l)),
      10_000,
      "Carol's approval",
    );

    for (const user of ['U_ERIN', 'U_FRANK']) {
      await postToApp(h.url(), appHomeOpenedBody({ user }), { secret: SECRET, headers: EVENT_HEADERS });
    }
    await h.slack.waitFor(
      () => openLines('U_ERIN').includes(id) && openLines('U_FRANK').includes(id),
      15_000,
      'both Home tabs',
    );
    expect(forYou('U_FRANK')).toContain(id);
    expect(forYou('U_ERIN')).not.toContain(id);
    expect(openLines('U_ERIN')).toContain('waits for 1 approval from a member of <!subteam^S0DBA>');
  }, 40_000);
});
