import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConversation } from '../helpers/conversations.js';
import { storedPlan } from '../helpers/store.js';
import { eventually, type Harness, privateAnswer, startHarness } from './bot-harness.js';

/**
 * An unlock under the approval policies (docs/approval-policies.md), over signed HTTP to the
 * running bot and the local Slack: with the hour full and the breaker open (a failed restore, as
 * a stuck lock leaves them) a restore is refused but an unlock is filed and approved, after the
 * step-up confirmation STEP_UP_OPERATIONS=unlock asks for.
 */

let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    MAX_DESTRUCTIVE_PER_HOUR: '1',
    BREAKER_FAILURES: '1',
    STEP_UP_OPERATIONS: 'unlock',
  });
}, 60_000);
afterAll(async () => h?.stop());

const privately = (responseId: string, what: RegExp) => privateAnswer(h, responseId, what);

describe('unlock under the hourly limit, the breaker and step-up', () => {
  it('is filed with the hour full and approved with the breaker open, once the approver types the id', async () => {
    const id = 'c-unlock-policies';
    await h.stack.seed('redis', id, makeConversation(id, 2));
    await h.stack.seed('postgres', id, makeConversation(id, 4));
    // A restore refused on the stuck lock: it fills the hour (limit 1) and opens the breaker (1).
    await h.stack.db.pool.query(
      `INSERT INTO zeus_recover.requests
         (id, kind, conversation_id, channel_id, requester, reason, plan, state, required_approvals,
          expires_at, started_at, finished_at, result)
       VALUES ($1, 'restore', 'c-unlock-policies-other', 'C_INC', 'U_ALICE', 'earlier', $2::jsonb, 'failed', 1,
               now() + interval '30 minutes', now(), now(), '{"error":"already in progress"}'::jsonb)`,
      [`rq_${randomUUID()}`, JSON.stringify(storedPlan('c-unlock-policies-other'))],
    );
    await h.stack.db.pool.query(
      `INSERT INTO zeus_recover.locks (conversation_id, holder, token, acquired_at, expires_at)
       VALUES ($1, 'cli:dave', 'lease-stuck', now() - interval '10 minutes', now() + interval '5 minutes')`,
      [id],
    );

    const restore = await h.slash(`restore ${id} --from postgres --reason INC-12 lost steps`);
    await privately(restore.responseId, /destructive requests were opened in the last hour|limit/i);

    const res = await h.slash(`unlock ${id} --reason INC-12 dave's restore hangs`);
    await privately(res.responseId, /Approval requested for breaking the lock/);
    const approval = await h.slack.waitFor(() => h.approvalMessage(id), 10_000, 'unlock request');

    const before = h.slack.calls('views.open').length;
    await h.click('request_approve', approval.requestId, 'U_BOB', approval.ts);
    const opened = await h.slack.waitFor(
      () =>
        h.slack
          .calls('views.open')
          .slice(before)
          .find((c) => JSON.stringify(c.args).includes(approval.requestId)),
      5000,
      'the step-up form',
    );
    const form = opened.args.view as { callback_id: string; private_metadata: string };
    expect(form.callback_id).toBe('step_up_confirm_modal');
    const wrong = await h.submitView(
      'step_up_confirm_modal',
      'U_BOB',
      { step_up_confirmation: 'c-unlock-other' },
      form.private_metadata,
    );
    expect(wrong.json).toMatchObject({ response_action: 'errors' });
    const held = await h.stack.db.pool.query('SELECT 1 FROM zeus_recover.locks WHERE conversation_id = $1', [
      id,
    ]);
    expect(held.rows).toHaveLength(1);

    await h.submitView('step_up_confirm_modal', 'U_BOB', { step_up_confirmation: id }, form.private_metadata);
    await eventually(
      async () => h.transcript(id).some((l) => /Lock on .c-unlock-policies. broken/.test(l)),
      'thread: lock broken',
      20_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${h.transcript(id).join('\n')}`);
    });
    const gone = await h.stack.db.pool.query('SELECT 1 FROM zeus_recover.locks WHERE conversation_id = $1', [
      id,
    ]);
    expect(gone.rows).toHaveLength(0);
    const refused = await h.stack.db.pool.query(
      `SELECT 1 FROM zeus_recover.audit_log WHERE request_id = $1 AND action = 'policy.refused'`,
      [approval.requestId],
    );
    expect(refused.rows).toHaveLength(0);
  });
});
