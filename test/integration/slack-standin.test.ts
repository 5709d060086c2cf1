import { randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { App, LogLevel as BoltLogLevel } from '@slack/bolt';
import { ErrorCode, LogLevel, WebClient, WebClientEvent, type WebClientOptions } from '@slack/web-api';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  RESPONSE_URL_METHOD,
  type SlackStandin,
  startSlackStandin,
  threadTranscript,
  UPLOAD_METHOD,
} from '../../sandbox/slack/local-slack.js';
import { blockActionsBody, postToApp, slashCommandBody } from '../../sandbox/slack/requests.js';
import { SLASH_COMMAND } from '../../src/slack-ids.js';

const TOKEN = 'xoxb-test-token';
let slack: SlackStandin;

function client(options: WebClientOptions = {}): WebClient {
  return new WebClient(TOKEN, {
    slackApiUrl: slack.apiUrl,
    logLevel: LogLevel.ERROR,
    retryConfig: { retries: 0 },
    ...options,
  });
}

beforeAll(async () => {
  slack = await startSlackStandin({
    usergroups: { S_APPROVERS: ['U_ALICE', 'U_BOB'] },
    users: { U_ALICE: { name: 'alice', real_name: 'Alice Admin' } },
  });
});

afterEach(async () => {
  await slack.setDown(false);
  slack.reset();
});

afterAll(async () => {
  await slack.stop();
});

describe('Slack stand-in with the real WebClient', () => {
  it('serves auth.test at SLACK_API_URL and records the bearer token', async () => {
    expect(slack.apiUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/api\/$/);
    const auth = await client().auth.test();
    expect(auth).toMatchObject({ ok: true, user_id: 'U_BOT', bot_id: 'B_BOT', team_id: 'T_TEST' });
    expect(slack.calls()).toEqual([
      expect.objectContaining({ method: 'auth.test', token: TOKEN, status: 200, error: null }),
    ]);
  });

  it('posts, threads and updates messages, and rebuilds the thread as Slack shows it', async () => {
    const web = client();
    const root = await web.chat.postMessage({ channel: 'C_INC', text: 'Zeus recovery: c-7f3a9e' });
    expect(root).toMatchObject({ ok: true, channel: 'C_INC', message: { text: 'Zeus recovery: c-7f3a9e' } });
    const rootTs = root.ts ?? '';
    expect(rootTs).toMatch(/^\d{10}\.\d{6}$/);

    const approval = await web.chat.postMessage({
      channel: 'C_INC',
      thread_ts: rootTs,
      text: 'Restore requested by <@U_ALICE>',
      blocks: [
        { type: 'section', text: { type: 'mrkdwn', text: 'Restore c-7f3a9e from postgres?' } },
        {
          type: 'actions',
          elements: [
            { type: 'button', action_id: 'request_approve', text: { type: 'plain_text', text: 'Approve' } },
            { type: 'button', action_id: 'request_deny', text: { type: 'plain_text', text: 'Deny' } },
          ],
        },
      ],
    });
    const third = await web.chat.postMessage({ channel: 'C_INC', thread_ts: rootTs, text: 'Inspect report' });
    expect(Number(approval.ts)).toBeGreaterThan(Number(rootTs));
    expect(Number(third.ts)).toBeGreaterThan(Number(approval.ts));

    // Blocks travel as a JSON string inside a form body; the stand-in decodes them.
    const posted = slack.calls('chat.postMessage')[1];
    expect(posted?.contentType).toContain('application/x-www-form-urlencoded');
    expect(posted?.args.blocks).toEqual(
      expect.arrayContaining([expect.objectContaining({ type: 'actions' })]),
    );

    expect(slack.transcript('C_INC', rootTs)).toEqual([
      'Zeus recovery: c-7f3a9e',
      '  Restore requested by <@U_ALICE> [Approve] [Deny]',
      '  Inspect report',
    ]);

    const updated = await web.chat.update({
      channel: 'C_INC',
      ts: approval.ts ?? '',
      text: 'Approved by <@U_BOB>',
      blocks: [{ type: 'section', text: { type: 'mrkdwn', text: 'Approved by <@U_BOB>' } }],
    });
    expect(updated).toMatchObject({ ok: true, ts: approval.ts, text: 'Approved by <@U_BOB>' });

    const thread = slack.messagesInThread('C_INC', rootTs);
    expect(thread.map((m) => m.ts)).toEqual([rootTs, approval.ts, third.ts]);
    expect(thread[1]).toMatchObject({ text: 'Approved by <@U_BOB>', edits: 1, thread_ts: rootTs });
    expect(threadTranscript(thread)).toEqual([
      'Zeus recovery: c-7f3a9e',
      '  Approved by <@U_BOB>',
      '  Inspect report',
    ]);
    expect(slack.messagesInChannel('#inc-42').map((m) => m.ts)).toEqual([rootTs]);
  });

  it('answers Slack errors as Slack does', async () => {
    const web = client();
    await expect(web.chat.update({ channel: 'C_INC', ts: '1.000001', text: 'x' })).rejects.toMatchObject({
      code: ErrorCode.PlatformError,
      data: { ok: false, error: 'message_not_found' },
    });
    await expect(web.apiCall('chat.unknownThing', {})).rejects.toMatchObject({
      data: { error: 'unknown_method' },
    });
    await expect(web.conversations.info({ channel: 'C_NOPE' })).rejects.toMatchObject({
      data: { error: 'channel_not_found' },
    });
    await expect(
      new WebClient(undefined, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } }).auth.test(),
    ).rejects.toMatchObject({
      data: { error: 'not_authed' },
    });
    slack.failWith('chat.postMessage', 'channel_is_archived');
    await expect(web.chat.postMessage({ channel: 'C_INC', text: 'x' })).rejects.toMatchObject({
      data: { error: 'channel_is_archived' },
    });
    expect(slack.calls().map((c) => c.error)).toEqual([
      'message_not_found',
      'unknown_method',
      'channel_not_found',
      'not_authed',
      'channel_is_archived',
    ]);
  });

  it('refuses blocks Slack would refuse, saying where, and stores nothing', async () => {
    const header = { type: 'header', text: { type: 'mrkdwn', text: 'Zeus recovery' } };
    await expect(
      client().chat.postMessage({ channel: 'C_INC', text: 'x', blocks: [header] }),
    ).rejects.toMatchObject({
      data: {
        error: 'invalid_blocks',
        response_metadata: { messages: [expect.stringContaining('blocks[0].text.type')] },
      },
    });
    expect(slack.messagesInChannel('C_INC')).toEqual([]);
  });

  it('answers lookups from its configuration', async () => {
    const web = client();
    await expect(web.conversations.info({ channel: 'C_INC' })).resolves.toMatchObject({
      channel: { id: 'C_INC', name: 'inc-42' },
    });
    await expect(web.conversations.info({ channel: 'C_GEN' })).resolves.toMatchObject({
      channel: { name: 'general' },
    });
    await expect(web.usergroups.users.list({ usergroup: 'S_APPROVERS' })).resolves.toMatchObject({
      users: ['U_ALICE', 'U_BOB'],
    });
    await expect(web.users.info({ user: 'U_ALICE' })).resolves.toMatchObject({
      user: { id: 'U_ALICE', name: 'alice', real_name: 'Alice Admin' },
    });
    await expect(web.users.info({ user: 'U_CAROL' })).resolves.toMatchObject({ user: { id: 'U_CAROL' } });
    const root = await web.chat.postMessage({ channel: 'C_INC', text: 'root' });
    await expect(
      web.chat.getPermalink({ channel: 'C_INC', message_ts: root.ts ?? '' }),
    ).resolves.toMatchObject({
      permalink: expect.stringContaining('/archives/C_INC/p'),
    });
    await expect(
      web.chat.postEphemeral({ channel: 'C_INC', user: 'U_ALICE', text: 'only you' }),
    ).resolves.toMatchObject({
      ok: true,
      message_ts: expect.stringMatching(/^\d+\.\d{6}$/),
    });
  });

  it('opens, updates and pushes views', async () => {
    const web = client();
    const view = {
      type: 'modal' as const,
      callback_id: 'zeus_recover_modal',
      title: { type: 'plain_text' as const, text: 'Zeus recovery' },
      blocks: [],
    };
    const opened = await web.views.open({ trigger_id: '123.456.abc', view });
    const viewId = opened.view?.id ?? '';
    expect(opened.view).toMatchObject({ callback_id: 'zeus_recover_modal', state: { values: {} } });
    await expect(web.views.update({ view_id: viewId, hash: 'stale', view })).rejects.toMatchObject({
      data: { error: 'hash_conflict' },
    });
    await expect(
      web.views.update({ view_id: viewId, hash: opened.view?.hash ?? '', view }),
    ).resolves.toMatchObject({
      view: { id: viewId },
    });
    await expect(web.views.push({ trigger_id: '123.456.def', view })).resolves.toMatchObject({ ok: true });
  });

  it('publishes a Home tab per person (views.publish), replacing it whole and checking its limits', async () => {
    const web = client();
    const home = (text: string) => ({
      type: 'home' as const,
      blocks: [{ type: 'section' as const, text: { type: 'mrkdwn' as const, text } }],
    });
    const first = await web.views.publish({ user_id: 'U_ALICE', view: home('first') });
    await web.views.publish({ user_id: 'U_ALICE', view: home('second') });
    expect(slack.homeOf('U_ALICE')?.text).toEqual(['second']);
    expect((await web.views.publish({ user_id: 'U_ALICE', view: home('third') })).view?.id).toBe(
      first.view?.id,
    );
    expect(slack.homeOf('U_BOB')).toBeUndefined();
    await expect(
      web.views.publish({
        user_id: 'U_ALICE',
        view: { type: 'home', blocks: Array(101).fill(home('x').blocks[0]) },
      }),
    ).rejects.toMatchObject({ data: { error: 'invalid_arguments' } });
    await expect(
      web.views.publish({ user_id: 'U_ALICE', view: { ...home('x'), type: 'modal' } as never }),
    ).rejects.toMatchObject({ data: { error: 'invalid_arguments' } });
    await expect(web.views.publish({ user_id: 'not-a-user', view: home('x') })).rejects.toMatchObject({
      data: { error: 'user_not_found' },
    });
    expect(slack.homeOf('U_ALICE')?.text).toEqual(['third']);
  });

  it('honours 429 + Retry-After through the client’s own retry', async () => {
    slack.failNext('chat.postMessage', { status: 429, retryAfter: 1 });
    const rateLimited: number[] = [];
    const web = client({ retryConfig: { retries: 2, factor: 1, minTimeout: 10, maxTimeout: 20 } });
    web.on(WebClientEvent.RATE_LIMITED, (seconds: number) => rateLimited.push(seconds));
    const started = Date.now();
    const result = await web.chat.postMessage({ channel: 'C_INC', text: 'after the limit' });
    expect(result.ok).toBe(true);
    expect(rateLimited).toEqual([1]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
    expect(slack.calls('chat.postMessage').map((c) => c.status)).toEqual([429, 200]);
    expect(slack.messagesInChannel('C_INC').map((m) => m.text)).toEqual(['after the limit']);
  });

  it('surfaces a 429 at once to a client that rejects rate-limited calls', async () => {
    slack.failNext('chat.update', { status: 429, retryAfter: 30 });
    await expect(
      client({ rejectRateLimitedCalls: true }).chat.update({ channel: 'C_INC', ts: '1.1', text: 'x' }),
    ).rejects.toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 30 });
  });

  it('refuses connections while down and serves again on the same port', async () => {
    const port = slack.port;
    await slack.setDown(true);
    await expect(client().auth.test()).rejects.toMatchObject({ code: ErrorCode.RequestError });
    expect(slack.calls()).toEqual([]);

    // A retrying client: the stand-in comes back after the second refused attempt.
    let failures = 0;
    const countingFetch: typeof fetch = async (input, init) => {
      try {
        return await fetch(input, init);
      } catch (err) {
        failures++;
        if (failures === 2) await slack.setDown(false);
        throw err;
      }
    };
    const web = client({
      fetch: countingFetch,
      retryConfig: { retries: 5, factor: 1, minTimeout: 10, maxTimeout: 20 },
    });
    const posted = await web.chat.postMessage({ channel: 'C_INC', text: 'back' });
    expect(posted.ok).toBe(true);
    expect(failures).toBe(2);
    expect(slack.port).toBe(port);
    expect(slack.isDown).toBe(false);
  });

  it('drops kept-alive connections when going down', async () => {
    const web = client();
    await web.auth.test();
    await slack.setDown(true);
    await expect(web.auth.test()).rejects.toMatchObject({ code: ErrorCode.RequestError });
    await slack.setDown(false);
    await expect(web.auth.test()).resolves.toMatchObject({ ok: true });
  });

  it('takes a files.uploadV2 end to end into a thread, byte for byte', async () => {
    const web = client();
    const root = await web.chat.postMessage({ channel: 'C_INC', text: 'Zeus recovery: c-1' });
    const content = Buffer.concat([
      Buffer.from('{"id":"c-1","n":12345678901234567890}\n'),
      randomBytes(4096),
    ]);
    const result = await web.files.uploadV2({
      channel_id: 'C_INC',
      thread_ts: root.ts ?? '',
      file: content,
      filename: 'c-1.redis.json',
      initial_comment: 'Export of c-1 (redis)',
    });
    expect(result.ok).toBe(true);

    expect(slack.calls().map((c) => c.method)).toEqual([
      'chat.postMessage',
      'files.getUploadURLExternal',
      UPLOAD_METHOD,
      'files.completeUploadExternal',
    ]);
    const [file] = slack.files();
    expect(file).toMatchObject({
      filename: 'c-1.redis.json',
      length: content.length,
      completed: true,
      channel_id: 'C_INC',
      thread_ts: root.ts,
      initial_comment: 'Export of c-1 (redis)',
    });
    expect(file?.bytes?.equals(content)).toBe(true);
    expect(slack.calls(UPLOAD_METHOD)[0]?.contentType).toContain('multipart/form-data');
    expect(slack.transcript('C_INC', root.ts ?? '')).toEqual([
      'Zeus recovery: c-1',
      '  Export of c-1 (redis) [file c-1.redis.json]',
    ]);
  });

  it('records response_url posts, up to Slack’s five uses', async () => {
    const url = slack.responseUrl('cmd-1');
    for (let i = 1; i <= 6; i++) {
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ response_type: 'ephemeral', text: `update ${i}` }),
      });
      expect(res.status).toBe(i <= 5 ? 200 : 404);
    }
    expect(slack.responses('cmd-1').map((r) => (r.body as { text: string }).text)).toEqual([
      'update 1',
      'update 2',
      'update 3',
      'update 4',
      'update 5',
    ]);
    expect(slack.calls(RESPONSE_URL_METHOD)).toHaveLength(6);
  });

  it('waits for a call without sleeping, and explains a timeout', async () => {
    const web = client();
    const waiting = slack.waitFor(
      (calls) => calls.find((c) => c.method === 'chat.postMessage' && c.args.text === 'late'),
      2000,
    );
    setTimeout(() => void web.chat.postMessage({ channel: 'C_INC', text: 'late' }), 30);
    await expect(waiting).resolves.toMatchObject({ args: { channel: 'C_INC', text: 'late' } });
    await expect(slack.waitFor((calls) => calls.length > 5, 50, 'six calls')).rejects.toThrow(
      /timed out after 50 ms waiting for six calls; calls: \[chat.postMessage\]/,
    );
  });

  it('serves a Bolt app end to end with the signed request helpers', async () => {
    const secret = 'bolt-signing-secret';
    const app = new App({
      token: TOKEN,
      signingSecret: secret,
      clientOptions: { slackApiUrl: slack.apiUrl },
      logLevel: BoltLogLevel.ERROR,
    });
    app.command(SLASH_COMMAND, async ({ ack, command, respond, client: web }) => {
      await ack();
      await respond({ response_type: 'ephemeral', text: `got ${command.text}` });
      await web.chat.postMessage({ channel: command.channel_id, text: `Zeus recovery: ${command.text}` });
    });
    app.action('request_approve', async ({ ack, action, respond }) => {
      await ack();
      await respond({ replace_original: true, text: `approved ${'value' in action ? action.value : ''}` });
    });
    const server = (await app.start(0)) as Server;
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const command = await postToApp(
        base,
        slashCommandBody({ text: 'c-1', response_url: slack.responseUrl('cmd') }),
        {
          secret,
        },
      );
      expect(command.status).toBe(200);
      const root = await slack.waitFor(
        (_calls, s) => s.messagesInChannel('C_INC')[0],
        2000,
        'the root message',
      );
      expect(root.text).toBe('Zeus recovery: c-1');

      const click = blockActionsBody({
        user: 'U_BOB',
        channel: 'C_INC',
        message_ts: root.ts,
        action_id: 'request_approve',
        value: 'req_1',
        response_url: slack.responseUrl('click'),
      });
      expect((await postToApp(base, click, { secret })).status).toBe(200);
      expect((await postToApp(base, click, { secret, badSignature: true })).status).toBe(401);
      await slack.waitFor((_calls, s) => s.responses('click').length === 1, 2000, 'the click response');
      expect(slack.responses().map((r) => r.body)).toEqual([
        { response_type: 'ephemeral', text: 'got c-1' },
        { replace_original: true, text: 'approved req_1' },
      ]);
      expect(slack.calls().map((c) => c.method)).toEqual([
        'auth.test',
        RESPONSE_URL_METHOD,
        'chat.postMessage',
        RESPONSE_URL_METHOD,
      ]);
    } finally {
      await app.stop();
    }
  });
});
