import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConversation } from '../helpers/conversations.js';
import { eventually, type Harness, startHarness } from './bot-harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    APPROVER_USER_IDS: '',
    APPROVER_USERGROUP_ID: 'S0APPROVE',
    REQUIRED_APPROVALS: '2',
  });
  h.slack.setUsergroup('S0APPROVE', ['U_CAROL', 'U_ERIN']);
}, 60_000);
afterAll(async () => h.stop());

async function requestState(requestId: string): Promise<string | undefined> {
  const { rows } = await h.stack.db.pool.query<{ state: string }>(
    'SELECT state FROM zeus_recover.requests WHERE id = $1',
    [requestId],
  );
  return rows[0]?.state;
}

describe('approvers from a Slack user group, two approvals required', () => {
  it('counts distinct group members, refuses outsiders, runs once at the second approval, and caches the group', async () => {
    const id = 'c-e2e-group';
    await h.stack.seed('postgres', id, makeConversation(id, 4));
    await h.slash(`restore ${id} --from postgres --reason two-person rule`);
    const approval = await h.slack.waitFor(() => h.approvalMessage(id), 10_000, 'approval');

    const outsider = await h.click('request_approve', approval.requestId, 'U_MALLORY', approval.ts);
    await h.slack.waitFor(() => h.slack.responses(outsider.responseId).length > 0, 5000, 'outsider refused');
    expect(JSON.stringify(h.slack.responses(outsider.responseId))).toMatch(/not an approver/);

    const first = await h.click('request_approve', approval.requestId, 'U_CAROL', approval.ts);
    await h.slack.waitFor(() => h.slack.responses(first.responseId).length > 0, 5000, 'first approval');
    expect(JSON.stringify(h.slack.responses(first.responseId))).toMatch(/1 of 2/);
    const again = await h.click('request_approve', approval.requestId, 'U_CAROL', approval.ts);
    await h.slack.waitFor(() => h.slack.responses(again.responseId).length > 0, 5000, 'same approver again');
    expect(await requestState(approval.requestId)).toBe('requested');
    expect(await h.stack.redis.client.exists(h.stack.redis.key(id))).toBe(0);

    await h.click('request_approve', approval.requestId, 'U_ERIN', approval.ts);
    await eventually(async () => (await requestState(approval.requestId)) === 'succeeded', 'the restore');
    expect(await h.stack.redis.client.exists(h.stack.redis.key(id))).toBe(1);
    // Four approval clicks, one group lookup: the membership is cached (tier-2 rate limit).
    expect(h.slack.calls('usergroups.users.list')).toHaveLength(1);
  });
});
