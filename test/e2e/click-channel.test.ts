import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockActionsBody, postToApp } from '../../sandbox/slack/requests.js';
import { makeConversation } from '../helpers/conversations.js';
import { type Harness, SECRET, startHarness } from './bot-harness.js';

let h: Harness;
let seq = 0;

beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => h.stop());

/** A click as Slack would send it from `channel` (the harness's own click is always #inc-42). */
async function clickFrom(channel: string, actionId: string, value: string, user: string, ts: string) {
  const responseId = `cc${++seq}`;
  const res = await postToApp(
    h.url(),
    blockActionsBody({
      user,
      channel,
      message_ts: ts,
      action_id: actionId,
      value,
      response_url: h.slack.responseUrl(responseId),
    }),
    { secret: SECRET },
  );
  expect(res.status).toBe(200);
  return h.slack.waitFor(
    () => h.slack.responses(responseId)[0]?.body,
    5000,
    `answer to ${actionId} from ${channel}`,
  );
}

async function requestState(requestId: string): Promise<string | undefined> {
  const { rows } = await h.stack.db.pool.query<{ state: string }>(
    'SELECT state FROM zeus_recover.requests WHERE id = $1',
    [requestId],
  );
  return rows[0]?.state;
}

async function auditCount(): Promise<number> {
  const { rows } = await h.stack.db.pool.query<{ n: number }>(
    'SELECT count(*)::int AS n FROM zeus_recover.audit_log',
  );
  return rows[0]?.n ?? 0;
}

describe('approve, deny and cancel count only from the request’s own channel', () => {
  it('refuses clicks from another channel or a DM, then honours the one from the incident channel', async () => {
    const id = 'c-click-elsewhere';
    await h.stack.seed('postgres', id, makeConversation(id, 4));
    await h.slash(`restore ${id} --from postgres --reason INC-7`);
    const approval = await h.slack.waitFor(() => h.approvalMessage(id), 10_000, 'approval message');
    const audited = await auditCount();

    for (const channel of ['C_GEN', 'D_DM', 'C_PRIV']) {
      for (const [action, user] of [
        ['request_approve', 'U_BOB'],
        ['request_deny', 'U_BOB'],
        ['request_cancel', 'U_ALICE'],
      ] as const) {
        const answer = await clickFrom(channel, action, approval.requestId, user, approval.ts);
        expect(JSON.stringify(answer)).toMatch(/belongs to another channel/);
      }
    }
    expect(h.slack.calls('views.open')).toHaveLength(0);
    expect(await requestState(approval.requestId)).toBe('requested');
    expect(await h.stack.redis.client.exists(h.stack.redis.key(id))).toBe(0);
    expect(await auditCount()).toBe(audited);

    await clickFrom('C_INC', 'request_approve', approval.requestId, 'U_BOB', approval.ts);
    await h.slack.waitFor(
      async () => (await h.stack.redis.client.exists(h.stack.redis.key(id))) === 1 || undefined,
      15_000,
      'the restore from the incident channel',
    );
  });

  it('an Undo click that names no backup changes nothing', async () => {
    // The restore above may still be recording its outcome: count only what an undo writes.
    const commands = async () =>
      (
        await h.stack.db.pool.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM zeus_recover.audit_log WHERE action = 'command.received'",
        )
      ).rows[0]?.n;
    const before = await commands();
    const answer = await clickFrom('C_INC', 'restore_undo', 'bk_../../x', 'U_BOB', '1.000001');
    expect(JSON.stringify(answer)).toMatch(/does not name a backup/);
    expect(await commands()).toBe(before);
    expect(
      await h.stack.db.pool.query('SELECT 1 FROM zeus_recover.requests WHERE kind = $1', ['undo']),
    ).toMatchObject({
      rowCount: 0,
    });
  });
});

describe('where the command is not allowed, the refusal comes first', () => {
  it('answers a DM with the refusal alone: no "Working on" before or after it', async () => {
    const res = await h.slash('inspect c-1', { channel: 'D_DM', channelName: 'directmessage' });
    expect(JSON.stringify(res.json)).toMatch(/incident channels/);
    expect(JSON.stringify(res.json)).not.toMatch(/Working on/);
    await new Promise((r) => setTimeout(r, 300));
    expect(JSON.stringify(h.slack.responses(res.responseId))).not.toMatch(/Working on/);
  });

  it('refuses before reading the text: a 40,000-character command in #general is just refused', async () => {
    const res = await h.slash(`restore c-1 --from s3 --reason ${'"a '.repeat(13_000)}`, {
      channel: 'C_GEN',
    });
    expect(JSON.stringify(res.json)).toMatch(/incident channels/);
    expect(JSON.stringify(res.json)).not.toMatch(/characters long/);
  });
});
