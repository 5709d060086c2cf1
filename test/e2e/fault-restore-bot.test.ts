import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { blockText } from '../../sandbox/slack/local-slack.js';
import { sha256Checksum } from '../../src/recovery/conversation.js';
import { makeConversation } from '../helpers/conversations.js';
import { type FaultProxy, holding, startFaultProxy } from '../helpers/fault-proxy.js';
import { eventually, type Harness, startHarness } from './bot-harness.js';

/**
 * The real bot over signed HTTP, its Redis behind a fault proxy: what the thread, the request,
 * the audit log and Redis say after a fault at the write must be the same story.
 */

let h: Harness;
let redisProxy: FaultProxy;
let pgProxy: FaultProxy;
let slackProxy: FaultProxy;

/** The compare-and-set script (EVAL or EVALSHA), not the clock read just before it. */
const CAS = (chunk: Buffer) =>
  holding('eval')(chunk) && /\r\n(equal|absent)\r\n/.test(chunk.toString('latin1'));

beforeAll(async () => {
  redisProxy = await startFaultProxy({ port: 6379 });
  pgProxy = await startFaultProxy({ port: 5432 });
  slackProxy = await startFaultProxy({ port: 0 });
  h = await startHarness((stackEnv) => {
    const slackUrl = new URL(stackEnv.SLACK_API_URL ?? '');
    slackProxy.setTarget(Number(slackUrl.port));
    slackUrl.host = slackProxy.address;
    const redisUrl = new URL(stackEnv.REDIS_URL ?? 'redis://127.0.0.1:6379');
    const pgUrl = new URL(stackEnv.DATABASE_URL ?? '');
    pgUrl.host = pgProxy.address;
    // Only the bot's own clients go through the proxies; the test reads the stores directly.
    return {
      REDIS_URL: `redis://${redisProxy.address}${redisUrl.pathname}`,
      REDIS_TIMEOUT_MS: '500',
      DATABASE_URL: pgUrl.toString(),
      SLACK_API_URL: slackUrl.toString(),
    };
  });
}, 60_000);
afterEach(async () => {
  redisProxy.pass();
  pgProxy.pass();
  slackProxy.pass();
  // The bot's Redis client reconnects on its own backoff; the next case starts once it has.
  await eventually(async () => redisProxy.open > 0, 'the bot reconnected to Redis', 20_000);
});
afterAll(async () => {
  await h?.stop();
  await redisProxy?.stop();
  await pgProxy?.stop();
  await slackProxy?.stop();
});

async function requestState(requestId: string): Promise<string | undefined> {
  const { rows } = await h.stack.db.pool.query<{ state: string }>(
    'SELECT state FROM zeus_recover.requests WHERE id = $1',
    [requestId],
  );
  return rows[0]?.state;
}

async function outcomeEntries(id: string): Promise<string[]> {
  const { rows } = await h.stack.db.pool.query<{ action: string }>(
    `SELECT action FROM zeus_recover.audit_log
     WHERE conversation_id = $1 AND action IN ('restore.succeeded', 'restore.failed', 'restore.unknown')
     ORDER BY seq`,
    [id],
  );
  return rows.map((r) => r.action);
}

/** Seeds Redis and Postgres with different copies, asks for a restore and approves it. */
async function approvedRestore(id: string): Promise<{ requestId: string; ts: string; target: string }> {
  await h.stack.seed('redis', id, makeConversation(id, 2));
  await h.stack.seed('postgres', id, makeConversation(id, 6));
  const res = await h.slash(`restore ${id} --from postgres --reason INC-7 fault drill`);
  expect(res.status).toBe(200);
  const approval = await h.slack.waitFor(() => h.approvalMessage(id), 10_000, `approval message for ${id}`);
  const { rows } = await h.stack.db.pool.query<{ s: string }>(
    'SELECT state::text AS s FROM conversations WHERE id = $1',
    [id],
  );
  const click = await h.click('request_approve', approval.requestId, 'U_BOB', approval.ts);
  expect(click.status).toBe(200);
  return { ...approval, target: sha256Checksum(Buffer.from(rows[0]?.s ?? '')) };
}

/** The promote of a shadow copy over the live key (EVAL or EVALSHA naming both keys). */
const PROMOTE = (chunk: Buffer) => CAS(chunk) && holding('zeus-recover:shadow:')(chunk);
/** The write of the new value to a shadow key. */
const SHADOW_SET = (chunk: Buffer) =>
  holding('set', 'zeus-recover:shadow:')(chunk) && !holding('eval')(chunk);

const shadowKeysOf = (id: string) =>
  h.stack.redis.client.keys(`{${h.stack.redis.key(id)}}:zeus-recover:shadow:*`);

async function failedInThread(id: string, what: RegExp): Promise<string> {
  return h.slack
    .waitFor(() => h.transcript(id).find((l) => what.test(l)), 15_000, `thread: ${what}`)
    .catch((err: Error) => {
      throw new Error(`${err.message}\n${h.transcript(id).join('\n')}`);
    });
}

const redisSum = async (id: string) => {
  const bytes = await h.stack.redis.client.getBuffer(h.stack.redis.key(id));
  return bytes ? sha256Checksum(bytes) : null;
};

describe('restore through the bot with a fault at the write', () => {
  it('reply to the write lost: read back, told as done everywhere', async () => {
    const id = 'c-botfault-lost';
    const armed = redisProxy.arm({ match: CAS, fault: 'cut-after' });
    const { requestId, target } = await approvedRestore(id);
    await eventually(
      async () => (await requestState(requestId)) === 'succeeded',
      'request succeeded',
      20_000,
    );
    expect(armed.hasFired).toBe(true);
    expect(await redisSum(id)).toBe(target);
    expect(await outcomeEntries(id)).toEqual(['restore.succeeded']);
    await h.slack.waitFor(
      () => h.transcript(id).some((l) => /✅ Restored/.test(l)),
      15_000,
      'thread: restored',
    );
    expect(h.transcript(id).join('\n')).not.toMatch(/failed|unknown/i);
  });

  it('reply lost and Redis gone for the read-back: "unknown — check" everywhere, with what to check', async () => {
    const id = 'c-botfault-unknown';
    const armed = redisProxy.arm({ match: CAS, fault: 'cut-after' });
    // Redis stays away once the write has gone out, so nothing can be read back.
    void armed.fired.then(() => redisProxy.refuse());
    const { requestId, ts, target } = await approvedRestore(id);
    await eventually(async () => (await requestState(requestId)) === 'unknown', 'request unknown', 30_000);
    redisProxy.pass();
    expect(await outcomeEntries(id)).toEqual(['restore.unknown']);
    // The write did land; the bot said it could not tell, which is the truth it had.
    expect(await redisSum(id)).toBe(target);
    const told = await h.slack
      .waitFor(
        () => h.transcript(id).find((l) => /^\s*Restore of \S+ from postgres: outcome unknown\./.test(l)),
        15_000,
        'thread: outcome unknown',
      )
      .catch((err: Error) => {
        throw new Error(`${err.message}\n${h.transcript(id).join('\n')}`);
      });
    expect(told).toContain(`inspect ${id}`);
    expect(told).toContain(target);
    expect(h.transcript(id).join('\n')).not.toMatch(/✅ Restored/);
    const approvalNow = await h.slack.waitFor(
      () => h.thread(id).find((m) => m.ts === ts && /Outcome unknown/.test(blockText(m.blocks).join(' '))),
      15_000,
      'approval message showing the unknown outcome',
    );
    expect(blockText(approvalNow.blocks).join(' ')).toMatch(/inspect/);
    // The conversation is free again: a new request can be made once someone has looked.
    const again = await h.slash(`restore ${id} --from postgres --reason checked by hand`);
    expect(again.status).toBe(200);
  });

  it('Zeus writes the live key between the shadow validation and the promote: refused, live bytes as Zeus left them, thread says so', async () => {
    const id = 'c-botfault-shadow-live';
    const zeus = Buffer.from(makeConversation(id, 3));
    let release = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    // The promote is held in the proxy while the live key changes, then let through.
    const armed = redisProxy.arm({ match: PROMOTE, fault: { until: gate } });
    void armed.fired.then(async () => {
      await h.stack.redis.client.set(h.stack.redis.key(id), zeus, 'KEEPTTL');
      release();
    });
    const { requestId } = await approvedRestore(id);
    await eventually(async () => (await requestState(requestId)) === 'failed', 'request failed', 20_000);
    expect(armed.hasFired).toBe(true);
    expect((await h.stack.redis.client.getBuffer(h.stack.redis.key(id)))?.equals(zeus)).toBe(true);
    expect(await shadowKeysOf(id)).toEqual([]);
    expect(await outcomeEntries(id)).toEqual(['restore.failed']);
    await failedInThread(id, /Redis changed while the restore .* was refused and the shadow copy removed/);
    expect(h.transcript(id).join('\n')).not.toMatch(/✅ Restored/);
  });

  it('a shadow copy that reads back different from the plan fails validation: live untouched, thread says so', async () => {
    const id = 'c-botfault-shadow-bad';
    let rewritten = false;
    // One byte of the value flipped on its way to Redis (same length: the command stays well formed).
    const armed = redisProxy.arm({
      match: SHADOW_SET,
      fault: {
        rewrite: (chunk) => {
          const at = chunk.lastIndexOf('"steps"');
          if (at < 0) return chunk;
          rewritten = true;
          const copy = Buffer.from(chunk);
          copy.write('Z', at + 1, 'latin1');
          return copy;
        },
      },
    });
    await h.stack.seed('redis', id, makeConversation(id, 2));
    const before = await redisSum(id);
    const { requestId } = await approvedRestore(id);
    await eventually(async () => (await requestState(requestId)) === 'failed', 'request failed', 20_000);
    expect(armed.hasFired).toBe(true);
    expect(rewritten).toBe(true);
    expect(await redisSum(id)).toBe(before);
    expect(await shadowKeysOf(id)).toEqual([]);
    expect(await outcomeEntries(id)).toEqual(['restore.failed']);
    await failedInThread(
      id,
      /shadow copy of \S+ failed validation: .* The live key was left as it was and the shadow copy removed/,
    );
  });

  it('every bot session on Postgres terminated while the write goes out: the bot lives, the outcome is settled', async () => {
    const id = 'c-botfault-pgkill';
    const armed = redisProxy.arm({ match: CAS, fault: 'none' });
    let terminated = 0;
    void armed.fired.then(async () => {
      const { rowCount } = await h.stack.db.pool.query(
        `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
         WHERE application_name = 'zeus-recover' AND datname = current_database() AND pid <> pg_backend_pid()`,
      );
      terminated = rowCount ?? 0;
    });
    const { requestId, target } = await approvedRestore(id);
    await eventually(
      async () => (await requestState(requestId)) === 'succeeded',
      'request succeeded',
      30_000,
    );
    expect(terminated).toBeGreaterThan(0);
    expect(await redisSum(id)).toBe(target);
    expect(await outcomeEntries(id)).toEqual(['restore.succeeded']);
    await h.slack.waitFor(
      () => h.transcript(id).some((l) => /✅ Restored/.test(l)),
      15_000,
      'thread: restored',
    );
    // Still serving.
    const inspect = await h.slash(`inspect ${id}`);
    expect(inspect.status).toBe(200);
  });

  it("the request's final update lost on the way: retried, so request, audit log and thread all say done", async () => {
    const id = 'c-botfault-finish';
    // The UPDATE that moves the request from executing to its outcome, cut before Postgres saw it.
    const armed = pgProxy.arm({ match: holding('update', 'finished_at = now()'), fault: 'cut-before' });
    const { requestId, target } = await approvedRestore(id);
    await eventually(
      async () => (await requestState(requestId)) === 'succeeded',
      'request succeeded',
      30_000,
    );
    expect(armed.hasFired).toBe(true);
    expect(await redisSum(id)).toBe(target);
    expect(await outcomeEntries(id)).toEqual(['restore.succeeded']);
    await h.slack.waitFor(
      () => h.transcript(id).some((l) => /✅ Restored/.test(l)),
      15_000,
      'thread: restored',
    );
  });

  it("the request's final update applied but its reply lost: the retry finds it done, nothing flips to failed", async () => {
    const id = 'c-botfault-finish2';
    const armed = pgProxy.arm({ match: holding('update', 'finished_at = now()'), fault: 'cut-after' });
    const { requestId } = await approvedRestore(id);
    await eventually(async () => armed.hasFired, 'the final update went out', 30_000);
    // Give a wrong "failed" every chance to be written, then look.
    await eventually(async () => (await outcomeEntries(id)).length > 0, 'outcome in the audit log', 30_000);
    await h.slack.waitFor(
      () => h.transcript(id).some((l) => /✅ Restored/.test(l)),
      15_000,
      'thread: restored',
    );
    expect(await requestState(requestId)).toBe('succeeded');
    expect(await outcomeEntries(id)).toEqual(['restore.succeeded']);
  });

  it('Slack takes the outcome post but its answer is lost: the thread shows the outcome once', async () => {
    const id = 'c-botfault-slack';
    const armed = slackProxy.arm({
      match: (chunk) => holding('chat.postMessage')(chunk) && chunk.includes('Restored'),
      fault: 'cut-after',
    });
    const { requestId } = await approvedRestore(id);
    await eventually(
      async () => (await requestState(requestId)) === 'succeeded',
      'request succeeded',
      30_000,
    );
    await eventually(async () => armed.hasFired, 'the outcome post went out', 30_000);
    await h.slack.waitFor(
      () => h.transcript(id).some((l) => /✅ Restored/.test(l)),
      30_000,
      'thread: restored',
    );
    // Later entries (the validation) are delivered after it, so by then a second copy would show.
    await h.slack.waitFor(() => h.transcript(id).some((l) => /healthy/i.test(l)), 30_000, 'validation');
    expect(h.transcript(id).filter((l) => /✅ Restored/.test(l))).toHaveLength(1);
    expect(await outcomeEntries(id)).toEqual(['restore.succeeded']);
  });
});
