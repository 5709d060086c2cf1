import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startZeusStandin, type ZeusStandin } from '../../sandbox/zeus/zeus.js';
import { ErrorCode } from '../../src/errors.js';
import {
  createZeusClient,
  isZeusAmbiguous,
  parseRetryAfter,
  parseStatus,
  type ZeusClientOptions,
  zeusFailure,
} from '../../src/recovery/zeus-api.js';
import { recoveryError } from '../helpers/errors.js';

let zeus: ZeusStandin;
let waits: number[];

beforeAll(async () => {
  zeus = await startZeusStandin();
});
afterAll(async () => zeus.close());
afterEach(async () => {
  // A test that stopped the listener must not leave the next one without a server.
  await zeus.acceptConnections();
});

/** A client on the stand-in whose waits are recorded instead of slept. */
function client(over: Partial<ZeusClientOptions> = {}) {
  waits = [];
  return createZeusClient({
    baseUrl: zeus.url,
    token: zeus.token,
    timeoutMs: 1000,
    sleep: async (ms) => {
      waits.push(ms);
    },
    ...over,
  });
}

let seq = 0;
const key = () => `rq_test-${++seq}`;

describe('replay', () => {
  it('POSTs once with the body, the bearer token and the Idempotency-Key', async () => {
    const before = zeus.replayCalls().length;
    const k = key();
    const accepted = await client().replay('c-api1', 4, k);
    const calls = zeus.replayCalls().slice(before);
    expect(calls).toHaveLength(1);
    const call = calls[0];
    expect(call?.json).toEqual({ conversation_id: 'c-api1', from_step: 4 });
    expect(call?.headers.authorization).toBe(`Bearer ${zeus.token}`);
    expect(call?.headers['idempotency-key']).toBe(k);
    expect(call?.headers['content-type']).toBe('application/json');
    expect(accepted).toMatchObject({ httpStatus: 202, attempts: 1, replayId: expect.stringMatching(/^rp_/) });
    expect(zeus.replays.filter((r) => r.idempotencyKey === k)).toHaveLength(1);
  });

  it('works with a base URL that ends in a slash', async () => {
    const before = zeus.replayCalls().length;
    await client({ baseUrl: `${zeus.url}/` }).replay('c-api1b', 1, key());
    expect(zeus.replayCalls().slice(before)[0]?.path).toBe('/zeus/replay');
  });

  it('429 with Retry-After in seconds: waits that long, then succeeds — two POSTs, one replay', async () => {
    const before = zeus.replayCalls().length;
    const k = key();
    zeus.failNext(429, 7);
    const accepted = await client().replay('c-api2', 2, k);
    expect(zeus.replayCalls().length - before).toBe(2);
    expect(waits).toEqual([7000]);
    expect(accepted.attempts).toBe(2);
    expect(zeus.replays.filter((r) => r.idempotencyKey === k)).toHaveLength(1);
  });

  it('429 with Retry-After as an HTTP date: waits until then', async () => {
    zeus.failNext(429, new Date(Date.now() + 5000).toUTCString());
    await client().replay('c-api3', 1, key());
    expect(waits).toHaveLength(1);
    // HTTP dates have whole-second precision.
    expect(waits[0]).toBeGreaterThan(3000);
    expect(waits[0]).toBeLessThanOrEqual(5000);
  });

  it('a Retry-After beyond the cap is not retried early: it fails and says when to try', async () => {
    const before = zeus.replayCalls().length;
    zeus.failNext(429, 120);
    const err = await recoveryError(client().replay('c-api4', 1, key()));
    expect(zeus.replayCalls().length - before).toBe(1);
    expect(waits).toEqual([]);
    expect(zeusFailure(err)).toBe('unavailable');
    expect(err.hint).toContain('120 s');
  });

  it('503 and 502 are retried with backoff', async () => {
    const before = zeus.replayCalls().length;
    zeus.failNext(503);
    zeus.failNext(502);
    const accepted = await client().replay('c-api5', 1, key());
    expect(zeus.replayCalls().length - before).toBe(3);
    expect(accepted.attempts).toBe(3);
    expect(waits).toHaveLength(2);
    expect(waits[1]).toBeGreaterThan(waits[0] ?? 0);
  });

  it('gives up after maxRetries with a clear error; nothing was started', async () => {
    const before = zeus.replayCalls().length;
    const started = zeus.replays.length;
    for (let i = 0; i < 3; i++) zeus.failNext(503);
    const err = await recoveryError(client({ maxRetries: 2 }).replay('c-api6', 1, key()));
    expect(zeus.replayCalls().length - before).toBe(3);
    expect(zeus.replays.length).toBe(started);
    expect(err.code).toBe(ErrorCode.ZeusApi);
    expect(err.message).toContain('503');
    expect(isZeusAmbiguous(err)).toBe(false);
  });

  it('connection refused before anything was sent: retried, then succeeds', async () => {
    const before = zeus.replayCalls().length;
    await zeus.refuseConnections();
    waits = [];
    const c = createZeusClient({
      baseUrl: zeus.url,
      token: zeus.token,
      timeoutMs: 1000,
      sleep: async (ms) => {
        waits.push(ms);
        if (waits.length === 2) await zeus.acceptConnections();
      },
    });
    const accepted = await c.replay('c-api7', 3, key());
    expect(accepted.attempts).toBe(3);
    expect(waits).toHaveLength(2);
    // The refused attempts never reached the server.
    expect(zeus.replayCalls().length - before).toBe(1);
  });

  it('connection refused every time: a clear error that says nothing was sent', async () => {
    await zeus.refuseConnections();
    const err = await recoveryError(client({ maxRetries: 2 }).replay('c-api8', 1, key()));
    expect(zeusFailure(err)).toBe('unreachable');
    expect(err.message).toContain('ECONNREFUSED');
    expect(err.message).toContain('nothing was sent');
    expect(waits).toHaveLength(2);
    expect(isZeusAmbiguous(err)).toBe(false);
  });

  it('no answer after sending: ambiguous, never re-sent (Zeus did start it)', async () => {
    const before = zeus.replayCalls().length;
    const k = key();
    zeus.stallNext(1500);
    const err = await recoveryError(client({ timeoutMs: 200 }).replay('c-api9', 2, k));
    expect(isZeusAmbiguous(err)).toBe(true);
    expect(err.code).toBe(ErrorCode.ZeusApi);
    expect(zeusFailure(err)).toBe('ambiguous');
    expect(err.hint).toMatch(/status/);
    expect(zeus.replayCalls().length - before).toBe(1);
    expect(waits).toEqual([]);
    expect(zeus.replays.filter((r) => r.idempotencyKey === k)).toHaveLength(1);
  });

  it('connection reset after sending: ambiguous, never re-sent', async () => {
    const before = zeus.replayCalls().length;
    zeus.resetNext();
    const err = await recoveryError(client().replay('c-api10', 2, key()));
    expect(isZeusAmbiguous(err)).toBe(true);
    expect(zeus.replayCalls().length - before).toBe(1);
    expect(waits).toEqual([]);
  });

  it('500 on the POST: ambiguous (Zeus may have started part of it), not retried', async () => {
    const before = zeus.replayCalls().length;
    zeus.failNext(500);
    const err = await recoveryError(client().replay('c-api11', 2, key()));
    expect(isZeusAmbiguous(err)).toBe(true);
    expect(zeus.replayCalls().length - before).toBe(1);
  });

  it('401: a clear error about ZEUS_API_TOKEN that never shows the token', async () => {
    const secret = 'wrong-secret-token-9f8e7d';
    const before = zeus.replayCalls().length;
    const err = await recoveryError(client({ token: secret }).replay('c-api12', 1, key()));
    expect(err.code).toBe(ErrorCode.ZeusApi);
    expect(zeusFailure(err)).toBe('unauthorized');
    expect(err.hint).toContain('ZEUS_API_TOKEN');
    expect(err.message).toContain('401');
    // The stand-in echoes the bad header back; the client must not repeat it.
    expect(err.message).toContain('[redacted]');
    expect(err.toUserText()).not.toContain(secret);
    expect(JSON.stringify(err.details)).not.toContain(secret);
    expect(zeus.replayCalls().length - before).toBe(1);
    expect(waits).toEqual([]);
  });

  it('another 4xx: the server message and a hint, not retried', async () => {
    zeus.failNext(422);
    const err = await recoveryError(client().replay('c-api13', 1, key()));
    expect(zeusFailure(err)).toBe('rejected');
    expect(err.message).toContain('422');
    expect(err.message).toContain('stand-in failure 422');
    expect(waits).toEqual([]);
  });

  it('a repeated POST with the same key is answered, not started twice (the stand-in is idempotent)', async () => {
    const k = key();
    const a = await client().replay('c-api14', 1, k);
    const b = await client().replay('c-api14', 1, k);
    expect(b.replayId).toBe(a.replayId);
    expect(zeus.replays.filter((r) => r.idempotencyKey === k)).toHaveLength(1);
  });
});

describe('status', () => {
  it('reports idle before any replay, then the scripted progression', async () => {
    const c = client();
    expect((await c.status('c-st1')).state).toBe('idle');
    await c.replay('c-st1', 3, key());
    const first = await c.status('c-st1');
    expect(first).toMatchObject({ state: 'running', step: 3, total: 6, message: 'replaying' });
    expect(first.raw).toMatchObject({ conversation_id: 'c-st1', zeus_node: 'standin-1', total_steps: 6 });
    expect(await c.status('c-st1')).toMatchObject({ state: 'running', step: 5 });
    expect(await c.status('c-st1')).toMatchObject({ state: 'done', step: 6 });
    expect(await c.status('c-st1')).toMatchObject({ state: 'done' });
  });

  it('encodes the id in the path', async () => {
    const before = zeus.statusCalls().length;
    await client().status('a/b?c');
    expect(zeus.statusCalls().slice(before)[0]?.path).toBe('/zeus/conversation/a%2Fb%3Fc/status');
  });

  it('is retried on 503 and on a timeout (a GET is safe to repeat)', async () => {
    const before = zeus.statusCalls().length;
    zeus.failNext(503, 1, 'status');
    zeus.stallNext(1500, 'status');
    const s = await client({ timeoutMs: 200 }).status('c-st2');
    expect(s.state).toBe('idle');
    expect(zeus.statusCalls().length - before).toBe(3);
    expect(waits).toHaveLength(2);
    expect(waits[0]).toBe(1000);
  });

  it('404 is a clear error, not retried', async () => {
    zeus.failNext(404, undefined, 'status');
    const err = await recoveryError(client().status('c-st3'));
    expect(zeusFailure(err)).toBe('rejected');
    expect(err.hint).toContain('ZEUS_API_URL');
    expect(waits).toEqual([]);
  });
});

describe('parsing', () => {
  it('takes common spellings of an undocumented schema and keeps the rest in raw', () => {
    expect(parseStatus({ status: 'COMPLETED', current_step: '4', totalSteps: 4 })).toMatchObject({
      state: 'done',
      step: 4,
      total: 4,
    });
    expect(parseStatus({ state: 'error', error: 'boom' })).toMatchObject({
      state: 'failed',
      message: 'boom',
    });
    expect(parseStatus({ state: 'In Progress' }).state).toBe('running');
    expect(parseStatus({ state: 'paused' }).state).toBe('paused');
    expect(parseStatus({ nothing: true })).toEqual({ state: 'unknown', raw: { nothing: true } });
    expect(parseStatus('done').state).toBe('unknown');
    expect(parseStatus({ state: 'running', step: -1 }).step).toBeUndefined();
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    const now = Date.parse('2025-12-13T10:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Sat, 13 Dec 2025 10:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Sat, 13 Dec 2025 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});
