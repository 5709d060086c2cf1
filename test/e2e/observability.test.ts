import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConversation } from '../helpers/conversations.js';
import { eventually, findButton, type Harness, SECRET, startHarness } from './bot-harness.js';

const lines: string[] = [];
const sink = new Writable({
  write(chunk, _enc, done) {
    lines.push(...String(chunk).split('\n').filter(Boolean));
    done();
  },
});

let h: Harness;
const MARKER = 'CONTENT-MARKER-7d1f9a';

beforeAll(async () => {
  h = await startHarness({ LOG_LEVEL: 'debug' }, { logs: sink, logLevel: 'debug' });
}, 60_000);
afterAll(async () => h.stop());

describe('logs and metrics over a full flow', () => {
  it('runs inspect → restore → approve → export with traceable, redacted logs and metrics', async () => {
    const id = 'c-obs-1';
    const doc = makeConversation(id, 4).replace('question 1', `${MARKER} question 1`);
    await h.stack.seed('postgres', id, doc);
    await h.stack.seed('redis', id, makeConversation(id, 1).replace('question 1', `${MARKER} old`));
    await h.slash(`inspect ${id}`);
    await h.slash(`restore ${id} --from postgres --reason ${MARKER} in a reason`);
    const approval = await h.slack.waitFor(() => h.approvalMessage(id), 10_000, 'approval');
    await h.click('request_approve', approval.requestId, 'U_BOB', approval.ts);
    await h.slack.waitFor(
      () => h.thread(id).some((m) => findButton(m.blocks, 'restore_undo')),
      15_000,
      'result',
    );
    await h.slash(`export ${id}`);
    await h.slack.waitFor(() => h.slack.files().some((f) => f.filename.startsWith(id)), 15_000, 'export');
    await h.slash('inspcet c-1');

    const res = await fetch(`${h.url()}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    expect(text).toMatch(/zeus_recover_commands_total\{command="inspect",outcome="ok"\} 1/);
    expect(text).toMatch(/zeus_recover_commands_total\{command="invalid",outcome="usage_error"\} 1/);
    expect(text).toMatch(/zeus_recover_commands_total\{command="restore",outcome="ok"\} 1/);
    expect(text).toMatch(/zeus_recover_approval_wait_seconds_count\{decision="approved"\} 1/);
    expect(text).toMatch(
      /zeus_recover_operation_duration_seconds_count\{operation="restore",outcome="succeeded"\} 1/,
    );
    expect(text).toMatch(/zeus_recover_tier_read_seconds_count\{tier="postgres",status="found"\} \d+/);
    expect(text).toMatch(/zeus_recover_audit_delivery_lag_seconds \d/);
    expect(text).toMatch(/zeus_recover_audit_delivery_pending \d/);
    expect(text).toMatch(/zeus_recover_requests_stuck 0/);
    // A replica that died mid-restore leaves its request executing: the gauge shows it the moment
    // its lease runs out, not minutes later. Holding the audit head keeps the sweeper's
    // settlement (which audits first) from finishing while we look; let go, it settles.
    const head = await h.stack.db.pool.connect();
    const stuck = async () =>
      (await (await fetch(`${h.url()}/metrics`)).text()).match(/zeus_recover_requests_stuck (\d+)/)?.[1];
    try {
      await head.query('BEGIN');
      await head.query('SELECT seq FROM zeus_recover.audit_head FOR UPDATE');
      await h.stack.db.pool.query(
        `UPDATE zeus_recover.requests SET state = 'executing', started_at = now() WHERE id = $1`,
        [approval.requestId],
      );
      await h.stack.db.pool.query(
        `INSERT INTO zeus_recover.locks (conversation_id, holder, token, acquired_at, expires_at)
         VALUES ($1, 'a replica that died', 't', now(), now() + interval '1 hour')`,
        [id],
      );
      expect(await stuck()).toBe('0');
      await h.stack.db.pool.query(
        `UPDATE zeus_recover.locks SET expires_at = now() - interval '1 millisecond' WHERE conversation_id = $1`,
        [id],
      );
      expect(await stuck()).toBe('1');
    } finally {
      await head.query('ROLLBACK');
      head.release();
    }
    await eventually(
      async () => /zeus_recover_requests_stuck 0/.test(await (await fetch(`${h.url()}/metrics`)).text()),
      'the stuck request settled',
    );
    expect(text).toContain('zeus_recover_slack_api_errors_total');
    expect(text).toContain('zeus_recover_process_cpu_seconds_total');

    await eventually(async () => lines.length > 10, 'log lines');
    const all = lines.join('\n');
    for (const secret of ['xoxb-e2e-token', SECRET, MARKER]) expect(all).not.toContain(secret);
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    // Lines written while handling a request carry its id, its actor and, once known, the conversation.
    const inRequest = parsed.filter((l) => typeof l.requestId === 'string');
    expect(inRequest.length).toBeGreaterThan(0);
    expect(inRequest.every((l) => typeof l.actor === 'string')).toBe(true);
    expect(parsed.some((l) => l.conversationId === id && typeof l.requestId === 'string')).toBe(true);
  });

  it('answers health and readiness', async () => {
    expect((await fetch(`${h.url()}/healthz`)).status).toBe(200);
    const ready = await fetch(`${h.url()}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toMatchObject({ status: 'ready' });
  });
});
