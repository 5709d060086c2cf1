import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockText } from '../../sandbox/slack/local-slack.js';
import { postToApp, slashCommandBody } from '../../sandbox/slack/requests.js';
import { makeConversation } from '../helpers/conversations.js';
import {
  CHANNEL,
  eventually,
  findButton,
  type Harness,
  SECRET,
  startHarness,
  withoutButton,
} from './bot-harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => h.stop());

async function requestRestore(id: string, from = 'postgres') {
  const res = await h.slash(`restore ${id} --from ${from} --reason INC-42 lost state`);
  expect(res.status).toBe(200);
  return h.slack
    .waitFor(() => h.approvalMessage(id), 10_000, `approval message for ${id}`)
    .catch((err) => {
      throw new Error(
        `${err.message}\n${h.transcript(id).join('\n')}\n${JSON.stringify(h.slack.responses())}`,
      );
    });
}

async function backupsOf(id: string): Promise<number> {
  const { rowCount } = await h.stack.db.pool.query(
    'SELECT 1 FROM zeus_recover.backups WHERE conversation_id = $1',
    [id],
  );
  return rowCount ?? 0;
}

async function requestState(requestId: string): Promise<string | undefined> {
  const { rows } = await h.stack.db.pool.query<{ state: string }>(
    'SELECT state FROM zeus_recover.requests WHERE id = $1',
    [requestId],
  );
  return rows[0]?.state;
}

function ephemeralTexts(responseId: string): string {
  return JSON.stringify(h.slack.responses(responseId).map((r) => r.body));
}

describe('restore with two-person approval, end to end over signed HTTP', () => {
  it('runs after a second user approves: Redis byte-equal to the source, backup kept, thread in order', async () => {
    const id = 'c-e2e-full';
    await h.stack.seed('redis', id, makeConversation(id, 2));
    await h.stack.seed('postgres', id, makeConversation(id, 6));
    const approval = await requestRestore(id);
    // The approval request is also shown in the channel.
    expect(h.thread(id).find((m) => m.ts === approval.ts)?.reply_broadcast).toBe(true);

    const click = await h.click('request_approve', approval.requestId, 'U_BOB', approval.ts);
    expect(click.status).toBe(200);
    await h.slack.waitFor(
      () => h.transcript(id).some((l) => /validat/i.test(l) && /healthy/i.test(l)),
      15_000,
      'validation',
    );

    const { rows } = await h.stack.db.pool.query<{ s: string }>(
      'SELECT state::text AS s FROM conversations WHERE id = $1',
      [id],
    );
    const redis = await h.stack.redis.client.getBuffer(h.stack.redis.key(id));
    expect(redis?.equals(Buffer.from(rows[0]?.s ?? ''))).toBe(true);
    expect(await backupsOf(id)).toBe(1);
    expect(await requestState(approval.requestId)).toBe('succeeded');

    const lines = h.transcript(id);
    const at = (re: RegExp) => lines.findIndex((l) => re.test(l));
    // The approval message itself now reads "Approved …" (updated in place), so find it by ts.
    const requestAt = h.thread(id).findIndex((m) => m.ts === approval.ts);
    const order = [requestAt, at(/approved the restore/i), at(/^\s*✅ Restored/), at(/healthy/i)];
    expect(
      order.every((i) => i >= 0),
      lines.join('\n'),
    ).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // The buttons were replaced in place by who decided, and then by the outcome.
    const updated = await h.slack.waitFor(
      () =>
        h
          .thread(id)
          .find(
            (m) =>
              m.ts === approval.ts &&
              /approved by/i.test(blockText(m.blocks).join(' ')) &&
              /succeeded|done|restored/i.test(blockText(m.blocks).join(' ')),
          ),
      10_000,
      'approval message showing the outcome',
    );
    expect(findButton(updated.blocks, 'request_approve')).toBeUndefined();
    expect(blockText(updated.blocks).join(' ')).toMatch(/U_BOB/);
    // The result carries an Undo button with the backup id.
    const result = h.thread(id).find((m) => findButton(m.blocks, 'restore_undo'));
    expect(findButton(result?.blocks ?? null, 'restore_undo')).toMatch(/^bk_/);
  });

  it('refuses self-approval', async () => {
    const id = 'c-e2e-self';
    await h.stack.seed('postgres', id, makeConversation(id, 3));
    const approval = await requestRestore(id);
    const click = await h.click('request_approve', approval.requestId, 'U_ALICE', approval.ts);
    await h.slack.waitFor(() => h.slack.responses(click.responseId).length > 0, 5000, 'ephemeral refusal');
    expect(ephemeralTexts(click.responseId)).toMatch(/someone else must approve/);
    expect(await requestState(approval.requestId)).toBe('requested');
    expect(await h.stack.redis.client.exists(h.stack.redis.key(id))).toBe(0);
  });

  it('refuses a user who is not an approver', async () => {
    const id = 'c-e2e-nonapprover';
    await h.stack.seed('postgres', id, makeConversation(id, 3));
    const approval = await requestRestore(id);
    const click = await h.click('request_approve', approval.requestId, 'U_CAROL', approval.ts);
    await h.slack.waitFor(() => h.slack.responses(click.responseId).length > 0, 5000, 'ephemeral refusal');
    expect(ephemeralTexts(click.responseId)).toMatch(/not an approver/);
    expect(await requestState(approval.requestId)).toBe('requested');
  });

  it('deny asks for a reason and records it', async () => {
    const id = 'c-e2e-deny';
    await h.stack.seed('postgres', id, makeConversation(id, 3));
    const approval = await requestRestore(id);
    await h.click('request_deny', approval.requestId, 'U_DAVE', approval.ts);
    const opened = await h.slack.waitFor(
      (calls) =>
        calls.find((c) => c.method === 'views.open' && JSON.stringify(c.args).includes(approval.requestId)),
      5000,
      'deny modal',
    );
    const view = opened.args.view as { callback_id: string; private_metadata: string };
    expect(view.callback_id).toBe('deny_reason_modal');
    const empty = await h.submitView(
      'deny_reason_modal',
      'U_DAVE',
      { deny_reason: '  ' },
      view.private_metadata,
    );
    expect(empty.json).toMatchObject({ response_action: 'errors' });
    const ok = await h.submitView(
      'deny_reason_modal',
      'U_DAVE',
      { deny_reason: 'Zeus is still writing to it' },
      view.private_metadata,
    );
    expect(ok.status).toBe(200);
    await h.slack.waitFor(
      () => h.transcript(id).some((l) => /denied/i.test(l) && l.includes('Zeus is still writing')),
      10_000,
      'deny in thread',
    );
    expect(await requestState(approval.requestId)).toBe('denied');
    expect(await h.stack.redis.client.exists(h.stack.redis.key(id))).toBe(0);
  });

  it('lets the requester cancel, and nobody else', async () => {
    const id = 'c-e2e-cancel';
    await h.stack.seed('postgres', id, makeConversation(id, 3));
    const approval = await requestRestore(id);
    const other = await h.click('request_cancel', approval.requestId, 'U_BOB', approval.ts);
    await h.slack.waitFor(() => h.slack.responses(other.responseId).length > 0, 5000, 'refusal');
    expect(await requestState(approval.requestId)).toBe('requested');
    // The requester's click asks why (a reason, as for a deny) before anything changes.
    const opened = h.slack.calls('views.open').length;
    await h.click('request_cancel', approval.requestId, 'U_ALICE', approval.ts);
    await h.slack.waitFor(() => h.slack.calls('views.open').length > opened, 10_000, 'cancel form');
    const form = h.slack.calls('views.open').at(-1)?.args.view as {
      callback_id: string;
      private_metadata: string;
    };
    expect(form.callback_id).toBe('cancel_reason_modal');
    expect(await requestState(approval.requestId)).toBe('requested');
    const empty = await h.submitView(
      'cancel_reason_modal',
      'U_ALICE',
      { cancel_reason: ' ' },
      form.private_metadata,
    );
    expect(JSON.stringify(empty.json)).toContain('Say why');
    expect(await requestState(approval.requestId)).toBe('requested');
    await h.submitView(
      'cancel_reason_modal',
      'U_ALICE',
      { cancel_reason: 'Redis came back by itself' },
      form.private_metadata,
    );
    await h.slack.waitFor(
      () => h.transcript(id).some((l) => /cancelled/i.test(l) && l.includes('Redis came back by itself')),
      10_000,
      'cancel in thread, with its reason',
    );
    expect(await requestState(approval.requestId)).toBe('cancelled');
    const updated = await withoutButton(
      h,
      () => h.thread(id),
      approval.ts,
      'request_approve',
      'buttons gone',
    );
    expect(blockText(updated.blocks).join(' ')).toMatch(/cancel/i);
  });

  it('expires requests nobody approved, and says so', async () => {
    const id = 'c-e2e-expire';
    await h.stack.seed('postgres', id, makeConversation(id, 3));
    const approval = await requestRestore(id);
    await h.stack.db.pool.query(
      `UPDATE zeus_recover.requests SET expires_at = now() - interval '1 second' WHERE id = $1`,
      [approval.requestId],
    );
    await h.slack.waitFor(() => h.transcript(id).some((l) => /expired/i.test(l)), 10_000, 'expiry notice');
    expect(await requestState(approval.requestId)).toBe('expired');
    const click = await h.click('request_approve', approval.requestId, 'U_BOB', approval.ts);
    await h.slack.waitFor(() => h.slack.responses(click.responseId).length > 0, 5000, 'refusal');
    expect(await h.stack.redis.client.exists(h.stack.redis.key(id))).toBe(0);
  });

  it('refuses an approval whose preview went stale and posts a fresh one', async () => {
    const id = 'c-e2e-stale';
    await h.stack.seed('redis', id, makeConversation(id, 1));
    await h.stack.seed('postgres', id, makeConversation(id, 4));
    const approval = await requestRestore(id);
    await h.stack.seed('redis', id, makeConversation(id, 2)); // Zeus wrote meanwhile
    const click = await h.click('request_approve', approval.requestId, 'U_BOB', approval.ts);
    await h.slack.waitFor(() => h.slack.responses(click.responseId).length > 0, 5000, 'refusal');
    expect(ephemeralTexts(click.responseId)).toMatch(/Redis changed since the preview/);
    // The first card with an Approve button is the fresh one once the deliverer has told the old
    // card it went stale (its button gone); under load that edit may come after the refusal.
    const fresh = await h.slack.waitFor(
      () => {
        const first = h.approvalMessage(id, 0);
        return first && first.requestId !== approval.requestId ? first : undefined;
      },
      10_000,
      'fresh preview, and the stale card without its button',
    );
    expect(await requestState(approval.requestId)).toBe('cancelled');
    expect((await h.stack.redis.client.get(h.stack.redis.key(id))) ?? '').toBe(makeConversation(id, 2));
    // The fresh preview can be approved and runs.
    await h.click('request_approve', fresh.requestId, 'U_BOB', fresh.ts);
    await h.slack
      .waitFor(async () => (await requestState(fresh.requestId)) === 'succeeded' || undefined, 10_000)
      .catch(() => undefined);
    await h.slack.waitFor(() => h.transcript(id).some((l) => /restored/i.test(l)), 10_000, 'restored');
  });

  it('went stale with nothing left to restore: says so, promises no fresh preview, and the card says why', async () => {
    const id = 'c-e2e-stale-none';
    const copy = makeConversation(id, 4);
    await h.stack.seed('postgres', id, copy);
    const approval = await requestRestore(id);
    // Meanwhile the Postgres copy reached Redis byte for byte (another restore, a bulk job):
    // nothing is left to do. jsonb gives back its own text, so those are the bytes to write.
    const { rows } = await h.stack.db.pool.query<{ state: string }>(
      'SELECT state::text AS state FROM conversations WHERE id = $1',
      [id],
    );
    const stored = rows[0]?.state ?? '';
    expect(stored).not.toBe('');
    await h.stack.seed('redis', id, stored);
    const click = await h.click('request_approve', approval.requestId, 'U_BOB', approval.ts);
    await h.slack.waitFor(() => h.slack.responses(click.responseId).length > 0, 5000, 'refusal');
    const answer = ephemeralTexts(click.responseId);
    expect(answer).toMatch(/the preview went stale, and there is nothing to approve now: .*already holds/);
    // Said once, not twice ("No fresh preview could be made: <the same words>").
    const body = h.slack.responses(click.responseId)[0]?.body as { text?: string } | undefined;
    const text = body?.text ?? '';
    expect(text.match(/already holds/g)).toHaveLength(1);

    const told = await h.slack.waitFor(
      () => h.transcript(id).find((l) => /The preview went stale/.test(l)),
      10_000,
      'the stale story in the thread',
    );
    expect(told).toMatch(/No fresh preview: there is nothing to approve now/);
    expect(told).not.toMatch(/fresh preview follows/);
    const card = await withoutButton(
      h,
      () => h.thread(id),
      approval.ts,
      'request_approve',
      'the card without its buttons',
    );
    expect(blockText(card.blocks).join(' ')).toMatch(
      /Cancelled by the bot at \d\d:\d\d UTC: preview went stale: .*already holds/,
    );
    expect(await requestState(approval.requestId)).toBe('cancelled');
    // No second request was filed, and Redis is as it was.
    expect(h.approvalMessage(id)).toBeUndefined();
    expect(await h.stack.redis.client.get(h.stack.redis.key(id))).toBe(stored);
  });

  it('a double click executes once', async () => {
    const id = 'c-e2e-double';
    await h.stack.seed('postgres', id, makeConversation(id, 5));
    const approval = await requestRestore(id);
    const clicks = await Promise.all([
      h.click('request_approve', approval.requestId, 'U_BOB', approval.ts),
      h.click('request_approve', approval.requestId, 'U_BOB', approval.ts),
      h.click('request_approve', approval.requestId, 'U_DAVE', approval.ts),
    ]);
    expect(clicks.every((c) => c.status === 200)).toBe(true);
    await eventually(
      async () => (await requestState(approval.requestId)) === 'succeeded',
      'the request to succeed',
    );
    expect(await backupsOf(id)).toBe(1);
    const { rows } = await h.stack.db.pool.query(
      "SELECT 1 FROM zeus_recover.audit_log WHERE conversation_id = $1 AND action = 'restore.started'",
      [id],
    );
    expect(rows).toHaveLength(1);
  });

  it('two app instances sharing Postgres receiving the same click execute once', async () => {
    const id = 'c-e2e-replicas';
    if (h.bots.length < 2) await h.startAnotherBot();
    await h.stack.seed('postgres', id, makeConversation(id, 5));
    const approval = await requestRestore(id);
    await Promise.all([
      h.click('request_approve', approval.requestId, 'U_BOB', approval.ts, 0),
      h.click('request_approve', approval.requestId, 'U_BOB', approval.ts, 1),
    ]);
    await eventually(
      async () => (await requestState(approval.requestId)) === 'succeeded',
      'the request to succeed',
    );
    expect(await backupsOf(id)).toBe(1);
    // Every audit entry reached the thread exactly once despite two delivery workers.
    await h.slack.waitFor(
      () => h.transcript(id).some((l) => /healthy/i.test(l)),
      10_000,
      'validation after restore',
    );
    const count = async () =>
      Number(
        (
          await h.stack.db.pool.query<{ n: string }>(
            'SELECT count(*) AS n FROM zeus_recover.audit_log WHERE conversation_id = $1',
            [id],
          )
        ).rows[0]?.n,
      );
    await eventually(async () => h.thread(id).length - 1 >= (await count()), 'every entry delivered');
    expect(h.thread(id).length - 1).toBe(await count());
    const seqs = h
      .thread(id)
      .slice(1)
      .map((m) => JSON.stringify(m));
    expect(new Set(seqs).size).toBe(seqs.length);
  });
});

describe('Slack rate-limiting and then down', () => {
  it('delivers every audit entry once, in order, after a 429 and an outage', async () => {
    const id = 'c-e2e-outage';
    await h.stack.seed('postgres', id, makeConversation(id, 3));
    await h.slash(`inspect ${id}`);
    await h.slack.waitFor(() => h.thread(id).length >= 3, 10_000, 'first report');
    h.slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    await h.slash(`validate ${id}`);
    await h.slack.waitFor(
      (calls) => calls.some((c) => c.method === 'chat.postMessage' && c.status === 429),
      10_000,
      'the 429',
    );
    await h.slack.setDown(true);
    for (const cmd of [`inspect ${id}`, `diff ${id} --from postgres`, `validate ${id}`]) await h.slash(cmd);
    await new Promise((r) => setTimeout(r, 500)); // let the worker meet the outage
    await h.slack.setDown(false);
    const { rows } = await h.stack.db.pool.query<{ action: string; data: string }>(
      'SELECT action, data FROM zeus_recover.audit_log WHERE conversation_id = $1 ORDER BY seq',
      [id],
    );
    expect(rows.filter((r) => r.action === 'command.received')).toHaveLength(5);
    await h.slack.waitFor(
      () => h.thread(id).length - 1 >= rows.length || undefined,
      20_000,
      'backlog delivered',
    );
    const replies = h.thread(id).slice(1);
    expect(replies).toHaveLength(rows.length);
    // The thread shows the entries in the audit log's order (commands handled concurrently may
    // be logged in any order; the thread must follow the log, one message per entry).
    const commands = replies.map((m) => /ran `\/zeus-recover ([^`]*)`/.exec(m.text)?.[1]).filter(Boolean);
    const logged = rows
      .filter((r) => r.action === 'command.received')
      .map((r) => (JSON.parse(r.data) as { command: string }).command.replace('/zeus-recover ', ''));
    expect(commands).toEqual(logged);
    expect(replies.map((m) => m.ts)).toEqual([...replies.map((m) => m.ts)].sort());
  }, 40_000);
});

describe('requests Slack must not accept', () => {
  it('answers 401 to a bad, missing or stale signature', async () => {
    const body = slashCommandBody({ text: 'inspect c-1' });
    expect((await postToApp(h.url(), body, { secret: SECRET, badSignature: true })).status).toBe(401);
    expect((await postToApp(h.url(), body, { secret: SECRET, omitHeaders: true })).status).toBe(401);
    const stale = Math.floor(Date.now() / 1000) - 10 * 60;
    expect((await postToApp(h.url(), body, { secret: SECRET, timestamp: stale })).status).toBe(401);
  });

  it('refuses commands outside incident channels and says where they work', async () => {
    const res = await h.slash('inspect c-1', { channel: 'C_GEN', channelName: 'general' });
    expect(res.status).toBe(200);
    // The refusal is the ack itself: no "working on it" first.
    expect(JSON.stringify(res.json)).toMatch(/incident channels/);
    expect(JSON.stringify(res.json)).not.toMatch(/Working on/);
    expect(h.slack.messagesInChannel('C_GEN')).toHaveLength(0);
    // A private channel arrives as `privategroup`: its real name is looked up.
    await h.stack.seed('postgres', 'c-e2e-private', makeConversation('c-e2e-private', 2));
    const priv = await h.slash('inspect c-e2e-private', { channel: 'C_PRIV', channelName: 'privategroup' });
    expect(JSON.stringify(priv.json)).toMatch(/Working on/);
    await h.slack.waitFor(
      (calls) => calls.some((c) => c.method === 'conversations.info'),
      5000,
      'channel lookup',
    );
    await h.slack.waitFor(
      () => h.slack.messagesInChannel('C_PRIV').length > 0,
      10_000,
      'thread in the private incident channel',
    );
  });

  it('answers malformed commands at once with usage and the closest command', async () => {
    const res = await h.slash('restroe c-1 --from postgres');
    expect(JSON.stringify(res.json)).toContain('/zeus-recover restore c-1 --from postgres');
    const help = await h.slash('help');
    expect(JSON.stringify(help.json)).toContain('inspect');
  });

  it('bare command opens the modal; its submit shows field errors inline', async () => {
    await h.slash('');
    const opened = await h.slack.waitFor(
      (calls) =>
        calls.find((c) => c.method === 'views.open' && JSON.stringify(c.args).includes('zeus_recover_modal')),
      5000,
    );
    const view = opened.args.view as { private_metadata: string };
    const bad = await h.submitView(
      'zeus_recover_modal',
      'U_ALICE',
      { conversation_id: '../x', action: 'restore' },
      view.private_metadata,
    );
    expect(bad.json).toMatchObject({ response_action: 'errors' });
    expect(Object.keys((bad.json as { errors: object }).errors)).toEqual(
      expect.arrayContaining(['conversation_id']),
    );
  });

  it('inspect posts a root message and the report as a reply in its thread', async () => {
    const id = 'c-e2e-inspect';
    await h.stack.seed('postgres', id, makeConversation(id, 3));
    await h.slash(`inspect ${id}`);
    await h.slack.waitFor(() => h.thread(id).length >= 3, 10_000, 'root + command + report');
    const thread = h.thread(id);
    expect(thread[0]?.thread_ts).toBeNull();
    expect(thread.slice(1).every((m) => m.thread_ts === thread[0]?.ts)).toBe(true);
    await h.slash(`validate ${id}`);
    await h.slack.waitFor(() => h.thread(id).length >= 5, 10_000, 'second command in the same thread');
    const roots = h.slack.messagesInChannel(CHANNEL).filter((m) => m.text.includes(`Zeus recovery: ${id}`));
    expect(roots).toHaveLength(1);
  });
});
