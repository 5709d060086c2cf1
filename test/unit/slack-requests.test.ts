import { createHmac } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { isValidSlackRequest } from '@slack/bolt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  blockActionsBody,
  postToApp,
  signRequest,
  slashCommandBody,
  stateValues,
  viewSubmissionBody,
} from '../../sandbox/slack/requests.js';

const SECRET = 'test-signing-secret';

function payloadOf(body: string): Record<string, unknown> {
  const raw = new URLSearchParams(body).get('payload');
  if (raw === null) throw new Error('no payload field');
  return JSON.parse(raw) as Record<string, unknown>;
}

describe('signRequest', () => {
  it("matches the example in Slack's 'Verifying requests from Slack'", () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(signRequest('8f742231b10e8888abcd99yyyzzz85a5', body, 1531420618)).toEqual({
      timestamp: '1531420618',
      signature: 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    });
  });

  it('is v0= + 64 hex of HMAC-SHA256 over v0:{ts}:{body}, now by default', () => {
    const before = Math.floor(Date.now() / 1000);
    const { timestamp, signature } = signRequest(SECRET, 'a=b');
    expect(signature).toMatch(/^v0=[0-9a-f]{64}$/);
    expect(Number(timestamp)).toBeGreaterThanOrEqual(before);
    const expected = createHmac('sha256', SECRET).update(`v0:${timestamp}:a=b`).digest('hex');
    expect(signature).toBe(`v0=${expected}`);
  });

  it("passes Bolt's own verifier, and a tampered body does not", () => {
    const body = slashCommandBody({ text: 'inspect c-1' });
    const { timestamp, signature } = signRequest(SECRET, body);
    const headers = { 'x-slack-signature': signature, 'x-slack-request-timestamp': Number(timestamp) };
    expect(isValidSlackRequest({ signingSecret: SECRET, body, headers })).toBe(true);
    expect(isValidSlackRequest({ signingSecret: SECRET, body: `${body}x`, headers })).toBe(false);
  });
});

describe('request bodies', () => {
  it('encodes a slash command with every field Slack sends, in its order', () => {
    const body = slashCommandBody({
      text: 'restore c-1 --from postgres --reason “lost”',
      user_id: 'U_ALICE',
      response_url: 'http://127.0.0.1:1/response/r1',
      trigger_id: '1.2.3',
    });
    const fields = new URLSearchParams(body);
    expect([...fields.keys()]).toEqual([
      'token',
      'team_id',
      'team_domain',
      'channel_id',
      'channel_name',
      'user_id',
      'user_name',
      'command',
      'text',
      'api_app_id',
      'is_enterprise_install',
      'response_url',
      'trigger_id',
    ]);
    expect(fields.get('command')).toBe('/zeus-recover');
    expect(fields.get('text')).toBe('restore c-1 --from postgres --reason “lost”');
    expect(fields.get('channel_name')).toBe('inc-42');
    expect(fields.get('is_enterprise_install')).toBe('false');
    expect(body).toContain('command=%2Fzeus-recover');
  });

  it('shapes block_actions like Slack', () => {
    const payload = payloadOf(
      blockActionsBody({
        user: { id: 'U_BOB', name: 'bob' },
        channel: 'C_INC',
        message_ts: '1700000000.000200',
        thread_ts: '1700000000.000100',
        action_id: 'request_approve',
        value: 'req_123',
        response_url: 'http://127.0.0.1:1/response/a1',
        trigger_id: '9.9.9',
      }),
    );
    expect(payload).toMatchObject({
      type: 'block_actions',
      user: { id: 'U_BOB', username: 'bob', team_id: 'T_TEST' },
      team: { id: 'T_TEST' },
      channel: { id: 'C_INC', name: 'inc-42' },
      container: {
        type: 'message',
        message_ts: '1700000000.000200',
        channel_id: 'C_INC',
        thread_ts: '1700000000.000100',
      },
      message: { ts: '1700000000.000200', thread_ts: '1700000000.000100' },
      trigger_id: '9.9.9',
      response_url: 'http://127.0.0.1:1/response/a1',
      actions: [{ type: 'button', action_id: 'request_approve', value: 'req_123' }],
    });
  });

  it('shapes view_submission with state values like Slack', () => {
    const payload = payloadOf(
      viewSubmissionBody({
        user: 'U_ALICE',
        view: {
          callback_id: 'zeus_recover_modal',
          private_metadata: '{"channel":"C_INC"}',
          state: {
            values: stateValues({
              conversation_id: 'c-1',
              action: { type: 'static_select', value: 'restore', text: 'Restore' },
              from_step: { type: 'number_input', value: null, action_id: 'from_step_input' },
            }),
          },
        },
      }),
    );
    expect(payload).toMatchObject({
      type: 'view_submission',
      user: { id: 'U_ALICE' },
      view: {
        type: 'modal',
        callback_id: 'zeus_recover_modal',
        private_metadata: '{"channel":"C_INC"}',
        state: {
          values: {
            conversation_id: { conversation_id: { type: 'plain_text_input', value: 'c-1' } },
            action: {
              action: {
                type: 'static_select',
                selected_option: { value: 'restore', text: { text: 'Restore' } },
              },
            },
            from_step: { from_step_input: { type: 'number_input', value: null } },
          },
        },
      },
    });
  });
});

describe('postToApp', () => {
  let server: Server;
  let baseUrl: string;

  beforeAll(async () => {
    // Answers what Bolt's verifier thinks of the request, and echoes what arrived.
    server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const signature = req.headers['x-slack-signature'];
        const timestamp = req.headers['x-slack-request-timestamp'];
        const valid =
          typeof signature === 'string' &&
          typeof timestamp === 'string' &&
          isValidSlackRequest({
            signingSecret: SECRET,
            body,
            headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': Number(timestamp) },
          });
        res.writeHead(valid ? 200 : 401, { 'content-type': 'application/json', 'x-path': req.url ?? '' });
        res.end(
          JSON.stringify({
            valid,
            contentType: req.headers['content-type'],
            retry: req.headers['x-slack-retry-num'] ?? null,
          }),
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('POSTs a signed form body to /slack/events', async () => {
    const res = await postToApp(baseUrl, slashCommandBody({ text: 'help' }), {
      secret: SECRET,
      headers: { 'x-slack-retry-num': '1' },
    });
    expect(res.status).toBe(200);
    expect(res.headers['x-path']).toBe('/slack/events');
    expect(res.json).toEqual({ valid: true, contentType: 'application/x-www-form-urlencoded', retry: '1' });
  });

  it.each([
    ['a wrong signature', { badSignature: true }],
    ['a stale timestamp', { timestamp: Math.floor(Date.now() / 1000) - 600 }],
    ['no headers', { omitHeaders: true }],
    ['no signature', { omitHeaders: ['signature'] as const }],
  ])('sends %s when asked', async (_label, options) => {
    const res = await postToApp(baseUrl, slashCommandBody({ text: 'help' }), { secret: SECRET, ...options });
    expect(res.status).toBe(401);
    expect(res.json).toMatchObject({ valid: false });
  });
});
