import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_STATUS_SCRIPT, startZeusStandin, type ZeusStandin } from '../../sandbox/zeus/zeus.js';
import { ErrorCode, RecoveryError } from '../../src/errors.js';
import type { CoreDeps } from '../../src/recovery/deps.js';
import {
  createZeusClient,
  executeReplay,
  newRequestId,
  planReplay,
  type ReplayResult,
} from '../../src/recovery/index.js';
import { makeConversation } from '../helpers/conversations.js';
import {
  type FaultProxy,
  holding,
  passAllAndAwaitRedis,
  startFaultProxyFor,
  startStoreProxies,
  type Trigger,
  throughProxy,
} from '../helpers/fault-proxy.js';
import { type Stack, startStack } from '../helpers/stack.js';

/**
 * Replay with Redis, Postgres and the Zeus API each behind a fault proxy, and a fault at each
 * point. A replay is never sent twice, and whatever it ends in (done, failed, timed out,
 * unknown) is what the audit log says, with "not sent" only when Zeus cannot have seen it.
 */

type Proxies = { redis: FaultProxy; pg: FaultProxy; zeus: FaultProxy };
let stack: Stack;
let zeus: ZeusStandin;
let deps: CoreDeps;
let proxies: Proxies;
let n = 0;
const table: string[] = [];

beforeAll(async () => {
  [stack, zeus] = await Promise.all([startStack(), startZeusStandin()]);
  proxies = {
    ...(await startStoreProxies(stack.env)),
    zeus: await startFaultProxyFor(zeus.url, 80),
  };
  const rt = await stack.runtime({
    REDIS_URL: `redis://${proxies.redis.address}`,
    REDIS_TIMEOUT_MS: '1000',
    DATABASE_URL: throughProxy(stack.env.DATABASE_URL ?? '', proxies.pg),
  });
  deps = rt.deps;
}, 60_000);
afterEach(async () => {
  zeus.setStatusScript(DEFAULT_STATUS_SCRIPT);
  await passAllAndAwaitRedis(Object.values(proxies), deps.redis);
});
afterAll(async () => {
  if (table.length > 0)
    console.log(['| replay: connection × fault | outcome |', '|---|---|', ...table].join('\n'));
  await Promise.all(Object.values(proxies ?? {}).map((p) => p.stop()));
  await Promise.all([stack?.stop(), zeus?.close()]);
});

/** The Zeus client as the bot builds it, through the proxy, with short budgets. */
const client = () =>
  createZeusClient({
    baseUrl: `http://${proxies.zeus.address}`,
    token: zeus.token,
    timeoutMs: 500,
    sleep: async () => {},
  });

const POST_REPLAY = holding('post /zeus/replay');
const GET_STATUS = holding('get /zeus/conversation/');
const OUTCOME_INSERT = (chunk: Buffer) =>
  holding('audit_log')(chunk) &&
  /replay\.(succeeded|failed|timed_out|unknown)/.test(chunk.toString('latin1'));
const STARTED_INSERT = holding('audit_log', 'replay.started');

async function auditRows(id: string): Promise<string[]> {
  const { rows } = await stack.db.pool.query<{ action: string }>(
    'SELECT action FROM zeus_recover.audit_log WHERE conversation_id = $1 ORDER BY seq',
    [id],
  );
  return rows.map((r) => r.action);
}

const posts = (id: string) =>
  zeus
    .replayCalls()
    .filter((c) => (c.json as { conversation_id?: string } | undefined)?.conversation_id === id);

interface Case {
  label: string;
  /** Done just before the replay runs; may arm a trigger. */
  arm: (p: Proxies) => void;
  expect: ReplayResult['outcome'] | 'failed (not sent)';
}

const on = (proxy: keyof Proxies, t: Trigger, then?: (p: Proxies) => void) => (p: Proxies) => {
  const armed = p[proxy].arm(t);
  if (then) void armed.fired.then(() => then(p));
};

async function terminateBotSessions(): Promise<void> {
  await stack.db.pool.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
     WHERE application_name = 'zeus-recover' AND datname = current_database() AND pid <> pg_backend_pid()`,
  );
}

const CASES: Case[] = [
  {
    label: 'Redis: all connections cut before the check of the Redis copy',
    arm: (p) => p.redis.cutAll(),
    expect: 'done',
  },
  {
    label: "Postgres: 'replay.started' INSERT cut before it reached the server",
    arm: on('pg', { match: STARTED_INSERT, fault: 'cut-before' }),
    // Nothing was sent yet, so the entry is tried again and the replay goes on.
    expect: 'done',
  },
  {
    label: 'Zeus: the POST cut before it reached Zeus',
    arm: on('zeus', { match: POST_REPLAY, fault: 'cut-before' }),
    expect: 'unknown',
  },
  {
    label: 'Zeus: the POST reached Zeus, reply lost (connection cut)',
    arm: on('zeus', { match: POST_REPLAY, fault: 'cut-after' }),
    expect: 'done',
  },
  {
    label: 'Zeus: the POST reached Zeus, reply never comes (timeout)',
    arm: on('zeus', { match: POST_REPLAY, fault: 'drop-replies' }),
    expect: 'done',
  },
  {
    label: 'Zeus: gone (connections refused) right after the POST was answered',
    // Gone at the first status poll after the POST (the first GET is the baseline before it), not
    // on a timer: a 50 ms timer raced the three 20 ms polls, and on an idle machine Zeus said done first.
    arm: on('zeus', { match: GET_STATUS, fault: 'cut-before', nth: 2 }, (p) => p.zeus.refuse()),
    expect: 'timed_out',
  },
  {
    label: 'Zeus: status calls silent (blackhole) after the POST',
    arm: on('zeus', { match: GET_STATUS, fault: 'none', nth: 2 }, (p) => p.zeus.blackhole()),
    expect: 'timed_out',
  },
  {
    label: 'Postgres: pg_terminate_backend of every bot session as the POST goes out',
    arm: on('zeus', { match: POST_REPLAY, fault: 'none' }, () => void terminateBotSessions()),
    expect: 'done',
  },
  {
    label: "Postgres: the outcome entry's INSERT cut before it reached the server",
    arm: on('pg', { match: OUTCOME_INSERT, fault: 'cut-before' }),
    expect: 'done',
  },
  {
    label: "Postgres: the outcome entry's COMMIT reached the server, reply lost",
    arm: on('pg', { match: OUTCOME_INSERT, fault: 'none' }, (p) =>
      p.pg.arm({ match: holding('commit'), fault: 'cut-after' }),
    ),
    expect: 'done',
  },
];

describe('replay with a fault at each point', () => {
  for (const c of CASES) {
    it(c.label, async () => {
      const id = `c-frp${++n}`;
      await stack.seed('redis', id, makeConversation(id, 6, { checkpoint: 4 }));
      const plan = await planReplay(deps, id, 5);
      const before = (await auditRows(id)).length;
      c.arm(proxies);
      let outcome: string;
      try {
        const result = await executeReplay(
          deps,
          plan,
          { id: 'cli:fault-test', reason: 'fault drill', requestId: newRequestId() },
          { zeus: client(), pollMs: 20, timeoutMs: 2500, recordDelaysMs: [50, 100, 200] },
        );
        outcome = result.outcome;
        expect(result.recorded).toBe(true);
        const outcomes = (await auditRows(id))
          .slice(before)
          .filter((a) => /^replay\.(succeeded|failed|timed_out|unknown)$/.test(a));
        const action = {
          done: 'replay.succeeded',
          failed: 'replay.failed',
          timed_out: 'replay.timed_out',
          unknown: 'replay.unknown',
        }[result.outcome];
        // Exactly once, even when an append's COMMIT landed and its answer was lost.
        expect(outcomes).toEqual([action]);
      } catch (err) {
        expect(err, String(err)).toBeInstanceOf(RecoveryError);
        const e = err as RecoveryError;
        outcome = 'failed (not sent)';
        expect(e.code).not.toBe(ErrorCode.Internal);
        expect(posts(id)).toHaveLength(0);
      }
      // Never sent twice, whatever happened on the way.
      expect(posts(id).length).toBeLessThanOrEqual(1);
      table.push(`| ${c.label} | ${outcome} |`);
      expect(outcome).toBe(c.expect);
    }, 60_000);
  }
});
