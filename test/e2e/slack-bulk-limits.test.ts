import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConversation } from '../helpers/conversations.js';
import { type FaultProxy, holding, startFaultProxy } from '../helpers/fault-proxy.js';
import { eventually, type Harness, startHarness } from './bot-harness.js';

/**
 * Blast-radius limits for bulk restores (docs/approval-policies.md) through signed requests to
 * two bot replicas and the local Slack: the breaker (1 failure) is judged under the job's row
 * lock when the approval counts, so a failure landing while the approval waits for that lock
 * stops it; and a bulk job the hourly limit (3) refuses after its preview is audited. Restores
 * fail for real (a fault proxy corrupts the shadow copy's write); the preview is held at its
 * Redis INFO while the other replica takes the last slot.
 */

let h: Harness;
let redisProxy: FaultProxy;

beforeAll(async () => {
  redisProxy = await startFaultProxy({ port: 6379 });
  h = await startHarness((stackEnv) => {
    const redisUrl = new URL(stackEnv.REDIS_URL ?? 'redis://127.0.0.1:6379');
    return {
      REDIS_URL: `redis://${redisProxy.address}${redisUrl.pathname}`,
      // The held INFO must outlast the other replica's request, not time out.
      REDIS_TIMEOUT_MS: '15000',
      MAX_DESTRUCTIVE_PER_HOUR: '3',
      BREAKER_FAILURES: '1',
    };
  });
  await h.startAnotherBot();
}, 60_000);
afterAll(async () => {
  await h?.stop();
  await redisProxy?.stop();
});

const SHADOW_SET = (chunk: Buffer) =>
  holding('set', 'zeus-recover:shadow:')(chunk) && !holding('eval')(chunk);

async function said(responseId: string, what: RegExp): Promise<string> {
  const text = () => JSON.stringify(h.slack.responses(responseId).map((r) => r.body));
  await h.slack
    .waitFor(() => what.test(text()), 15_000, `private answer matching ${what}`)
    .catch((err: Error) => {
      throw new Error(`${err.message}\n${text()}`);
    });
  return text();
}

async function jobRow(jobId: string) {
  const { rows } = await h.stack.db.pool.query<{ state: string; approvals: string }>(
    `SELECT state, (SELECT count(*) FROM zeus_recover.bulk_job_approvals a WHERE a.job_id = j.id) AS approvals
       FROM zeus_recover.bulk_jobs j WHERE id = $1`,
    [jobId],
  );
  return rows[0];
}

async function refusals(): Promise<Array<{ rule: string; kind: string; conversation_id: string | null }>> {
  const { rows } = await h.stack.db.pool.query<{
    rule: string;
    kind: string;
    conversation_id: string | null;
  }>(
    `SELECT (data::jsonb)->>'rule' AS rule, (data::jsonb)->>'kind' AS kind, conversation_id
       FROM zeus_recover.audit_log WHERE action = 'policy.refused' ORDER BY seq`,
  );
  return rows;
}

describe('bulk restores under the blast-radius limits', () => {
  it('a failure landing while a bulk approval waits for the job row stops that approval', async () => {
    const ids = ['c-bulklim-a1', 'c-bulklim-a2'];
    for (const id of ids) await h.stack.seed('postgres', id, makeConversation(id, 3));
    await h.slash(
      'bulk-restore --from postgres --since 1h --match c-bulklim-a* --reason INC-12 breaker race',
    );
    const card = await h.bulkCard();

    // The job's row is held, so Bob's approval (on replica 0) waits for it, the breaker still closed.
    const holder: pg.PoolClient = await h.stack.db.pool.connect();
    try {
      await holder.query('BEGIN');
      await holder.query('SELECT 1 FROM zeus_recover.bulk_jobs WHERE id = $1 FOR UPDATE', [card.jobId]);
      const bob = await h.click('bulk_approve', card.jobId, 'U_BOB', card.ts, 0);
      await eventually(async () => {
        const { rows } = await h.stack.db.pool.query(
          `SELECT 1 FROM pg_stat_activity
            WHERE wait_event_type = 'Lock' AND query LIKE '%bulk_jobs%FOR UPDATE%' AND pid <> pg_backend_pid()`,
        );
        return rows.length > 0;
      }, "Bob's approval waiting for the job row");

      // Meanwhile a restore fails for real on replica 1: the breaker (1 in a row) opens.
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
      const id = 'c-bulklim-fail';
      await h.stack.seed('redis', id, makeConversation(id, 2));
      await h.stack.seed('postgres', id, makeConversation(id, 5));
      await h.slash(`restore ${id} --from postgres --reason INC-12 fails`, { bot: 1 });
      const approval = await h.slack.waitFor(() => h.approvalMessage(id), 10_000, 'the restore approval');
      await h.click('request_approve', approval.requestId, 'U_DAVE', approval.ts, 1);
      await eventually(
        async () => {
          const { rows } = await h.stack.db.pool.query<{ state: string }>(
            'SELECT state FROM zeus_recover.requests WHERE id = $1',
            [approval.requestId],
          );
          return rows[0]?.state === 'failed';
        },
        'the restore failed',
        20_000,
      );
      expect(armed.hasFired).toBe(true);

      await holder.query('COMMIT');
      const answer = await said(bob.responseId, /Approvals are stopped/);
      expect(answer).toMatch(/breaker-reset --reason/);
    } finally {
      await holder.query('ROLLBACK').catch(() => undefined);
      holder.release();
    }
    expect(await jobRow(card.jobId)).toEqual({ state: 'pending', approvals: '0' });
    expect(await refusals()).toContainEqual({
      rule: 'breaker_open',
      kind: 'bulk-restore',
      conversation_id: card.jobId,
    });
  }, 60_000);

  it('a bulk job the hourly limit refuses after its preview is cancelled, and the refusal audited', async () => {
    // 2 of 3 this hour (the pending bulk job and the failed restore above).
    const ids = ['c-bulklim-b1', 'c-bulklim-b2'];
    for (const id of ids) await h.stack.seed('postgres', id, makeConversation(id, 3));
    let release = () => {};
    const held = redisProxy.arm({
      match: holding('\r\ninfo\r\n$6\r\nmemory\r\n'),
      fault: { until: new Promise<void>((r) => (release = r)) },
    });
    const bulk = await h.slash(
      'bulk-restore --from postgres --since 1h --match c-bulklim-b* --reason INC-12 over the limit',
      { bot: 0 },
    );
    await held.fired;
    // Its preview passed the pre-check and is held at Redis; replica 1 takes the last slot.
    const id = 'c-bulklim-slot';
    await h.stack.seed('postgres', id, makeConversation(id, 3));
    await h.slash(`restore ${id} --from postgres --reason INC-12 last slot`, { bot: 1 });
    await h.slack.waitFor(() => h.approvalMessage(id), 10_000, 'the last slot taken');
    release();

    const answer = await said(bulk.responseId, /limit is 3/);
    expect(answer).toMatch(/3 destructive requests were opened in the last hour/);
    const { rows } = await h.stack.db.pool.query<{ id: string; state: string; channel_id: string | null }>(
      `SELECT id, state, channel_id FROM zeus_recover.bulk_jobs WHERE reason = 'INC-12 over the limit'`,
    );
    // Frozen by the preview, never opened, cancelled: nothing left blocking the selection.
    expect(rows).toEqual([{ id: expect.stringMatching(/^bj_/), state: 'cancelled', channel_id: null }]);
    expect((await refusals()).filter((r) => r.rule === 'hourly_limit')).toEqual([
      { rule: 'hourly_limit', kind: 'bulk-restore', conversation_id: null },
    ]);
  }, 60_000);
});
