import pg from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  type AcceptedFault,
  type RecordedCall,
  type SlackStandin,
  type StoredMessage,
  startSlackStandin,
} from '../../sandbox/slack/local-slack.js';
import type { RecoveryRequest } from '../../src/approval/types.js';
import {
  AUDIT_EVENT_TYPE,
  createDeliveryClient,
  createDeliveryWorker,
  type DeliveryLogger,
  type DeliveryWorker,
  type DeliveryWorkerOptions,
  THREAD_ROOT_EVENT_TYPE,
} from '../../src/slack/delivery.js';
import { auditTo, createAuditLog } from '../../src/store/audit.js';
import { DELIVERY_LOCK_CLASS, deliveryLockName } from '../../src/store/deliveries.js';
import { migrate } from '../../src/store/migrate.js';
import type { AuditEntry, AuditEvent, AuditLog } from '../../src/store/types.js';
import type { KnownBlock, SlackMessage } from '../../src/views/slack.js';
import { threadRootView } from '../../src/views/thread.js';
import { eventually } from '../helpers/eventually.js';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js';
import { type UntypedAuditEvent, untypedEvent } from '../helpers/untyped-audit.js';

const TOKEN = 'xoxb-delivery-test';
const INC = 'C_INC';
const GEN = 'C_GEN';

let db: TestDatabase;
let slack: SlackStandin;
let schemas = 0;
const cleanups: (() => Promise<void>)[] = [];

interface LogLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  obj: Record<string, unknown>;
  msg: string;
}

function recordingLogger(lines: LogLine[]): DeliveryLogger {
  const at =
    (level: LogLine['level']) =>
    (obj: Record<string, unknown>, msg: string): void => {
      lines.push({ level, obj, msg });
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** Stable, test-owned views: what is asserted here is delivery, not wording. */
function render(entry: AuditEntry): SlackMessage | null {
  if (entry.action === 'internal.hidden') return null;
  if (entry.action === 'request.created') {
    const blocks: KnownBlock[] = [
      { type: 'section', text: { type: 'mrkdwn', text: `Approve ${entry.requestId ?? '?'}?` } },
      {
        type: 'actions',
        elements: [
          { type: 'button', action_id: 'request_approve', text: { type: 'plain_text', text: 'Approve' } },
          { type: 'button', action_id: 'request_deny', text: { type: 'plain_text', text: 'Deny' } },
        ],
      },
    ];
    return { text: `request ${entry.requestId ?? '?'} #${entry.seq}`, blocks };
  }
  return { text: `${entry.action} #${entry.seq}`, blocks: [] };
}

function renderDecided(request: RecoveryRequest): SlackMessage {
  const text = `request ${request.id} ${request.state} by ${request.decidedBy ?? '?'}`;
  return { text, blocks: [{ type: 'section', text: { type: 'mrkdwn', text } }] };
}

interface Fixture {
  schema: string;
  audit: AuditLog;
  logs: LogLine[];
  worker: DeliveryWorker;
  /** Another worker on the same schema (a replica), on `pool`. */
  replica(pool: pg.Pool, overrides?: Partial<DeliveryWorkerOptions>): DeliveryWorker;
}

async function fixture(overrides: Partial<DeliveryWorkerOptions> = {}): Promise<Fixture> {
  schemas += 1;
  const schema = `zr_delivery_${schemas}`;
  await migrate(db.pool, schema);
  const logs: LogLine[] = [];
  const replica = (pool: pg.Pool, more: Partial<DeliveryWorkerOptions> = {}): DeliveryWorker => {
    const worker = createDeliveryWorker({
      pool,
      schema,
      audit: createAuditLog(pool, schema),
      client: createDeliveryClient({ token: TOKEN, slackApiUrl: slack.apiUrl, timeoutMs: 5000 }),
      render,
      renderRoot: threadRootView,
      renderDecided,
      logger: recordingLogger(logs),
      pollMs: 25,
      backoff: { baseMs: 20, maxMs: 200 },
      blockedRetryMs: 60_000,
      settleMs: 300,
      ...overrides,
      ...more,
    });
    cleanups.push(() => worker.stop());
    return worker;
  };
  return { schema, audit: createAuditLog(db.pool, schema), logs, worker: replica(db.pool), replica };
}

// Rows in any shape: delivery must keep its order whatever the views make of them.
function event(
  action: string,
  conversationId: string | null,
  extra: Partial<UntypedAuditEvent> = {},
): AuditEvent {
  return untypedEvent({
    action,
    actor: 'slack:U_ALICE',
    conversationId,
    requestId: null,
    data: {},
    ...extra,
  });
}

/** A RecoveryRequest snapshot as the Slack face puts it in `data.request` (only what the views read). */
function snapshot(id: string, state: string, decidedBy: string | null): Record<string, unknown> {
  return { id, kind: 'restore', conversationId: 'c-1', channelId: INC, state, decidedBy, approvals: [] };
}

function metadataOf(call: RecordedCall): { event_type?: unknown; event_payload?: Record<string, unknown> } {
  const m = call.args.metadata;
  return typeof m === 'object' && m !== null
    ? (m as { event_type?: unknown; event_payload?: Record<string, unknown> })
    : {};
}

/** The audit seq of a postMessage call, null for a thread root. */
function seqOf(call: RecordedCall): number | null {
  const m = metadataOf(call);
  return m.event_type === AUDIT_EVENT_TYPE ? Number(m.event_payload?.seq) : null;
}

/** Seqs Slack accepted, in arrival order, optionally for one channel. */
function postedSeqs(channel?: string): number[] {
  return slack
    .okCalls('chat.postMessage')
    .filter((c) => channel === undefined || c.args.channel === channel)
    .map(seqOf)
    .filter((s): s is number => s !== null);
}

function rootCalls(channel?: string): RecordedCall[] {
  return slack
    .okCalls('chat.postMessage')
    .filter((c) => seqOf(c) === null && (channel === undefined || c.args.channel === channel));
}

/** Polls often: delivery rounds are quick and many tests wait on several of them. */
const until = <T>(probe: Parameters<typeof eventually<T>>[0], what: string, timeoutMs = 15_000) =>
  eventually(probe, what, timeoutMs, 15);

interface DeliveryRow {
  seq: number;
  channel_id: string;
  state: string;
  attempts: number;
  last_error: string | null;
  message_ts: string | null;
  updated_ts: string | null;
  wait_ms: number;
}

async function deliveries(schema: string): Promise<DeliveryRow[]> {
  const res = await db.pool.query<DeliveryRow & { seq: string }>(
    `SELECT seq, channel_id, state, attempts, last_error, message_ts, updated_ts,
            EXTRACT(EPOCH FROM (next_attempt_at - now())) * 1000 AS wait_ms
       FROM ${schema}.audit_deliveries ORDER BY seq`,
  );
  return res.rows.map((r) => ({ ...r, seq: Number(r.seq), wait_ms: Number(r.wait_ms) }));
}

async function rootOf(schema: string, channel: string, conversationId: string): Promise<string> {
  const res = await db.pool.query<{ root_ts: string }>(
    `SELECT root_ts FROM ${schema}.incident_threads WHERE channel_id = $1 AND conversation_id = $2`,
    [channel, conversationId],
  );
  const ts = res.rows[0]?.root_ts;
  if (ts === undefined) throw new Error(`no thread for ${channel}/${conversationId}`);
  return ts;
}

/** Pretends the wait Slack asked for is over, without sleeping through it. */
async function makeDueNow(schema: string): Promise<void> {
  await db.pool.query(
    `UPDATE ${schema}.audit_deliveries SET next_attempt_at = now() WHERE state = 'pending'`,
  );
}

beforeAll(async () => {
  db = await createTestDatabase('zr_delivery');
  slack = await startSlackStandin();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) await cleanup();
  await slack.setDown(false);
  slack.reset();
});

afterAll(async () => {
  await slack?.stop();
  await db?.drop();
});

describe('appending for delivery', () => {
  it('queues the delivery in the same transaction as the audit row, and only when asked', async () => {
    const { schema, audit, worker } = await fixture();
    await audit.append(event('command.received', 'c-1'));
    await audit.append(event('command.received', 'c-1'), { deliverTo: { channelId: INC } });
    await audit.append(event('command.received', 'c-2'));
    await auditTo(audit, INC).append(event('restore.started', 'c-1'));
    await auditTo(audit, INC).append(event('restore.started', 'c-1'), { deliverTo: { channelId: GEN } });

    expect((await deliveries(schema)).map((d) => [d.seq, d.channel_id, d.state])).toEqual([
      [2, INC, 'pending'],
      [4, INC, 'pending'],
      [5, GEN, 'pending'],
    ]);
    expect(await worker.pendingCount()).toBe(3);
    expect(await worker.pendingCount(GEN)).toBe(1);
    expect(await worker.oldestPendingAgeMs()).toEqual(expect.any(Number));

    // An empty channel is refused before anything is written.
    await expect(audit.append(event('x', 'c-1'), { deliverTo: { channelId: '' } })).rejects.toMatchObject({
      code: 'invalid_input',
    });
    // A delivery row the database refuses takes its audit row down with it.
    await db.pool.query(
      `ALTER TABLE ${schema}.audit_deliveries ADD CONSTRAINT test_refuse CHECK (channel_id <> 'C_REFUSED')`,
    );
    await expect(audit.append(event('x', 'c-1'), { deliverTo: { channelId: 'C_REFUSED' } })).rejects.toThrow(
      /test_refuse/,
    );
    expect(await audit.verify()).toEqual({ ok: true, rows: 5, firstBroken: null });

    // Entries without deliverTo (the CLI's) are never posted.
    expect(await worker.drainOnce()).toBe(3);
    expect(slack.okCalls('chat.postMessage')).toHaveLength(5); // 2 roots + 3 entries
    expect(postedSeqs(INC)).toEqual([2, 4]);
    expect(postedSeqs(GEN)).toEqual([5]);
    expect(await worker.pendingCount()).toBe(0);
    expect(await worker.oldestPendingAgeMs()).toBeNull();
  });
});

describe('delivery worker', () => {
  it('opens one thread per conversation and channel, replies in order, broadcasts the request, edits the approval in place', async () => {
    const { schema, audit, worker } = await fixture();
    const deliver = { deliverTo: { channelId: INC } };
    await audit.append(event('command.received', 'c-1'), deliver); // 1
    await audit.append(event('inspect.reported', 'c-1'), deliver); // 2
    await audit.append(event('command.received', 'c-2'), deliver); // 3
    await audit.append(event('request.created', 'c-1', { requestId: 'rq_1' }), deliver); // 4
    await audit.append(event('internal.hidden', 'c-1'), deliver); // 5: rendered as nothing
    await audit.append(
      event('request.approved', 'c-1', {
        actor: 'slack:U_BOB',
        requestId: 'rq_1',
        data: { request: snapshot('rq_1', 'approved', 'U_BOB') },
      }),
      deliver,
    ); // 6
    await audit.append(event('restore.started', 'c-1', { requestId: 'rq_1' }), deliver); // 7
    await audit.append(
      event('restore.succeeded', 'c-1', {
        requestId: 'rq_1',
        data: { request: snapshot('rq_1', 'succeeded', 'U_BOB') },
      }),
      deliver,
    ); // 8
    await audit.append(event('inspect.reported', 'c-2'), deliver); // 9

    expect(await worker.drainOnce()).toBe(9);
    expect(await worker.drainOnce()).toBe(0);

    const root1 = await rootOf(schema, INC, 'c-1');
    const root2 = await rootOf(schema, INC, 'c-2');
    expect(root1).not.toBe(root2);
    // Roots come first, each just before its conversation's first entry.
    const posts = slack.okCalls('chat.postMessage');
    expect(posts.map((c) => seqOf(c) ?? 'root')).toEqual(['root', 1, 2, 'root', 3, 4, 6, 7, 8, 9]);
    for (const call of posts) {
      const seq = seqOf(call);
      if (seq === null) continue;
      expect(call.args.thread_ts).toBe([3, 9].includes(seq) ? root2 : root1);
    }

    const rows = await deliveries(schema);
    expect(rows.every((r) => r.state === 'delivered')).toBe(true);
    expect(rows.find((r) => r.seq === 5)?.message_ts).toBeNull();
    const approvalTs = rows.find((r) => r.seq === 4)?.message_ts;
    expect(approvalTs).toEqual(expect.any(String));
    expect(rows.filter((r) => r.updated_ts !== null).map((r) => [r.seq, r.updated_ts])).toEqual([
      [6, approvalTs],
      [8, approvalTs],
    ]);

    // The approval request is a reply that is also shown in the channel.
    expect(slack.messagesInChannel(INC).map((m) => m.text)).toEqual([
      'Zeus recovery: c-1',
      'Zeus recovery: c-2',
      'request rq_1 succeeded by U_BOB',
    ]);
    // Its buttons were replaced in place, by the first decision and then by the outcome.
    expect(slack.okCalls('chat.update').map((c) => [c.args.ts, c.args.text])).toEqual([
      [approvalTs, 'request rq_1 approved by U_BOB'],
      [approvalTs, 'request rq_1 succeeded by U_BOB'],
    ]);
    expect(slack.transcript(INC, root1)).toEqual([
      'Zeus recovery: c-1',
      '  command.received #1',
      '  inspect.reported #2',
      '  request rq_1 succeeded by U_BOB',
      '  request.approved #6',
      '  restore.started #7',
      '  restore.succeeded #8',
    ]);
    expect(slack.transcript(INC, root2)).toEqual([
      'Zeus recovery: c-2',
      '  command.received #3',
      '  inspect.reported #9',
    ]);
    expect(slack.messagesInThread(INC, root1).find((m) => m.ts === approvalTs)).toMatchObject({
      reply_broadcast: true,
      edits: 2,
    });
  });

  it('waits out a 429 as long as Retry-After says, holding back later entries of that channel only', async () => {
    const { schema, audit, worker } = await fixture();
    await audit.append(event('command.received', 'c-1'), { deliverTo: { channelId: INC } }); // 1
    expect(await worker.drainOnce()).toBe(1);

    slack.failNext('chat.postMessage', { status: 429, retryAfter: 30 });
    await audit.append(event('inspect.reported', 'c-1'), { deliverTo: { channelId: INC } }); // 2
    await audit.append(event('diff.reported', 'c-1'), { deliverTo: { channelId: INC } }); // 3
    expect(await worker.drainOnce()).toBe(0);
    await audit.append(event('command.received', 'c-9'), { deliverTo: { channelId: GEN } }); // 4
    expect(await worker.drainOnce()).toBe(1); // only the other channel's entry
    expect(postedSeqs(GEN)).toEqual([4]);

    const [, second] = await deliveries(schema);
    expect(second).toMatchObject({
      seq: 2,
      state: 'pending',
      attempts: 1,
      last_error: 'rate_limited (Retry-After 30s)',
    });
    expect(second?.wait_ms).toBeGreaterThan(20_000);
    const calls = slack.calls('chat.postMessage').length;
    expect(await worker.drainOnce()).toBe(0);
    expect(slack.calls('chat.postMessage')).toHaveLength(calls); // nothing tried before the wait is over

    await makeDueNow(schema);
    expect(await worker.drainOnce()).toBe(2);
    expect(postedSeqs(INC)).toEqual([1, 2, 3]);
  });

  it('after a 429 with Retry-After: 1, delivers the entry after the wait, in order, exactly once', async () => {
    const { schema, audit, worker } = await fixture();
    worker.start();
    await audit.append(event('command.received', 'c-1'), { deliverTo: { channelId: INC } }); // 1
    worker.kick();
    await slack.waitFor(() => postedSeqs(INC).length === 1, 10_000, 'the first entry');

    slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    for (const action of ['inspect.reported', 'diff.reported', 'request.created']) {
      await audit.append(event(action, 'c-1', { requestId: 'rq_2' }), { deliverTo: { channelId: INC } });
      worker.kick();
    }
    await until(async () => (await worker.pendingCount()) === 0, 'every entry delivered');

    expect(postedSeqs(INC)).toEqual([1, 2, 3, 4]);
    const attempts = slack.calls('chat.postMessage').map((c) => [seqOf(c), c.status]);
    const limited = attempts.findIndex(([, status]) => status === 429);
    expect(attempts[limited]).toEqual([2, 429]);
    // Right after the 429 the same entry again, then the rest: nothing overtook it.
    expect(attempts.slice(limited + 1)).toEqual([
      [2, 200],
      [3, 200],
      [4, 200],
    ]);
    expect((await deliveries(schema)).map((d) => d.attempts)).toEqual([1, 2, 1, 1]);
  });

  it('keeps entries while Slack is down and delivers each exactly once, in order, when it is back', async () => {
    const { schema, audit, worker } = await fixture();
    worker.start();
    await audit.append(event('command.received', 'c-1'), { deliverTo: { channelId: INC } }); // 1
    worker.kick();
    await slack.waitFor(() => postedSeqs(INC).length === 1, 10_000, 'the first entry');

    await slack.setDown(true);
    const conversations = ['c-1', 'c-2', 'c-1', 'c-3', 'c-2', 'c-1'];
    for (const id of conversations) {
      await audit.append(event('inspect.reported', id), { deliverTo: { channelId: INC } }); // 2..7
      worker.kick();
    }
    // The worker keeps trying (and failing) while Slack is unreachable; nothing is lost or skipped.
    const failing = await until(async () => {
      const head = (await deliveries(schema)).find((d) => d.state === 'pending');
      return head !== undefined && head.attempts >= 3 ? head : null;
    }, 'repeated failed attempts while Slack is down');
    expect(failing.seq).toBe(2);
    expect(failing.last_error).toMatch(/^request_error/);
    expect(await worker.pendingCount()).toBe(6);
    expect(await worker.oldestPendingAgeMs()).toEqual(expect.any(Number));

    await slack.setDown(false);
    await until(async () => (await worker.pendingCount()) === 0, 'delivery after Slack is back');

    expect(postedSeqs(INC)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(rootCalls(INC)).toHaveLength(3);
    const root2 = await rootOf(schema, INC, 'c-2');
    expect(slack.transcript(INC, root2)).toEqual([
      'Zeus recovery: c-2',
      '  inspect.reported #3',
      '  inspect.reported #6',
    ]);
  });

  it('lets two replicas drain the same channels concurrently without a duplicate or a reordering', async () => {
    const poolA = new pg.Pool({ connectionString: db.url, max: 6 });
    const poolB = new pg.Pool({ connectionString: db.url, max: 6 });
    cleanups.push(async () => {
      await Promise.all([poolA.end(), poolB.end()]);
    });
    const f = await fixture();
    const a = f.replica(poolA);
    const b = f.replica(poolB);
    const auditA = createAuditLog(poolA, f.schema);
    const auditB = createAuditLog(poolB, f.schema);
    a.start();
    b.start();

    const total = 40;
    const appends = Array.from({ length: total }, async (_, i) => {
      const log = i % 2 === 0 ? auditA : auditB;
      const channel = i % 4 === 3 ? GEN : INC;
      await log.append(event('inspect.reported', `c-${i % 3}`), { deliverTo: { channelId: channel } });
      (i % 2 === 0 ? a : b).kick();
    });
    // Both replicas also drain by hand, at the same time, while entries are still arriving.
    const racing = Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? a : b).drainOnce());
    await Promise.all([...appends, ...racing]);
    await until(async () => (await a.pendingCount()) === 0, 'every entry delivered');

    const rows = await deliveries(f.schema);
    expect(rows).toHaveLength(total);
    for (const channel of [INC, GEN]) {
      const expected = rows.filter((r) => r.channel_id === channel).map((r) => r.seq);
      expect(postedSeqs(channel)).toEqual(expected); // each once, in seq order
    }
    expect(rootCalls(INC)).toHaveLength(3);
    expect(rootCalls(GEN)).toHaveLength(3);
    const threads = await db.pool.query(`SELECT count(*)::int AS n FROM ${f.schema}.incident_threads`);
    expect(threads.rows[0].n).toBe(6);
  });

  it('leaves a channel alone while another replica holds it', async () => {
    const { schema, audit, worker } = await fixture();
    await audit.append(event('command.received', 'c-1'), { deliverTo: { channelId: INC } }); // 1
    await audit.append(event('command.received', 'c-2'), { deliverTo: { channelId: GEN } }); // 2
    const other = await db.pool.connect();
    try {
      await other.query('SELECT pg_advisory_lock($1, hashtext($2))', [
        DELIVERY_LOCK_CLASS,
        deliveryLockName(schema, INC),
      ]);
      expect(await worker.drainOnce()).toBe(1);
      expect(postedSeqs()).toEqual([2]);
      expect(await worker.pendingCount(INC)).toBe(1);
      await other.query('SELECT pg_advisory_unlock($1, hashtext($2))', [
        DELIVERY_LOCK_CLASS,
        deliveryLockName(schema, INC),
      ]);
    } finally {
      other.release();
    }
    expect(await worker.drainOnce()).toBe(1);
    expect(postedSeqs(INC)).toEqual([1]);
  });

  it('falls back to plain text when Slack refuses the blocks', async () => {
    const { schema, audit, worker } = await fixture();
    await audit.append(event('command.received', 'c-1'), { deliverTo: { channelId: INC } });
    expect(await worker.drainOnce()).toBe(1);
    slack.failWith('chat.postMessage', 'invalid_blocks');
    await audit.append(event('request.created', 'c-1', { requestId: 'rq_3' }), {
      deliverTo: { channelId: INC },
    });
    expect(await worker.drainOnce()).toBe(1);

    const tries = slack.calls('chat.postMessage').filter((c) => seqOf(c) === 2);
    expect(tries.map((c) => [c.error, Array.isArray(c.args.blocks)])).toEqual([
      ['invalid_blocks', true],
      [null, false],
    ]);
    expect((await deliveries(schema))[1]).toMatchObject({
      state: 'delivered',
      last_error: 'invalid_blocks; sent as plain text',
    });
  });

  it('holds a channel the bot cannot post to, loudly, while other channels go on', async () => {
    const { schema, audit, worker, logs } = await fixture();
    slack.failWith('chat.postMessage', 'not_in_channel');
    await audit.append(event('command.received', 'c-1'), { deliverTo: { channelId: GEN } }); // 1
    await audit.append(event('inspect.reported', 'c-1'), { deliverTo: { channelId: GEN } }); // 2
    expect(await worker.drainOnce()).toBe(0);
    await audit.append(event('command.received', 'c-2'), { deliverTo: { channelId: INC } }); // 3
    expect(await worker.drainOnce()).toBe(1);
    expect(postedSeqs()).toEqual([3]);
    expect(await worker.pendingCount(GEN)).toBe(2);
    const [first] = await deliveries(schema);
    expect(first).toMatchObject({ seq: 1, state: 'pending', last_error: 'not_in_channel' });
    expect(first?.wait_ms).toBeGreaterThan(30_000);
    expect(
      logs.some((l) => l.level === 'error' && l.obj.channel === GEN && l.obj.error === 'not_in_channel'),
    ).toBe(true);
    // Nothing about conversation content or tokens in the logs.
    expect(JSON.stringify(logs)).not.toContain(TOKEN);

    // Someone invites the bot; the next attempt (made due here) delivers both, in order.
    await makeDueNow(schema);
    expect(await worker.drainOnce()).toBe(2);
    expect(postedSeqs(GEN)).toEqual([1, 2]);
  });

  it('retries a failed approval edit without posting the decision twice', async () => {
    const { schema, audit, worker } = await fixture();
    const deliver = { deliverTo: { channelId: INC } };
    await audit.append(event('request.created', 'c-1', { requestId: 'rq_4' }), deliver); // 1
    expect(await worker.drainOnce()).toBe(1);

    slack.failNext('chat.update', { status: 500, times: 2 });
    await audit.append(
      event('request.denied', 'c-1', {
        requestId: 'rq_4',
        data: { request: snapshot('rq_4', 'denied', 'U_BOB') },
      }),
      deliver,
    ); // 2
    await audit.append(event('command.received', 'c-1'), deliver); // 3
    expect(await worker.drainOnce()).toBe(0);
    const [, denied] = await deliveries(schema);
    expect(denied).toMatchObject({ state: 'pending', last_error: 'http_500', updated_ts: null });
    expect(denied?.message_ts).toEqual(expect.any(String));

    await until(async () => {
      await worker.drainOnce();
      return (await worker.pendingCount()) === 0;
    }, 'the edit to go through');
    expect(postedSeqs()).toEqual([1, 2, 3]);
    expect(slack.calls('chat.update').map((c) => c.status)).toEqual([500, 500, 200]);
    const rows = await deliveries(schema);
    expect(rows[1]).toMatchObject({ state: 'delivered', updated_ts: rows[0]?.message_ts });
    const approval = slack.messagesInChannel(INC).find((m) => m.ts === rows[0]?.message_ts);
    expect(approval).toMatchObject({ text: 'request rq_4 denied by U_BOB', edits: 1 });
  });

  it('starts a new thread when the root was deleted in Slack', async () => {
    const { schema, audit, worker } = await fixture();
    await audit.append(event('command.received', 'c-1'), { deliverTo: { channelId: INC } });
    expect(await worker.drainOnce()).toBe(1);
    const oldRoot = await rootOf(schema, INC, 'c-1');
    const web = createDeliveryClient({ token: TOKEN, slackApiUrl: slack.apiUrl });
    await web.chat.delete({ channel: INC, ts: oldRoot });

    await audit.append(event('inspect.reported', 'c-1'), { deliverTo: { channelId: INC } });
    await until(async () => {
      await worker.drainOnce();
      return (await worker.pendingCount()) === 0;
    }, 'delivery into a new thread');
    const newRoot = await rootOf(schema, INC, 'c-1');
    expect(newRoot).not.toBe(oldRoot);
    expect(slack.transcript(INC, newRoot)).toEqual(['Zeus recovery: c-1', '  inspect.reported #2']);
    expect(postedSeqs()).toEqual([1, 2]);
  });
});

/** The replies Slack holds in a thread (answered or not), as their audit seqs in thread order. */
function threadSeqs(channel: string, rootTs: string): number[] {
  return slack
    .messagesInThread(channel, rootTs)
    .filter((m) => m.thread_ts !== null && m.metadata?.event_type === AUDIT_EVENT_TYPE)
    .map((m) => Number(m.metadata?.event_payload.seq));
}

/** The thread roots Slack holds for a conversation in a channel. */
function storedRoots(channel: string, conversationId: string): StoredMessage[] {
  return slack
    .messagesInChannel(channel)
    .filter(
      (m) =>
        m.thread_ts === null &&
        m.metadata?.event_type === THREAD_ROOT_EVENT_TYPE &&
        m.metadata.event_payload.conversation_id === conversationId,
    );
}

/** Every conversation has exactly one root in Slack, and its thread holds its entries once each, in audit order. */
async function expectExactlyOnce(schema: string, expected: Record<string, Record<string, number[]>>) {
  for (const [channel, conversations] of Object.entries(expected)) {
    for (const [conversationId, seqs] of Object.entries(conversations)) {
      const roots = storedRoots(channel, conversationId);
      expect(roots.map((r) => r.ts)).toEqual([await rootOf(schema, channel, conversationId)]);
      expect(threadSeqs(channel, roots[0]?.ts ?? '')).toEqual(seqs);
    }
  }
  const rows = await deliveries(schema);
  expect(rows.every((r) => r.state === 'delivered')).toBe(true);
}

/** A client that gives up long before a slow Slack answers (fixture `settleMs` is well above it). */
const impatientClient = () =>
  createDeliveryClient({ token: TOKEN, slackApiUrl: slack.apiUrl, timeoutMs: 250 });

describe('a slow or unanswering Slack', () => {
  const deliver = { deliverTo: { channelId: INC } };

  it.each<[string, AcceptedFault]>([
    ['answers after the client gave up', { answer: 'late', afterMs: 1000 }],
    ['never answers', { answer: 'never' }],
    ['resets the connection', { answer: 'reset' }],
    ['answers 503', { answer: 'status', status: 503 }],
  ])(
    'posts, then %s: one thread root, each entry once, in order, found by its metadata',
    async (_, fault) => {
      const { schema, audit, worker } = await fixture({ client: impatientClient(), settleMs: 1500 });
      // The root and the first two entries are stored by Slack, and their answers lost.
      slack.acceptThen('chat.postMessage', fault, { times: 3 });
      for (const action of ['command.received', 'inspect.reported', 'request.created', 'diff.reported']) {
        await audit.append(event(action, 'c-1', { requestId: 'rq_s' }), deliver); // 1..4
      }
      worker.start();
      await until(async () => (await worker.pendingCount()) === 0, 'every entry delivered');

      await expectExactlyOnce(schema, { [INC]: { 'c-1': [1, 2, 3, 4] } });
      // Found by looking, with the metadata asked for, not by posting again.
      expect(slack.calls('chat.postMessage')).toHaveLength(5);
      const looks = [...slack.calls('conversations.history'), ...slack.calls('conversations.replies')];
      expect(looks.length).toBeGreaterThanOrEqual(3);
      expect(looks.every((c) => c.args.include_all_metadata === 'true')).toBe(true);
      const rows = await deliveries(schema);
      expect(rows.map((r) => r.last_error)).toEqual([
        'answer to the post was lost; found in Slack',
        'answer to the post was lost; found in Slack',
        null,
        null,
      ]);
      // What was recorded is what Slack holds.
      const thread = slack.messagesInThread(INC, await rootOf(schema, INC, 'c-1'));
      expect(rows.map((r) => r.message_ts)).toEqual(thread.slice(1).map((m) => m.ts));
    },
  );

  it('Slack still working on a post when first looked for: waits for it to land instead of posting again', async () => {
    const { schema, audit, worker } = await fixture({ client: impatientClient(), settleMs: 3000 });
    // Slack stores the root only well after the client gave up and first looked.
    slack.acceptThen('chat.postMessage', { answer: 'slow', afterMs: 1500 });
    await audit.append(event('command.received', 'c-1'), deliver); // 1
    worker.start();
    await until(async () => (await worker.pendingCount()) === 0, 'the entry delivered', 20_000);

    await expectExactlyOnce(schema, { [INC]: { 'c-1': [1] } });
    // The root was sent once: the first look did not find it, and the worker waited instead of posting.
    expect(slack.calls('chat.postMessage').filter((c) => seqOf(c) === null)).toHaveLength(1);
    expect(slack.calls('conversations.history').length).toBeGreaterThanOrEqual(1);
  });

  it('Slack truly failed (nothing stored): looked for, then posted once the earlier post is old enough, exactly once', async () => {
    const { schema, audit, worker } = await fixture({ client: impatientClient(), settleMs: 800 });
    await audit.append(event('command.received', 'c-1'), deliver); // 1
    expect(await worker.drainOnce()).toBe(1);
    // A 503 from in front of Slack: the post may or may not have been taken; here it was not.
    slack.failNext('chat.postMessage', { status: 503 });
    await audit.append(event('inspect.reported', 'c-1'), deliver); // 2
    await audit.append(event('diff.reported', 'c-1'), deliver); // 3
    worker.start();
    await until(async () => (await worker.pendingCount()) === 0, 'every entry delivered');

    await expectExactlyOnce(schema, { [INC]: { 'c-1': [1, 2, 3] } });
    const order = slack
      .calls()
      .filter((c) => c.method !== 'chat.postMessage' || seqOf(c) === 2)
      .map((c) => `${c.method} ${c.status}`);
    // It was looked for (not found) before it was posted again, and posted again only once.
    expect(order[0]).toBe('chat.postMessage 503');
    expect(order.at(-1)).toBe('chat.postMessage 200');
    expect(order.slice(1, -1).length).toBeGreaterThanOrEqual(1);
    expect(order.slice(1, -1).every((c) => c === 'conversations.replies 200')).toBe(true);
  });

  it('a refused connection is known not to have posted: posted again without looking', async () => {
    const { schema, audit, worker } = await fixture({ settleMs: 60_000 });
    await slack.setDown(true);
    await audit.append(event('command.received', 'c-1'), deliver); // 1
    expect(await worker.drainOnce()).toBe(0);
    await slack.setDown(false);
    await makeDueNow(schema);
    expect(await worker.drainOnce()).toBe(1);
    await expectExactlyOnce(schema, { [INC]: { 'c-1': [1] } });
    expect(slack.calls('conversations.history')).toHaveLength(0);
  });

  it('while the look itself fails, the entry waits and is never posted blind', async () => {
    const { schema, audit, worker } = await fixture({ client: impatientClient(), settleMs: 300 });
    await audit.append(event('command.received', 'c-1'), deliver); // 1
    expect(await worker.drainOnce()).toBe(1);
    slack.acceptThen('chat.postMessage', { answer: 'reset' });
    slack.failNext('conversations.replies', { status: 500, times: 3 });
    slack.acceptThen('conversations.replies', { answer: 'never' }, { times: 1 });
    await audit.append(event('inspect.reported', 'c-1'), deliver); // 2
    worker.start();
    await until(async () => (await worker.pendingCount()) === 0, 'the entry found');

    await expectExactlyOnce(schema, { [INC]: { 'c-1': [1, 2] } });
    expect(slack.calls('chat.postMessage').filter((c) => seqOf(c) === 2)).toHaveLength(1);
    expect(slack.calls('conversations.replies').length).toBeGreaterThanOrEqual(5);
  });

  it('a replica finds what another one posted before it died unrecorded', async () => {
    const f = await fixture();
    const real = createDeliveryClient({ token: TOKEN, slackApiUrl: slack.apiUrl });
    // Slack takes the post; the process "dies" before it learns the ts.
    const dying = {
      chat: {
        postMessage: async (args: Parameters<typeof real.chat.postMessage>[0]) => {
          await real.chat.postMessage(args);
          throw new Error('process died');
        },
        update: real.chat.update.bind(real.chat),
      },
      conversations: real.conversations,
    };
    const a = f.replica(db.pool, { client: dying });
    await f.audit.append(event('command.received', 'c-1'), deliver); // 1
    expect(await a.drainOnce()).toBe(0);
    await a.stop();

    const b = f.replica(db.pool);
    await makeDueNow(f.schema);
    await until(async () => {
      await b.drainOnce();
      return (await b.pendingCount()) === 0;
    }, 'the other replica to settle it');
    await expectExactlyOnce(f.schema, { [INC]: { 'c-1': [1] } });
  });

  it('two replicas at once against a slow Slack: one root per conversation and channel, each entry once, in order', async () => {
    const poolA = new pg.Pool({ connectionString: db.url, max: 6 });
    const poolB = new pg.Pool({ connectionString: db.url, max: 6 });
    cleanups.push(async () => {
      await Promise.all([poolA.end(), poolB.end()]);
    });
    const f = await fixture({ client: impatientClient(), settleMs: 1500 });
    const a = f.replica(poolA);
    const b = f.replica(poolB);
    const auditA = createAuditLog(poolA, f.schema);
    const auditB = createAuditLog(poolB, f.schema);
    slack.acceptThen('chat.postMessage', { answer: 'late', afterMs: 800 }, { times: 10 });
    slack.acceptThen('conversations.history', { answer: 'late', afterMs: 800 }, { times: 2 });
    a.start();
    b.start();

    const total = 18;
    for (let i = 0; i < total; i++) {
      const channel = i % 3 === 2 ? GEN : INC;
      await (i % 2 === 0 ? auditA : auditB).append(event('inspect.reported', `c-${i % 2}`), {
        deliverTo: { channelId: channel },
      });
      (i % 2 === 0 ? a : b).kick();
    }
    await Promise.all([a.drainOnce(), b.drainOnce()]);
    await until(async () => (await a.pendingCount()) === 0, 'every entry delivered', 30_000);

    const rows = await deliveries(f.schema);
    const expected: Record<string, Record<string, number[]>> = {};
    const log = await f.audit.after(0, total);
    for (const row of rows) {
      const conversation = log.find((e) => e.seq === row.seq)?.conversationId ?? '?';
      const byConversation = expected[row.channel_id] ?? {};
      byConversation[conversation] = [...(byConversation[conversation] ?? []), row.seq];
      expected[row.channel_id] = byConversation;
    }
    expect(Object.keys(expected[INC] ?? {}).sort()).toEqual(['c-0', 'c-1']);
    expect(Object.keys(expected[GEN] ?? {}).sort()).toEqual(['c-0', 'c-1']);
    await expectExactlyOnce(f.schema, expected);
  });

  it('when Slack will not let the bot look (missing_scope), it posts again and says so: the one known duplicate', async () => {
    const { schema, audit, worker, logs } = await fixture({ client: impatientClient(), settleMs: 300 });
    await audit.append(event('command.received', 'c-1'), deliver); // 1
    expect(await worker.drainOnce()).toBe(1);
    slack.acceptThen('chat.postMessage', { answer: 'reset' });
    slack.failWith('conversations.replies', 'missing_scope');
    await audit.append(event('inspect.reported', 'c-1'), deliver); // 2
    worker.start();
    await until(async () => (await worker.pendingCount()) === 0, 'the entry posted again');

    const root = await rootOf(schema, INC, 'c-1');
    expect(threadSeqs(INC, root)).toEqual([1, 2, 2]);
    expect((await deliveries(schema))[1]?.last_error).toBe(
      'could not check Slack for an earlier copy (missing_scope); posted again',
    );
    expect(logs.some((l) => l.level === 'warn' && l.obj.error === 'missing_scope')).toBe(true);
  });
});
