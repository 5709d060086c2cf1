import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConversation } from '../helpers/conversations.js';
import { eventually, type Harness, startHarness } from './bot-harness.js';

/**
 * Two replicas of the bot (two apps on their own ports, sharing Postgres and Redis), 20 restore
 * requests, then 200 approve clicks at once — ten per request, from both approvers, spread over
 * both replicas. Exactly one execution per request, whichever replica each click reached.
 */
const REQUESTS = 20;
const CLICKS_PER_REQUEST = 10;

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
  await h.startAnotherBot();
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

describe('two replicas, 200 concurrent approve clicks over 20 requests', () => {
  it('executes each request exactly once', async () => {
    const ids = Array.from({ length: REQUESTS }, (_, i) => `c-replica-${i}`);
    for (const id of ids) {
      await h.stack.seed('redis', id, makeConversation(id, 1));
      await h.stack.seed('postgres', id, makeConversation(id, 4));
    }
    for (const [i, id] of ids.entries()) {
      const res = await h.slash(`restore ${id} --from postgres --reason INC-9 two replicas`, { bot: i % 2 });
      expect(res.status).toBe(200);
    }
    const approvals = await Promise.all(
      ids.map((id) => h.slack.waitFor(() => h.approvalMessage(id), 30_000, `approval message for ${id}`)),
    );
    expect(new Set(approvals.map((a) => a.requestId)).size).toBe(REQUESTS);

    const clicks = await Promise.all(
      approvals.flatMap((approval, r) =>
        Array.from({ length: CLICKS_PER_REQUEST }, (_, c) =>
          h.click(
            'request_approve',
            approval.requestId,
            c % 2 ? 'U_BOB' : 'U_DAVE',
            approval.ts,
            (r + c) % 2,
          ),
        ),
      ),
    );
    expect(clicks).toHaveLength(REQUESTS * CLICKS_PER_REQUEST);
    expect(clicks.filter((c) => c.status !== 200)).toEqual([]);

    const requestIds = approvals.map((a) => a.requestId);
    await eventually(
      async () => {
        const { rows } = await h.stack.db.pool.query<{ n: string }>(
          "SELECT count(*) AS n FROM zeus_recover.requests WHERE id = ANY($1) AND state IN ('succeeded', 'failed')",
          [requestIds],
        );
        return Number(rows[0]?.n) === REQUESTS;
      },
      'every request to finish',
      60_000,
    );

    const { rows: states } = await h.stack.db.pool.query<{ state: string; n: string }>(
      'SELECT state, count(*) AS n FROM zeus_recover.requests WHERE id = ANY($1) GROUP BY state',
      [requestIds],
    );
    expect(states.map((s) => [s.state, Number(s.n)])).toEqual([['succeeded', REQUESTS]]);
    const { rows: started } = await h.stack.db.pool.query<{ request_id: string; n: string }>(
      `SELECT request_id, count(*) AS n FROM zeus_recover.audit_log
        WHERE action = 'restore.started' AND request_id = ANY($1) GROUP BY request_id`,
      [requestIds],
    );
    expect(started).toHaveLength(REQUESTS);
    expect(started.every((s) => Number(s.n) === 1)).toBe(true);
    const { rows: backups } = await h.stack.db.pool.query<{ n: string }>(
      'SELECT count(*) AS n FROM zeus_recover.backups WHERE conversation_id = ANY($1)',
      [ids],
    );
    expect(Number(backups[0]?.n)).toBe(REQUESTS);
    // A click is never turned away for load: no reply to any of them says "busy".
    const replies = clicks.flatMap((c) => h.slack.responses(c.responseId).map((r) => JSON.stringify(r.body)));
    expect(replies.filter((r) => /busy/i.test(r))).toEqual([]);
  }, 180_000);
});
