import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockText } from '../../sandbox/slack/local-slack.js';
import { startZeusStandin, type ZeusStandin } from '../../sandbox/zeus/zeus.js';
import { makeConversation } from '../helpers/conversations.js';
import { eventually, type Harness, startHarness } from './bot-harness.js';

let h: Harness;
let zeus: ZeusStandin;

beforeAll(async () => {
  zeus = await startZeusStandin();
  h = await startHarness({ ZEUS_API_URL: zeus.url, ZEUS_API_TOKEN: zeus.token });
}, 60_000);
afterAll(async () => {
  await h.stop();
  await zeus.close();
});

async function requestState(requestId: string): Promise<string | undefined> {
  const { rows } = await h.stack.db.pool.query<{ state: string }>(
    'SELECT state FROM zeus_recover.requests WHERE id = $1',
    [requestId],
  );
  return rows[0]?.state;
}

const postsFor = (id: string) =>
  zeus
    .replayCalls()
    .filter((c) => (c.json as { conversation_id?: string } | undefined)?.conversation_id === id);

describe('replay through Slack', () => {
  it('previews the steps, is POSTed once despite Slack retries and double clicks, and follows the status in one message', async () => {
    const id = 'c-e2e-replay';
    await h.stack.seed('redis', id, makeConversation(id, 6, { checkpoint: 4 }));
    await h.slash(`replay ${id} --from-step 3 --reason stuck after the failover`);
    const approval = await h.slack.waitFor(() => h.approvalMessage(id), 10_000, 'replay approval');
    const preview = blockText(h.thread(id).find((m) => m.ts === approval.ts)?.blocks ?? null).join('\n');
    expect(preview).toMatch(/replay/i);
    expect(preview).toMatch(/checkpoint/i); // step 3 is before the checkpoint (4)

    await Promise.all([
      h.click('request_approve', approval.requestId, 'U_BOB', approval.ts),
      h.click('request_approve', approval.requestId, 'U_BOB', approval.ts, 0, {
        'x-slack-retry-num': '1',
        'x-slack-retry-reason': 'http_timeout',
      }),
      h.click('request_approve', approval.requestId, 'U_DAVE', approval.ts),
    ]);
    await eventually(
      async () => (await requestState(approval.requestId)) === 'succeeded',
      'the replay to finish',
    );
    expect(postsFor(id)).toHaveLength(1);
    const post = postsFor(id)[0];
    expect(post?.json).toEqual({ conversation_id: id, from_step: 3 });
    expect(post?.headers['idempotency-key']).toBe(approval.requestId);
    expect(post?.headers.authorization).toBe(`Bearer ${zeus.token}`);

    // One progress message, edited in place to the outcome; then the validation report.
    await h.slack.waitFor(() => h.transcript(id).some((l) => /validate/i.test(l)), 10_000, 'validation');
    const progress = h.thread(id).filter((m) => /Replay/.test(blockText(m.blocks).join(' ')) && m.edits > 0);
    expect(progress.length).toBeGreaterThanOrEqual(1);
    expect(h.slack.calls('chat.update').length).toBeGreaterThan(1);
  });

  it('after an ambiguous timeout it does not POST again: it asks the status and reports that', async () => {
    const id = 'c-e2e-replay-ambig';
    await h.stack.seed('redis', id, makeConversation(id, 5));
    await h.slash(`replay ${id} --from-step 2 --reason retry`);
    const approval = await h.slack.waitFor(() => h.approvalMessage(id), 10_000, 'replay approval');
    zeus.stallNext(7000, 'replay'); // longer than the client's 5 s timeout: processed, no answer
    await h.click('request_approve', approval.requestId, 'U_BOB', approval.ts);
    await eventually(
      async () => ['succeeded', 'failed'].includes((await requestState(approval.requestId)) ?? ''),
      'the replay to end',
      20_000,
    );
    expect(postsFor(id)).toHaveLength(1);
    expect(zeus.statusCalls().length).toBeGreaterThan(0);
    await h.slack.waitFor(
      () => h.transcript(id).some((l) => /no clear answer|ambiguous|not sent again/i.test(l)),
      10_000,
      'ambiguity reported',
    );
  }, 40_000);

  it('refuses a step outside 1..n before asking anyone', async () => {
    const id = 'c-e2e-replay-range';
    await h.stack.seed('redis', id, makeConversation(id, 4));
    const res = await h.slash(`replay ${id} --from-step 9 --reason stuck`);
    await h.slack.waitFor(() => h.slack.responses(res.responseId).length > 0, 10_000, 'refusal');
    expect(JSON.stringify(h.slack.responses(res.responseId))).toMatch(/outside 1..4|1 and 4/);
    expect(h.approvalMessage(id)).toBeUndefined();
    expect(postsFor(id)).toHaveLength(0);
  });
});
