import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockText } from '../../sandbox/slack/local-slack.js';
import { makeConversation } from '../helpers/conversations.js';
import { type FaultProxy, holding, startFaultProxy } from '../helpers/fault-proxy.js';
import { CHANNEL, eventually, findButton, type Harness, startHarness } from './bot-harness.js';

/**
 * Blast-radius limits (docs/approval-policies.md) through signed requests to the running bot and
 * the local Slack: at most 3 destructive requests an hour, and a breaker that stops approvals
 * after 2 failed restores in a row until a reset approved by someone else. Restores are made to
 * fail for real: the bot's Redis is behind a fault proxy that corrupts the shadow copy's write.
 */

let h: Harness;
let redisProxy: FaultProxy;

beforeAll(async () => {
  redisProxy = await startFaultProxy({ port: 6379 });
  h = await startHarness((stackEnv) => {
    const redisUrl = new URL(stackEnv.REDIS_URL ?? 'redis://127.0.0.1:6379');
    return {
      REDIS_URL: `redis://${redisProxy.address}${redisUrl.pathname}`,
      MAX_DESTRUCTIVE_PER_HOUR: '3',
      BREAKER_FAILURES: '2',
    };
  });
}, 60_000);
afterAll(async () => {
  await h?.stop();
  await redisProxy?.stop();
});

/** The write of the new value to a shadow key (not the promote script naming it). */
const SHADOW_SET = (chunk: Buffer) =>
  holding('set', 'zeus-recover:shadow:')(chunk) && !holding('eval')(chunk);

async function requestState(requestId: string): Promise<string | undefined> {
  const { rows } = await h.stack.db.pool.query<{ state: string }>(
    'SELECT state FROM zeus_recover.requests WHERE id = $1',
    [requestId],
  );
  return rows[0]?.state;
}

async function ask(id: string): Promise<{ responseId: string }> {
  await h.stack.seed('redis', id, makeConversation(id, 2));
  await h.stack.seed('postgres', id, makeConversation(id, 5));
  const res = await h.slash(`restore ${id} --from postgres --reason INC-77 blast radius`);
  expect(res.status).toBe(200);
  return res;
}

async function privately(responseId: string, what: RegExp): Promise<string> {
  const said = () => JSON.stringify(h.slack.responses(responseId).map((r) => r.body));
  await h.slack
    .waitFor(() => what.test(said()), 10_000, `private answer matching ${what}`)
    .catch((err: Error) => {
      throw new Error(`${err.message}\n${said()}`);
    });
  return said();
}

async function failedRestore(id: string): Promise<void> {
  const armed = redisProxy.arm({
    match: SHADOW_SET,
    fault: {
      rewrite: (chunk) => {
        const at = chunk.lastIndexOf('"steps"');
        if (at < 0) return chunk;
        const copy = Buffer.from(chunk);
        copy.write('Z', at + 1, 'latin1');
        return copy;
      },
    },
  });
  await ask(id);
  const approval = await h.slack.waitFor(() => h.approvalMessage(id), 10_000, `approval of ${id}`);
  await h.click('request_approve', approval.requestId, 'U_BOB', approval.ts);
  await eventually(async () => (await requestState(approval.requestId)) === 'failed', `${id} failed`, 20_000);
  expect(armed.hasFired).toBe(true);
}

describe('blast-radius limits', () => {
  it('refuses past the hourly limit, stops approvals after failures in a row, until an approved reset', async () => {
    // Two restores fail for real: the breaker (2 in a row) opens.
    await failedRestore('c-blast-1');
    await failedRestore('c-blast-2');

    // A third request still opens (3 of 3 this hour)…
    await ask('c-blast-3');
    const third = await h.slack.waitFor(() => h.approvalMessage('c-blast-3'), 10_000, 'third approval');
    // …a fourth does not: the count, and when the window frees.
    const fourth = await ask('c-blast-4');
    const refusal = await privately(fourth.responseId, /limit is 3/);
    expect(refusal).toMatch(/3 destructive requests were opened in the last hour/);
    expect(refusal).toMatch(/next slot frees at \d\d:\d\d UTC/);
    const { rows: opened } = await h.stack.db.pool.query(
      "SELECT 1 FROM zeus_recover.requests WHERE conversation_id = 'c-blast-4'",
    );
    expect(opened).toHaveLength(0);

    // The breaker is open: an approval counts nothing and says what to do.
    const blocked = await h.click('request_approve', third.requestId, 'U_BOB', third.ts);
    const stopped = await privately(blocked.responseId, /Approvals are stopped/);
    expect(stopped).toMatch(/last 2 restores failed in a row/);
    expect(stopped).toMatch(/breaker-reset --reason/);
    expect(await requestState(third.requestId)).toBe('requested');

    // A reset is itself a request: its requester cannot approve it, someone else can.
    const reset = await h.slash('breaker-reset --reason the Redis proxy fault is gone');
    await privately(reset.responseId, /Reset requested/);
    const resetMessage = await h.slack.waitFor(
      () => h.slack.messagesInChannel(CHANNEL).find((m) => findButton(m.blocks, 'breaker_reset_approve')),
      10_000,
      'the reset request in the channel',
    );
    expect(blockText(resetMessage.blocks).join(' ')).toMatch(/2 failed restores in a row/);
    const resetId = findButton(resetMessage.blocks, 'breaker_reset_approve') ?? '';
    const own = await h.click('breaker_reset_approve', resetId, 'U_ALICE', resetMessage.ts);
    await privately(own.responseId, /someone else must approve/);
    const outsider = await h.click('breaker_reset_approve', resetId, 'U_MALLORY', resetMessage.ts);
    await privately(outsider.responseId, /not an approver/);
    const dave = await h.click('breaker_reset_approve', resetId, 'U_DAVE', resetMessage.ts);
    await privately(dave.responseId, /approvals count again/);
    // The reset's message is edited: no button left to click.
    await h.slack.waitFor(
      () => {
        const now = h.slack.messagesInChannel(CHANNEL).find((m) => m.ts === resetMessage.ts);
        return (
          now &&
          !findButton(now.blocks, 'breaker_reset_approve') &&
          /approved/.test(now.text + blockText(now.blocks).join(' '))
        );
      },
      10_000,
      'the reset message without its button',
    );
    const again = await h.click('breaker_reset_approve', resetId, 'U_BOB', resetMessage.ts);
    await privately(again.responseId, /no longer waiting/);

    // Approvals count again: the third restore runs.
    await h.click('request_approve', third.requestId, 'U_BOB', third.ts);
    await eventually(
      async () => (await requestState(third.requestId)) === 'succeeded',
      'third restore',
      20_000,
    );

    const { rows } = await h.stack.db.pool.query<{ action: string; rule: string | null }>(
      `SELECT action, (data::jsonb)->>'rule' AS rule FROM zeus_recover.audit_log
       WHERE action LIKE 'policy.%' OR action LIKE 'breaker.%' ORDER BY seq`,
    );
    expect(rows.map((r) => `${r.action}${r.rule ? `:${r.rule}` : ''}`)).toEqual([
      'policy.refused:hourly_limit',
      'policy.refused:breaker_open',
      'breaker.reset_requested',
      'breaker.reset_approved',
    ]);
  });
});
