import { createServer, type IncomingMessage, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { appHomeOpenedBody, postToApp, signRequest, slashCommandBody } from '../../sandbox/slack/requests.js';
import {
  checkBody,
  guardSlackRequests,
  MAX_BODY_BYTES,
  type Refusal,
} from '../../src/slack/request-guard.js';
import { rawExchange } from '../helpers/net.js';

const SECRET = 'unit-signing-secret';
let server: Server;
let base: string;
const passed: { path: string; rawBody: string | undefined }[] = [];
const refused: Refusal[] = [];
const errors: unknown[] = [];

beforeAll(async () => {
  // What stands behind the guard (Bolt in the bot): records what reached it.
  const behind = (req: IncomingMessage & { rawBody?: Buffer }, res: import('node:http').ServerResponse) => {
    passed.push({ path: req.url ?? '', rawBody: req.rawBody?.toString('utf8') });
    res.writeHead(200);
    res.end('behind');
  };
  server = createServer(
    guardSlackRequests(behind, {
      signingSecret: SECRET,
      endpoints: ['/slack/events'],
      onRefused: (r) => refused.push(r),
      onError: (err) => errors.push(err),
    }),
  );
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

const form = { 'content-type': 'application/x-www-form-urlencoded' };

describe('guardSlackRequests', () => {
  it('hands a fresh, signed, well-formed command to what is behind it, with the body already read', async () => {
    const body = slashCommandBody({ text: 'help' });
    const res = await postToApp(base, body, { secret: SECRET });
    expect(res.status).toBe(200);
    expect(passed.at(-1)).toEqual({ path: '/slack/events', rawBody: body });
  });

  it("lets Slack's unsigned SSL check through, and nothing else unsigned", async () => {
    const ok = await fetch(`${base}/slack/events`, {
      method: 'POST',
      headers: form,
      body: 'ssl_check=1&token=x',
    });
    expect(ok.status).toBe(200);
    const other = await postToApp(base, slashCommandBody({ text: 'help' }), {
      secret: SECRET,
      omitHeaders: true,
    });
    expect(other.status).toBe(401);
  });

  it('guards the endpoint however the request names it (absolute-form target), and refuses an unparsable one', async () => {
    const absolute = await new Promise<number>((resolve, reject) => {
      const req = request(
        {
          host: '127.0.0.1',
          port: new URL(base).port,
          method: 'POST',
          path: `${base}/slack/events`,
          headers: form,
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end('payload=null');
    });
    expect(absolute).toBe(401);
    const raw = await rawExchange(
      Number(new URL(base).port),
      'POST http://[/slack/events HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n',
      true,
    );
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
  });

  it('lets a client that hangs up mid-body go: no answer, no error, nothing passed on', async () => {
    const seen = { passed: passed.length, refused: refused.length };
    const body = slashCommandBody({ text: 'help' });
    const sig = signRequest(SECRET, body);
    await new Promise<void>((resolve, reject) => {
      const socket = connect(Number(new URL(base).port), '127.0.0.1', () => {
        socket.write(
          `POST /slack/events HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
            `X-Slack-Request-Timestamp: ${sig.timestamp}\r\nX-Slack-Signature: ${sig.signature}\r\n` +
            `Content-Length: ${body.length}\r\n\r\n${body.slice(0, 20)}`,
          () => setTimeout(() => socket.destroy(), 50),
        );
      });
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    await new Promise((r) => setTimeout(r, 100));
    expect(errors).toEqual([]);
    expect({ passed: passed.length, refused: refused.length }).toEqual(seen);
  });

  it('leaves other paths alone', async () => {
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    expect(passed.at(-1)?.path).toBe('/healthz');
  });

  it.each([
    ['in the future', 6 * 60, 401, 'future_timestamp'],
    ['in the past', -6 * 60, 401, 'stale_timestamp'],
  ])('refuses a timestamp 6 minutes %s', async (_label, skew, status, reason) => {
    const res = await postToApp(base, slashCommandBody({ text: 'help' }), {
      secret: SECRET,
      timestamp: Math.floor(Date.now() / 1000) + skew,
    });
    expect(res.status).toBe(status);
    expect(refused.at(-1)?.reason).toBe(reason);
  });

  it.each([
    ['a wrong command', slashCommandBody({ text: 'x', command: '/other' }), 'bad_command'],
    ['a repeated field', `${slashCommandBody({ text: 'x' })}&text=y`, 'repeated_field'],
    ['a command without text', slashCommandBody({ text: 'x' }).replace(/&text=[^&]*/, ''), 'bad_command'],
    ['an event smuggled into a command', `${slashCommandBody({ text: 'x' })}&event=x`, 'bad_command'],
    ['payload=null', 'payload=null', 'bad_payload'],
    ['a payload of another type', `payload=${encodeURIComponent('{"type":"shortcut"}')}`, 'bad_payload'],
  ])('answers 400 to %s', async (_label, body, reason) => {
    const res = await postToApp(base, body, { secret: SECRET });
    expect(res.status).toBe(400);
    expect(refused.at(-1)?.reason).toBe(reason);
  });

  it('accepts a URL verification and refuses any other JSON', async () => {
    const check = JSON.stringify({ type: 'url_verification', challenge: 'c', token: 't' });
    const json = { 'content-type': 'application/json' };
    expect((await postToApp(base, check, { secret: SECRET, headers: json })).status).toBe(200);
    const event = JSON.stringify({ type: 'event_callback', event: null });
    expect((await postToApp(base, event, { secret: SECRET, headers: json })).status).toBe(400);
  });

  it('accepts the events the app subscribes to (App Home) and refuses others', async () => {
    const json = { 'content-type': 'application/json' };
    const home = appHomeOpenedBody({ user: 'U_ALICE' });
    expect((await postToApp(base, home, { secret: SECRET, headers: json })).status).toBe(200);
    const other = home.replace('app_home_opened', 'message');
    expect((await postToApp(base, other, { secret: SECRET, headers: json })).status).toBe(400);
    const noUser = home.replace('"user":"U_ALICE"', '"user":""');
    expect((await postToApp(base, noUser, { secret: SECRET, headers: json })).status).toBe(400);
  });

  it('refuses a signed body one byte over the limit with 413', async () => {
    const body = `${slashCommandBody({ text: '' })}${'a'.repeat(MAX_BODY_BYTES)}`;
    const res = await postToApp(base, body, { secret: SECRET });
    expect(res.status).toBe(413);
    expect(refused.at(-1)).toEqual({ status: 413, reason: 'too_large' });
  });
});

describe('checkBody, for any body', () => {
  const FORM = 'application/x-www-form-urlencoded';
  it('never throws, and passes nothing whose payload is not an object of a type the app handles', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.string(), (value, raw) => {
        const payload = `payload=${encodeURIComponent(JSON.stringify(value) ?? 'null')}`;
        const verdict = checkBody(FORM, Buffer.from(payload));
        const handled =
          typeof value === 'object' &&
          value !== null &&
          !Array.isArray(value) &&
          ['block_actions', 'view_submission'].includes(String((value as { type?: unknown }).type));
        if (!handled) expect(verdict).not.toBeNull();
        for (const type of [FORM, 'application/json', undefined]) {
          expect(['string', 'object']).toContain(typeof checkBody(type, Buffer.from(raw)));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
