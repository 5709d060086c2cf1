import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { type SlackStandin, type StoredMessage, startSlackStandin } from '../../sandbox/slack/local-slack.js';
import { postToApp, slashCommandBody } from '../../sandbox/slack/requests.js';
import { createRedisTier } from '../../src/recovery/tiers/redis.js';
import { makeConversation } from '../helpers/conversations.js';
import {
  type Armed,
  holding as chunkHolding,
  type FaultProxy,
  startFaultProxy,
} from '../helpers/fault-proxy.js';
import { type Stack, startStack } from '../helpers/stack.js';
import { eventually, findButton, incidentClick } from './bot-harness.js';

/**
 * kill -9 at each step of a restore, then a restart: the request is settled from what Redis
 * holds, told in its thread, never run again, and the conversation takes a new restore.
 *
 * The real bot runs as a child process (`npm start`'s command) and is driven only over signed
 * HTTP and the Slack stand-in. It is parked at a step without any hook in the bot: by holding
 * the Postgres lock its next statement needs, or by holding its Redis write (or the reply to it)
 * in a proxy. Then it is SIGKILLed, and what it left is exactly what a crash leaves.
 */

const ROOT = join(import.meta.dirname, '..', '..');
const SECRET = 'crash-signing-secret-0123456789';
const CHANNEL = 'C_INC';
const SCHEMA = 'zeus_recover';
/** Short for the suite; CRASH_LEASE_MS=30000 CRASH_SWEEP_MS=15000 measures the defaults. */
const LEASE_MS = Number(process.env.CRASH_LEASE_MS) || 3000;
const SWEEP_MS = Number(process.env.CRASH_SWEEP_MS) || 250;
/** The bot's pool names its sessions this way (tiers/postgres.ts); the test's own pool does not. */
const BOT_APP_NAME = 'zeus-recover';

let stack: Stack;
let slack: SlackStandin;
let proxy: FaultProxy;
let monitor: Redis;
let bot: { child: ChildProcess; url: string; output: string[] } | null = null;
/** Lua SET/DEL per Redis key, as Redis itself ran them: the count of real writes. */
const writes = new Map<string, number>();
const timings: Array<{ step: string; restartToReportMs: number; listeningToReportMs: number }> = [];
let responseSeq = 0;
let lastOutput: string[] = [];

beforeAll(async () => {
  stack = await startStack();
  slack = await startSlackStandin({ channels: { C_INC: 'inc-42' } });
  const target = new URL(stack.env.REDIS_URL ?? 'redis://127.0.0.1:6379');
  proxy = await startFaultProxy({ host: target.hostname, port: Number(target.port || 6379) });
  // Loads the compare-and-set script into Redis, so the bot's first one is the EVALSHA the
  // faults below aim at, not a NOSCRIPT answer and a second EVAL.
  const warm = createRedisTier({
    client: stack.redis.client,
    keyPrefix: stack.redis.prefix,
    timeoutMs: 5000,
  });
  await stack.seed('redis', 'warm', 'a');
  await warm.compareAndSet('warm', Buffer.from('a'), Buffer.from('b'), { kind: 'none' });
  // And the shadow promote, the script a restore writes the live key with.
  await warm.shadow?.write('warm', 'warm', Buffer.from('c'), 60_000);
  await warm.shadow?.promote('warm', 'warm', Buffer.from('b'), createHash('sha1').update('c').digest('hex'), {
    kind: 'none',
  });
  monitor = await stack.redis.client.duplicate().monitor();
  monitor.on('monitor', (_time: string, args: string[], source: string) => {
    const [command, key] = args;
    if (source !== 'lua' || key === undefined || !/^(set|del)$/i.test(command ?? '')) return;
    writes.set(key, (writes.get(key) ?? 0) + 1);
  });
  await startBot();
}, 90_000);

afterAll(async () => {
  if (timings.length > 0) {
    // Measured, not asserted: what docs/reliability.md reports.
    console.log(
      `restart → settled report in the thread (lease ${LEASE_MS} ms):\n${timings
        .map(
          (t) =>
            `  ${t.step}: ${t.restartToReportMs} ms from spawn, ${t.listeningToReportMs} ms from listening`,
        )
        .join('\n')}`,
    );
  }
  if (bot) bot.child.kill('SIGKILL');
  monitor?.disconnect();
  await proxy?.stop();
  await slack?.stop();
  await stack?.stop();
});

async function startBot(): Promise<{ spawnedAt: number; listeningAt: number }> {
  const spawnedAt = performance.now();
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '/tmp',
    ...stack.env,
    REDIS_URL: `redis://${proxy.address}`,
    SLACK_BOT_TOKEN: 'xoxb-crash-token',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.apiUrl,
    PORT: '0',
    APPROVER_USER_IDS: 'U_BOB',
    LOCK_LEASE_MS: String(LEASE_MS),
    SWEEP_INTERVAL_MS: String(SWEEP_MS),
    // Parked commands must stay parked until the kill, not time out into another step.
    REDIS_TIMEOUT_MS: '20000',
    LOG_LEVEL: process.env.CRASH_LOG_LEVEL ?? 'info',
  };
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { cwd: ROOT, env });
  const output: string[] = [];
  let port: number | null = null;
  const take = (chunk: Buffer) => {
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line.trim() === '') continue;
      output.push(line);
      const m = /"port":(\d+).*zeus-recover is listening|zeus-recover is listening.*"port":(\d+)/.exec(line);
      if (m) port = Number(m[1] ?? m[2]);
    }
  };
  child.stdout.on('data', take);
  child.stderr.on('data', take);
  await eventually(
    async () => {
      if (child.exitCode !== null) throw new Error(`bot exited ${child.exitCode}:\n${output.join('\n')}`);
      return port;
    },
    'the bot to listen',
    60_000,
  );
  bot = { child, url: `http://127.0.0.1:${port}`, output };
  return { spawnedAt, listeningAt: performance.now() };
}

/** SIGKILL, then what a dead client's sessions come to: none of its statements can still commit. */
async function killBot(): Promise<void> {
  const current = bot;
  if (!current) throw new Error('no bot');
  bot = null;
  lastOutput = current.output;
  const exited = new Promise<void>((resolve) => current.child.once('exit', () => resolve()));
  current.child.kill('SIGKILL');
  await exited;
  // A session blocked on a lock learns that its client died only when it next writes to it, so
  // a statement the bot had sent could commit once we let go. Postgres would end those sessions
  // at its next client check; here they are ended at once, as client_connection_check_interval would.
  await stack.db.pool.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = $1`,
    [BOT_APP_NAME],
  );
}

async function slash(text: string, user = 'U_ALICE'): Promise<string> {
  if (!bot) throw new Error('no bot');
  const responseId = `crash-r${++responseSeq}`;
  const res = await postToApp(
    bot.url,
    slashCommandBody({
      text,
      user_id: user,
      channel_id: CHANNEL,
      channel_name: 'inc-42',
      response_url: slack.responseUrl(responseId),
    }),
    { secret: SECRET },
  );
  expect(res.status).toBe(200);
  return responseId;
}

async function click(actionId: string, value: string, user: string, messageTs: string): Promise<void> {
  if (!bot) throw new Error('no bot');
  const res = await postToApp(
    bot.url,
    incidentClick(actionId, value, user, messageTs, slack.responseUrl(`crash-r${++responseSeq}`)),
    { secret: SECRET },
  );
  expect(res.status).toBe(200);
}

function thread(id: string): StoredMessage[] {
  const root = slack
    .messagesInChannel(CHANNEL)
    .find((m) => m.thread_ts === null && m.text.includes(`Zeus recovery: ${id}`));
  return root ? slack.messagesInThread(CHANNEL, root.ts) : [];
}

/** Approval messages with live buttons, oldest first. */
function openApprovals(id: string): Array<{ ts: string; requestId: string }> {
  return thread(id).flatMap((m) => {
    const requestId = findButton(m.blocks, 'request_approve');
    return requestId ? [{ ts: m.ts, requestId }] : [];
  });
}

async function botWaitsOnALock(): Promise<boolean> {
  const { rows } = await stack.db.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = $1 AND wait_event_type = 'Lock'`,
    [BOT_APP_NAME],
  );
  return Number(rows[0]?.n ?? 0) > 0;
}

async function pendingDeliveries(): Promise<number> {
  const { rows } = await stack.db.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${SCHEMA}.audit_deliveries WHERE state = 'pending'`,
  );
  return Number(rows[0]?.n ?? 0);
}

async function requestRow(requestId: string): Promise<{ state: string } | undefined> {
  const { rows } = await stack.db.pool.query<{ state: string }>(
    `SELECT state FROM ${SCHEMA}.requests WHERE id = $1`,
    [requestId],
  );
  return rows[0];
}

async function auditCount(requestId: string, action: string): Promise<number> {
  const { rows } = await stack.db.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM ${SCHEMA}.audit_log WHERE request_id = $1 AND action = $2`,
    [requestId, action],
  );
  return Number(rows[0]?.n ?? 0);
}

/** A transaction on its own connection, held open to park the bot behind its locks. */
async function holding(sql: string, params: unknown[] = []): Promise<{ release(): Promise<void> }> {
  const client: pg.PoolClient = await stack.db.pool.connect();
  await client.query('BEGIN');
  await client.query(sql, params);
  return {
    async release() {
      await client.query('ROLLBACK');
      client.release();
    },
  };
}

interface Parking {
  /** Called once the restore is filed, before the approval click. */
  arm(ctx: { id: string; key: string; requestId: string }): Promise<void>;
  /** Resolves once the bot sits at the step. */
  parked(ctx: { id: string; key: string; requestId: string }): Promise<void>;
  /** After the kill: let go of whatever held the bot. */
  release(): Promise<void>;
}

interface Step {
  name: string;
  parking: () => Parking;
  state: 'failed' | 'succeeded';
  reached: string;
  /** What Redis must hold at the end, and how many writes reached it. */
  redis: 'old' | 'new';
  started: 0 | 1;
}

/** Parks the bot behind a Postgres lock the test takes before the click. */
function pgParking(
  sql: (ctx: { id: string; requestId: string }) => [string, unknown[]],
  atStep: (ctx: { id: string; requestId: string }) => Promise<boolean>,
): () => Parking {
  return () => {
    let held: { release(): Promise<void> } | null = null;
    return {
      async arm(ctx) {
        const [q, params] = sql(ctx);
        held = await holding(q, params);
      },
      async parked(ctx) {
        await eventually(async () => (await atStep(ctx)) && (await botWaitsOnALock()), 'the bot parked');
      },
      async release() {
        await held?.release();
      },
    };
  };
}

const stateIs = (state: string) => async (ctx: { requestId: string }) =>
  (await requestRow(ctx.requestId))?.state === state;

async function holdsLease(id: string): Promise<boolean> {
  const { rows } = await stack.db.pool.query(
    `SELECT 1 FROM ${SCHEMA}.locks WHERE conversation_id = $1 AND expires_at > now()`,
    [id],
  );
  return rows.length > 0;
}

let armed: Armed | null = null;
const oldDocs = new Map<string, string>();

/** The compare-and-set script call on this key (EVALSHA … equal …), not the clock read before it. */
const compareAndSetOf = (key: string) => chunkHolding('eval', key, '\r\nequal\r\n');

async function redisChanged(ctx: { key: string }): Promise<boolean> {
  return (await stack.redis.client.get(ctx.key)) !== oldDocs.get(ctx.key);
}

const STEPS: Step[] = [
  {
    name: 'approved, before the run starts',
    parking: pgParking(() => [`SELECT seq FROM ${SCHEMA}.audit_head FOR UPDATE`, []], stateIs('approved')),
    state: 'failed',
    reached: 'not_started',
    redis: 'old',
    started: 0,
  },
  {
    name: 'executing, taking the conversation lock',
    parking: pgParking(
      ({ id }) => [
        `INSERT INTO ${SCHEMA}.locks (conversation_id, holder, token, acquired_at, expires_at)
         VALUES ($1, 'test: parks the bot', 'park', now(), now())`,
        [id],
      ],
      stateIs('executing'),
    ),
    state: 'failed',
    reached: 'before_write',
    redis: 'old',
    started: 0,
  },
  {
    name: 'lock held, taking the backup',
    parking: pgParking(
      () => [`LOCK TABLE ${SCHEMA}.backups IN SHARE ROW EXCLUSIVE MODE`, []],
      async (ctx) => (await stateIs('executing')(ctx)) && (await holdsLease(ctx.id)),
    ),
    state: 'failed',
    reached: 'before_write',
    redis: 'old',
    started: 0,
  },
  {
    name: 'backup taken, writing restore.started',
    parking: () => {
      let backups: { release(): Promise<void> } | null = null;
      let head: { release(): Promise<void> } | null = null;
      return {
        async arm() {
          backups = await holding(`LOCK TABLE ${SCHEMA}.backups IN SHARE ROW EXCLUSIVE MODE`);
        },
        async parked(ctx) {
          await eventually(
            async () => (await holdsLease(ctx.id)) && (await botWaitsOnALock()),
            'the bot at the backup',
          );
          head = await holding(`SELECT seq FROM ${SCHEMA}.audit_head FOR UPDATE`);
          await backups?.release();
          backups = null;
          await eventually(async () => {
            const { rows } = await stack.db.pool.query(
              `SELECT 1 FROM ${SCHEMA}.backups WHERE request_id = $1`,
              [ctx.requestId],
            );
            return rows.length > 0 && (await botWaitsOnALock());
          }, 'the bot at restore.started');
        },
        async release() {
          await backups?.release();
          await head?.release();
        },
      };
    },
    state: 'failed',
    reached: 'before_write',
    redis: 'old',
    started: 0,
  },
  {
    name: 'shadow copy being written, live key not yet touched',
    parking: () => ({
      async arm(ctx) {
        // The SET of the new value to the shadow key, held until the kill drops it.
        armed = proxy.arm({
          match: chunkHolding('\r\nset\r\n', `{${ctx.key}}:zeus-recover:shadow:`),
          fault: { holdMs: 10 * 60_000 },
        });
      },
      parked: async () => armed?.fired,
      async release() {},
    }),
    state: 'failed',
    reached: 'write',
    redis: 'old',
    started: 1,
  },
  {
    // Since shadow keys, the write is the promote: the shadow is written and validated by now.
    name: 'Redis write sent, not yet at Redis',
    parking: () => ({
      async arm(ctx) {
        // Held in the proxy until after the kill, when the dead connection drops it.
        armed = proxy.arm({ match: compareAndSetOf(ctx.key), fault: { holdMs: 10 * 60_000 } });
      },
      parked: async () => armed?.fired,
      async release() {},
    }),
    state: 'failed',
    reached: 'write',
    redis: 'old',
    started: 1,
  },
  {
    name: 'Redis written, its reply lost',
    parking: () => ({
      async arm(ctx) {
        armed = proxy.arm({ match: compareAndSetOf(ctx.key), fault: 'drop-replies' });
      },
      async parked(ctx) {
        await armed?.delivered;
        await eventually(() => redisChanged(ctx), 'the write in Redis');
      },
      async release() {},
    }),
    state: 'succeeded',
    reached: 'write',
    redis: 'new',
    started: 1,
  },
  {
    name: 'outcome audited, request state not yet updated',
    parking: () => {
      let row: { release(): Promise<void> } | null = null;
      return {
        async arm(ctx) {
          // A short hold at the write: long enough to take the request row, which finish() needs.
          armed = proxy.arm({ match: compareAndSetOf(ctx.key), fault: { holdMs: 1500 } });
        },
        async parked(ctx) {
          await armed?.fired;
          row = await holding(`SELECT 1 FROM ${SCHEMA}.requests WHERE id = $1 FOR UPDATE`, [ctx.requestId]);
          await eventually(
            async () =>
              (await auditCount(ctx.requestId, 'restore.succeeded')) === 1 && (await botWaitsOnALock()),
            'the bot at finish',
          );
        },
        async release() {
          await row?.release();
        },
      };
    },
    state: 'succeeded',
    reached: 'write',
    redis: 'new',
    started: 1,
  },
];

describe('kill -9 at each step of a restore, then restart', () => {
  let n = 0;
  it.each(STEPS)(
    '$name: settled and told in its thread, never run again',
    async (step) => {
      onTestFailed(() => {
        console.log(
          `bot output (last 40 lines):\n${(bot?.output ?? lastOutput).slice(-(Number(process.env.CRASH_LOG_LINES) || 40)).join('\n')}`,
        );
      });
      const id = `c-kill-${++n}`;
      const key = stack.redis.key(id);
      const oldDoc = makeConversation(id, 1);
      const newDoc = makeConversation(id, 4);
      await stack.seed('redis', id, oldDoc);
      oldDocs.set(key, oldDoc);
      await stack.seed('postgres', id, newDoc);
      await stack.seed('s3', id, makeConversation(id, 3));

      await slash(`restore ${id} --from postgres --reason INC-77 kill test`);
      const approval = await slack.waitFor(() => openApprovals(id)[0], 30_000, `approval for ${id}`);
      const ctx = { id, key, requestId: approval.requestId };
      const parking = step.parking();
      await parking.arm(ctx);
      await click('request_approve', approval.requestId, 'U_BOB', approval.ts);
      await parking.parked(ctx);
      // What the bot had already told the thread is out: this kill is about the restore's steps;
      // a kill in the middle of a Slack post is the delivery's own story (its tests, item 6).
      await eventually(async () => (await pendingDeliveries()) === 0, 'the thread caught up');

      await killBot();
      await parking.release();
      const { spawnedAt, listeningAt } = await startBot();

      const report = await slack.waitFor(
        () =>
          thread(id).find(
            (m) =>
              // The reply, not the approval message: edited to the outcome right after, it says it too.
              m.ts !== approval.ts &&
              m.text.includes('The bot stopped') &&
              JSON.stringify(m.blocks).includes(approval.requestId),
          ),
        30_000 + LEASE_MS + 2 * SWEEP_MS,
        `the settled report for ${id}`,
      );
      const reportedAt = performance.now();
      timings.push({
        step: step.name,
        restartToReportMs: Math.round(reportedAt - spawnedAt),
        listeningToReportMs: Math.round(reportedAt - listeningAt),
      });
      expect(JSON.stringify(report.blocks)).toContain('not run again');

      expect((await requestRow(approval.requestId))?.state).toBe(step.state);
      const { rows } = await stack.db.pool.query<{ data: string }>(
        `SELECT data FROM ${SCHEMA}.audit_log WHERE request_id = $1 AND action = 'request.settled'`,
        [approval.requestId],
      );
      expect(rows).toHaveLength(1);
      expect(JSON.parse(rows[0]?.data ?? '{}')).toMatchObject({ outcome: step.state, reached: step.reached });
      // The approval message is edited to the outcome (after the reply), with no buttons left.
      const outcome = step.state === 'succeeded' ? /^Done:/ : /^Failed:/;
      const approvalNow = await slack.waitFor(
        () => thread(id).find((m) => m.ts === approval.ts && outcome.test(m.text)),
        30_000,
        'the approval message showing the outcome',
      );
      expect(findButton(approvalNow.blocks, 'request_approve')).toBeUndefined();

      // The conversation takes a new restore; asking for it also gives any re-run time to show.
      const asked = await slash(`restore ${id} --from s3 --reason after the crash`);
      const next = await slack.waitFor(() => openApprovals(id)[0], 30_000, 'the new approval message');
      expect(next.requestId).not.toBe(approval.requestId);
      // Refusals ("already running … wait for its result") come through the response_url; the
      // only answer there is the private note turned into a link to the thread.
      const answers = slack.responses(asked).map((r) => String((r.body as { text?: string }).text ?? ''));
      expect(answers.filter((t) => !t.startsWith('✅'))).toEqual([]);

      // Never re-run: at most the one write and one restore.started the crashed run made.
      expect(await auditCount(approval.requestId, 'restore.started')).toBe(step.started);
      expect(writes.get(key) ?? 0).toBe(step.redis === 'new' ? 1 : 0);
      const holds = await stack.redis.client.get(key);
      // A shadow the killed run left behind is only a copy, and goes by itself.
      for (const shadow of await stack.redis.client.keys(`{${key}}:zeus-recover:shadow:*`)) {
        expect(await stack.redis.client.pttl(shadow), shadow).toBeGreaterThan(0);
      }
      if (step.redis === 'old') expect(holds).toBe(oldDoc);
      // Postgres hands the copy back in its own jsonb formatting: same document, other bytes.
      else expect(JSON.parse(holds ?? 'null')).toEqual(JSON.parse(newDoc));
    },
    120_000 + 2 * (LEASE_MS + SWEEP_MS),
  );
});
