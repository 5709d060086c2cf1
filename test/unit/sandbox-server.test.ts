import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isValidSlackRequest } from '@slack/bolt';
import { type Logger, LogLevel, WebClient } from '@slack/web-api';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { APPROVER, demoWorkspace, INCIDENT_CHANNEL, REQUESTER } from '../../sandbox/demo.js';
import { LocalSlack } from '../../sandbox/slack/local-slack.js';
import { buildStateValues } from '../../sandbox/slack/people.js';
import { viewValues } from '../../src/commands/context.js';
import { recoveryModal } from '../../src/views/modal.js';

/**
 * The sandbox without the bot: a tiny app stands in for it, so each test sees exactly what the
 * sandbox sends (signed as Slack signs) and what it does with the answers and Web API calls.
 */

type Json = Record<string, unknown>;
const SECRET = 'unit-test-signing-secret-0123456789';
const TOKEN = 'xoxb-unit-test';

interface Received {
  headers: IncomingMessage['headers'];
  body: string;
  form: URLSearchParams;
  payload: Json | null;
}

let sandbox: LocalSlack;
let app: Server;
let received: Received[] = [];
/** How the fake app answers the next request (after it has been recorded). */
let answer: (r: Received) => { status?: number; json?: unknown } = () => ({});
let client: WebClient;

// Refusals are the point of some tests; the SDK need not print them.
const quiet: Logger = {
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
  setLevel: () => {},
  getLevel: () => LogLevel.ERROR,
  setName: () => {},
};

async function readAll(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

beforeAll(async () => {
  sandbox = await LocalSlack.start({
    workspace: demoWorkspace(),
    botToken: TOKEN,
    page: { signingSecret: SECRET, commands: ['/zeus-recover'] },
  });
  app = createServer((req, res) => {
    void readAll(req).then((body) => {
      const form = new URLSearchParams(body);
      const raw = form.get('payload');
      const r: Received = {
        headers: req.headers,
        body,
        form,
        payload: raw ? (JSON.parse(raw) as Json) : null,
      };
      received.push(r);
      const out = answer(r);
      res.writeHead(out.status ?? 200, { 'content-type': 'application/json' });
      res.end(out.json === undefined ? '' : JSON.stringify(out.json));
    });
  });
  await new Promise<void>((resolve) => app.listen(0, '127.0.0.1', resolve));
  sandbox.connectApp(`http://127.0.0.1:${(app.address() as AddressInfo).port}/slack/events`);
  client = new WebClient(TOKEN, { slackApiUrl: sandbox.apiUrl, retryConfig: { retries: 0 }, logger: quiet });
});

afterAll(async () => {
  await sandbox.stop();
  await new Promise<void>((resolve) => app.close(() => resolve()));
});

beforeEach(() => {
  received = [];
  answer = () => ({});
});

async function ui(path: string, body: Json): Promise<Json> {
  const res = await fetch(`${sandbox.url}/ui/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return (await res.json()) as Json;
}

async function state(
  user: string,
): Promise<Json & { messages: Json[]; ephemerals: Json[]; modal: Json | null }> {
  const res = await fetch(`${sandbox.url}/ui/state?user=${user}`);
  return (await res.json()) as Json & { messages: Json[]; ephemerals: Json[]; modal: Json | null };
}

function signedBySlack(r: Received): boolean {
  return isValidSlackRequest({
    signingSecret: SECRET,
    body: r.body,
    headers: {
      'x-slack-signature': String(r.headers['x-slack-signature']),
      'x-slack-request-timestamp': Number(r.headers['x-slack-request-timestamp']),
    },
  });
}

async function until<T>(get: () => T | undefined | Promise<T | undefined>, what: string): Promise<T> {
  const deadline = Date.now() + 3000;
  for (;;) {
    const value = await get();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('requests to the app', () => {
  it('a typed command arrives signed and form-encoded, from the acting user, with Slack’s escaping', async () => {
    answer = () => ({ json: { response_type: 'ephemeral', text: 'working on it' } });
    expect(
      await ui('command', {
        user: APPROVER.id,
        channel: INCIDENT_CHANNEL.id,
        text: '/zeus-recover inspect a&b <c>',
      }),
    ).toEqual({ ok: true });
    const r = received[0];
    if (!r) throw new Error('no request');
    expect(r.headers['content-type']).toBe('application/x-www-form-urlencoded');
    expect(signedBySlack(r)).toBe(true);
    expect(Object.fromEntries(r.form)).toMatchObject({
      command: '/zeus-recover',
      text: 'inspect a&amp;b &lt;c&gt;',
      user_id: APPROVER.id,
      user_name: 'bob',
      channel_id: INCIDENT_CHANNEL.id,
      channel_name: 'inc-4242',
      team_id: 'T0SANDBOX',
    });
    expect(r.form.get('response_url')).toMatch(new RegExp(`^${sandbox.url}/response/`));
    expect(r.form.get('trigger_id')).toMatch(/^\d+\.\d+\.[a-z0-9]+$/);
    // The ack is private to whoever typed the command.
    expect((await state(APPROVER.id)).ephemerals.map((e) => e.text)).toContain('working on it');
    expect((await state(REQUESTER.id)).ephemerals.map((e) => e.text)).not.toContain('working on it');
  });

  it('an unknown command, or an app that fails, is reported by Slackbot as Slack does', async () => {
    await ui('command', { user: REQUESTER.id, channel: INCIDENT_CHANNEL.id, text: '/nope' });
    expect(received).toHaveLength(0);
    answer = () => ({ status: 500 });
    expect(
      await ui('command', { user: REQUESTER.id, channel: INCIDENT_CHANNEL.id, text: '/zeus-recover help' }),
    ).toMatchObject({
      ok: false,
      error: 'dispatch_failed',
    });
    const texts = (await state(REQUESTER.id)).ephemerals
      .filter((e) => e.from === 'slackbot')
      .map((e) => e.text);
    expect(texts).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/`\/nope` is not a valid command/),
        '`/zeus-recover` failed with the error "dispatch_failed"',
      ]),
    );
  });

  it('a button click is a signed block_actions payload from the clicking user, answered through response_url', async () => {
    const root = await client.chat.postMessage({ channel: INCIDENT_CHANNEL.id, text: 'root' });
    const reply = await client.chat.postMessage({
      channel: INCIDENT_CHANNEL.id,
      thread_ts: root.ts ?? '',
      reply_broadcast: true,
      text: 'approve?',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: 'approve?' } },
        {
          type: 'actions',
          block_id: 'request_actions',
          elements: [
            {
              type: 'button',
              action_id: 'request_approve',
              text: { type: 'plain_text', text: 'Approve' },
              value: 'rq_1',
            },
          ],
        },
      ],
    });
    expect(reply.message?.thread_ts).toBe(root.ts);
    const stored = (await state(REQUESTER.id)).messages.find((m) => m.ts === reply.ts);
    expect(stored).toMatchObject({ threadTs: root.ts, replyBroadcast: true });
    // Slack gives blocks without an id one of its own.
    expect(((stored?.blocks ?? []) as Json[])[0]?.block_id).toEqual(expect.any(String));

    await ui('action', {
      user: APPROVER.id,
      container: { type: 'message', channel: INCIDENT_CHANNEL.id, ts: reply.ts },
      blockId: 'request_actions',
      actionId: 'request_approve',
    });
    const r = received[0];
    if (!r?.payload) throw new Error('no payload');
    expect(signedBySlack(r)).toBe(true);
    expect(r.payload).toMatchObject({
      type: 'block_actions',
      user: { id: APPROVER.id, username: 'bob' },
      channel: { id: INCIDENT_CHANNEL.id, name: 'inc-4242' },
      container: { type: 'message', message_ts: reply.ts, thread_ts: root.ts, is_ephemeral: false },
      actions: [{ type: 'button', action_id: 'request_approve', block_id: 'request_actions', value: 'rq_1' }],
    });
    expect((r.payload.message as Json).blocks).toHaveLength(2);

    const responseUrl = String(r.payload.response_url);
    const res = await fetch(responseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text: 'Approved.' }),
    });
    expect(res.status).toBe(200);
    const bobs = (await state(APPROVER.id)).ephemerals.find((e) => e.text === 'Approved.');
    expect(bobs).toMatchObject({ threadTs: root.ts, from: 'app' });
    // replace_original edits the clicked message itself.
    await fetch(responseUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ replace_original: true, text: 'decided' }),
    });
    expect((await state(REQUESTER.id)).messages.find((m) => m.ts === reply.ts)).toMatchObject({
      text: 'decided',
      blocks: null,
      edited: true,
    });
  });

  it('modals: views.open with the trigger, view_submission with Slack-shaped state, inline errors, close on empty ack', async () => {
    answer = (r) => {
      const trigger = r.form.get('trigger_id');
      if (trigger)
        void client.views.open({
          trigger_id: trigger,
          view: recoveryModal({ channelId: INCIDENT_CHANNEL.id }),
        });
      return {};
    };
    await ui('command', { user: REQUESTER.id, channel: INCIDENT_CHANNEL.id, text: '/zeus-recover' });
    const modal = await until(async () => (await state(REQUESTER.id)).modal ?? undefined, 'the modal');
    expect((await state(APPROVER.id)).modal).toBeNull();

    answer = () => ({
      json: { response_action: 'errors', errors: { conversation_id: 'That is not a conversation id.' } },
    });
    const submitted = await ui('submit', {
      user: REQUESTER.id,
      viewId: modal.id,
      values: {
        conversation_id: { conversation_id: { value: 'bad id!' } },
        action: { action: { selected: 'inspect' } },
      },
    });
    expect(submitted).toMatchObject({
      ok: true,
      closed: false,
      errors: { conversation_id: 'That is not a conversation id.' },
    });
    const payload = received.at(-1)?.payload;
    if (!payload) throw new Error('no submission');
    expect(payload.type).toBe('view_submission');
    const view = payload.view as Json & { state: { values: Record<string, Record<string, Json>> } };
    expect(view.callback_id).toBe('zeus_recover_modal');
    expect(view.state.values.conversation_id).toEqual({
      conversation_id: { type: 'plain_text_input', value: 'bad id!' },
    });
    expect(view.state.values.action?.action).toMatchObject({
      type: 'static_select',
      selected_option: { value: 'inspect' },
    });
    // Empty fields are null, as Slack sends them, and the bot reads the state as it would from Slack.
    expect(view.state.values.backup_id).toEqual({ backup_id: { type: 'plain_text_input', value: null } });
    expect(viewValues(view.state as Parameters<typeof viewValues>[0])).toMatchObject({
      conversation_id: 'bad id!',
      action: 'inspect',
      backup_id: undefined,
    });
    expect((await state(REQUESTER.id)).modal).toMatchObject({
      errors: { conversation_id: 'That is not a conversation id.' },
    });

    answer = () => ({});
    expect(await ui('submit', { user: REQUESTER.id, viewId: modal.id, values: {} })).toMatchObject({
      closed: true,
    });
    expect((await state(REQUESTER.id)).modal).toBeNull();
  });
});

describe('Web API', () => {
  it('refuses a wrong token, bad blocks, unknown threads and stale triggers with Slack’s error codes', async () => {
    const wrong = new WebClient('xoxb-wrong', {
      slackApiUrl: sandbox.apiUrl,
      retryConfig: { retries: 0 },
      logger: quiet,
    });
    await expect(wrong.auth.test()).rejects.toMatchObject({ data: { error: 'invalid_auth' } });
    expect(await client.auth.test()).toMatchObject({ ok: true, user_id: 'U0ZEUSBOT', team_id: 'T0SANDBOX' });
    const tooMany = Array.from({ length: 51 }, () => ({ type: 'divider' }));
    await expect(
      client.chat.postMessage({ channel: INCIDENT_CHANNEL.id, text: 'x', blocks: tooMany }),
    ).rejects.toMatchObject({
      data: { error: 'invalid_blocks' },
    });
    await expect(
      client.chat.postMessage({ channel: INCIDENT_CHANNEL.id, text: 'x', thread_ts: '1.000001' }),
    ).rejects.toMatchObject({
      data: { error: 'thread_not_found' },
    });
    await expect(
      client.views.open({ trigger_id: 'made-up', view: recoveryModal({ channelId: 'C' }) }),
    ).rejects.toMatchObject({
      data: { error: 'invalid_trigger_id' },
    });
    expect(await client.conversations.info({ channel: INCIDENT_CHANNEL.id })).toMatchObject({
      channel: { name: 'inc-4242' },
    });
    expect(await client.users.info({ user: APPROVER.id })).toMatchObject({
      user: { name: 'bob', real_name: 'Bob Okafor' },
    });
    expect(await client.usergroups.users.list({ usergroup: 'S0ONCALL' })).toMatchObject({
      users: [APPROVER.id],
    });
  });

  it('uploads a file to a thread (files.uploadV2 steps)', async () => {
    const root = await client.chat.postMessage({ channel: INCIDENT_CHANNEL.id, text: 'export root' });
    await client.filesUploadV2({
      channel_id: INCIDENT_CHANNEL.id,
      thread_ts: root.ts ?? '',
      file: Buffer.from('{"id":"c-1"}'),
      filename: 'c-1.json',
      initial_comment: 'export',
    });
    const shared = (await state(REQUESTER.id)).messages.find((m) => m.threadTs === root.ts);
    const files = shared?.files as { id: string; name: string }[];
    expect(files[0]?.name).toBe('c-1.json');
    const download = await fetch(`${sandbox.url}/files/${files[0]?.id}`);
    expect(await download.text()).toBe('{"id":"c-1"}');
    expect(download.headers.get('content-disposition')).toMatch(/^attachment/);
  });

  it('the page is served with a strict content security policy, and refuses cross-site posts', async () => {
    const page = await fetch(sandbox.url);
    expect(page.headers.get('content-security-policy')).toMatch(/script-src 'self'/);
    expect(await page.text()).toContain('<script type="module" src="/app.js">');
    const cross = await fetch(`${sandbox.url}/ui/message`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', origin: 'http://evil.example' },
      body: JSON.stringify({ user: REQUESTER.id, channel: INCIDENT_CHANNEL.id, text: 'hi' }),
    });
    expect(cross.status).toBe(403);
  });
});

describe('buildStateValues', () => {
  it('covers every input block, with selects as option objects', () => {
    const values = buildStateValues(
      [
        { type: 'section', block_id: 's', text: { type: 'mrkdwn', text: 'x' } },
        { type: 'input', block_id: 'n', element: { type: 'number_input', action_id: 'n' } },
        {
          type: 'input',
          block_id: 'c',
          element: {
            type: 'checkboxes',
            action_id: 'c',
            options: [{ text: { type: 'plain_text', text: 'A' }, value: 'a' }],
          },
        },
      ],
      { n: { n: { value: '3' } }, c: { c: { selected: ['a', 'zz'] } } },
    );
    expect(values).toEqual({
      n: { n: { type: 'number_input', value: '3' } },
      c: {
        c: {
          type: 'checkboxes',
          selected_options: [{ text: { type: 'plain_text', text: 'A' }, value: 'a' }],
        },
      },
    });
  });
});
