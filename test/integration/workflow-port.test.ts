import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import type { CoreDeps } from '../../src/recovery/deps.js';
import { createRequestAuditLookup } from '../../src/store/audit-lookup.js';
import { createRequestStore, type RequestStore } from '../../src/store/requests.js';
import type { AuditEvent } from '../../src/store/types.js';
import {
  createWorkflow,
  type MessagingPort,
  type ThreadFile,
  type Workflow,
} from '../../src/workflow/workflow.js';
import { makeConversation } from '../helpers/conversations.js';
import { type Stack, startStack } from '../helpers/stack.js';

/**
 * The workflow with no Slack anywhere: real stores and tiers, and a messaging port that keeps
 * what it is asked to tell. Everything the thread would show comes through postToThread (or the
 * core's own entries in the audit log), files through uploadFile: the port is all the workflow
 * knows of a chat.
 */

const CHANNEL = 'C_INC';
const SCHEMA = 'zeus_recover';
let stack: Stack;
let core: CoreDeps;
let requests: RequestStore;
let workflow: Workflow;
const posted: { channelId: string; event: AuditEvent }[] = [];
const files: ThreadFile[] = [];
let wakes = 0;

beforeAll(async () => {
  stack = await startStack();
  const runtime = await stack.runtime();
  core = runtime.deps;
  requests = createRequestStore(runtime.pool, SCHEMA);
  const messaging: MessagingPort = {
    postToThread: async (channelId, event) => {
      posted.push({ channelId, event });
      return core.audit.append(event, { deliverTo: { channelId } });
    },
    // Nothing is ever delivered here, so there is no message to edit.
    updateDelivered: async () => false,
    uploadFile: async (file) => {
      files.push(file);
    },
    wakeDeliverer: () => {
      wakes++;
    },
  };
  workflow = createWorkflow({
    core,
    requests,
    policy: loadConfig(stack.env).policy,
    groupMembers: async () => null,
    messaging,
    names: { actor: (userId) => `chat:${userId}`, command: (typed) => `/zeus-recover ${typed}` },
    lookup: createRequestAuditLookup(runtime.pool, SCHEMA),
    logger: createLogger('silent'),
  });
}, 60_000);
afterAll(async () => stack.stop());

const who = (userId: string) => ({ userId, channelId: CHANNEL });
/**
 * The request a command opened: its approval message is the store's, appended with the request
 * (one transaction, delivered to the thread), not a post through the port. Exactly one.
 */
async function createdRequest(conversationId: string): Promise<string> {
  const res = await stack.db.pool.query<{ request_id: string }>(
    `SELECT a.request_id FROM ${SCHEMA}.audit_log a JOIN ${SCHEMA}.audit_deliveries d ON d.seq = a.seq
      WHERE a.action = 'request.created' AND a.conversation_id = $1`,
    [conversationId],
  );
  expect(res.rowCount).toBe(1);
  return res.rows[0]?.request_id ?? '';
}

const actionsFor = (conversationId: string) =>
  posted.filter((p) => p.event.conversationId === conversationId).map((p) => p.event.action);

describe('the workflow over a messaging port', () => {
  it('tells an inspect to the thread through the port, as typed', async () => {
    await stack.seed('redis', 'c-port-1', makeConversation('c-port-1', 3));
    const reply = await workflow.command(
      { kind: 'inspect', id: 'c-port-1' },
      'inspect c-port-1',
      who('U_ANA'),
    );
    expect(reply).toMatchObject({ ok: true });
    expect(actionsFor('c-port-1')).toEqual(['command.received', 'inspect.reported']);
    expect(posted.every((p) => p.channelId === CHANNEL)).toBe(true);
    expect(posted[0]?.event.data).toEqual({ command: '/zeus-recover inspect c-port-1' });
    // The face names its people: this one is not Slack.
    expect(posted.map((p) => p.event.actor)).toEqual(['chat:U_ANA', 'chat:U_ANA']);
  });

  it('hands an export to uploadFile with the bytes the tier holds', async () => {
    const doc = makeConversation('c-port-2', 4);
    await stack.seed('redis', 'c-port-2', doc);
    const reply = await workflow.command(
      { kind: 'export', id: 'c-port-2', tier: 'redis' },
      'export c-port-2 --tier redis',
      who('U_ANA'),
    );
    expect(reply).toMatchObject({ ok: true });
    expect(files).toHaveLength(1);
    expect(files[0]?.filename).toMatch(/^c-port-2-redis-\d{8}T\d{6}Z\.json$/);
    expect(files[0]?.bytes.toString()).toBe(doc);
    expect(files[0]).toMatchObject({ channelId: CHANNEL, conversationId: 'c-port-2' });
    expect(actionsFor('c-port-2')).toEqual(['command.received', 'export.uploaded']);
  });

  it('runs a restore from request to approval to execution without a chat client', async () => {
    const target = makeConversation('c-port-3', 5);
    await stack.seed('postgres', 'c-port-3', target);
    await stack.seed('redis', 'c-port-3', makeConversation('c-port-3', 2));
    const asked = await workflow.command(
      { kind: 'restore', id: 'c-port-3', source: { kind: 'tier', tier: 'postgres' }, reason: 'lost steps' },
      'restore c-port-3 --from postgres --reason "lost steps"',
      who('U_ANA'),
    );
    expect(asked).toMatchObject({ ok: true });
    const requestId = await createdRequest('c-port-3');
    expect(requestId).toMatch(/^rq_/);

    // The refusal is worded by the views, naming whom to ask.
    const self = await workflow.approve(requestId, { userId: 'U_ANA' });
    expect(self).toMatchObject({ ok: false, mentions: true });
    expect(self.message).toBe('You asked for this restore, so someone else must approve it. Ask a teammate.');

    const approved = await workflow.approve(requestId, { userId: 'U_BEN' });
    expect(approved).toMatchObject({ ok: true });
    // The execution runs after the click is answered; it wakes the deliverer last, once finished.
    const before = wakes;
    for (let i = 0; i < 200; i++) {
      const state = (await requests.get(requestId))?.state;
      if (state !== 'approved' && state !== 'executing' && wakes > before) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect((await requests.get(requestId))?.state).toBe('succeeded');
    // Postgres hands back its jsonb text form: the same document, keys in its own order.
    expect(JSON.parse((await stack.redis.client.get(stack.redis.key('c-port-3'))) ?? 'null')).toEqual(
      JSON.parse(target),
    );
    // The core's own restore.* entries go to the audit log directly; the deliverer is woken for them.
    expect(wakes).toBeGreaterThan(before);
    expect(actionsFor('c-port-3')).toEqual(
      expect.arrayContaining(['command.received', 'request.approved', 'validate.reported']),
    );
    expect(actionsFor('c-port-3')).not.toContain('request.created');
  });

  it('a click on a request past its window: the store appends its one request.expired to the thread with the expiry, and the deliverer is woken', async () => {
    await stack.seed('postgres', 'c-port-late', makeConversation('c-port-late', 3));
    await workflow.command(
      { kind: 'restore', id: 'c-port-late', source: { kind: 'tier', tier: 'postgres' }, reason: 'late' },
      'restore c-port-late --from postgres --reason late',
      who('U_ANA'),
    );
    const requestId = await createdRequest('c-port-late');
    expect(requestId).toMatch(/^rq_/);
    await stack.db.pool.query(
      `UPDATE ${SCHEMA}.requests SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [requestId],
    );
    const before = wakes;
    const late = await workflow.approve(requestId, { userId: 'U_BEN' });
    expect(late).toMatchObject({ ok: false, message: 'This request expired before it was approved.' });
    expect(wakes).toBeGreaterThan(before);
    const again = await workflow.deny(requestId, { userId: 'U_BEN' }, 'too late');
    expect(again).toMatchObject({ ok: false });
    // Not through postToThread: in the expiring transaction, with its delivery row.
    expect(actionsFor('c-port-late')).not.toContain('request.expired');
    const told = await stack.db.pool.query(
      `SELECT d.channel_id FROM ${SCHEMA}.audit_log a JOIN ${SCHEMA}.audit_deliveries d ON d.seq = a.seq
        WHERE a.action = 'request.expired' AND a.request_id = $1`,
      [requestId],
    );
    expect(told.rows).toEqual([{ channel_id: CHANNEL }]);
    expect((await requests.get(requestId))?.state).toBe('expired');
  });
});
