import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, RecoveryError } from '../../src/errors.js';
import { sha256Checksum } from '../../src/recovery/conversation.js';
import type { CoreDeps } from '../../src/recovery/deps.js';
import {
  type ExecuteOptions,
  executeRestore,
  planUndo,
  type RestoreStep,
} from '../../src/recovery/execute.js';
import { planRestore, type RestorePlan } from '../../src/recovery/plan.js';
import type { Runtime } from '../../src/wiring.js';
import { makeConversation } from '../helpers/conversations.js';
import {
  type Armed,
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
 * Restore and undo through the core, with Redis, Postgres and S3 each behind a fault proxy,
 * and a fault at each step. Whatever happens, the outcome is one of:
 *   succeeded: Redis holds the new bytes, verified by reading them back;
 *   failed:    Redis holds the old bytes: nothing was written;
 *   unknown:   said so, with what Redis held and what to check;
 * and Redis, the audit log and the backups agree with it. The table of what each fault ended
 * in is printed at the end (docs/reliability.md quotes it).
 */

const REDIS_TIMEOUT_MS = 1000;
/** Short pauses so a fault that outlasts every retry is reached quickly. */
const FAST: ExecuteOptions = { settleDelaysMs: [100, 300, 1000, 2000], recordDelaysMs: [50, 100, 200] };

type Outcome = 'succeeded' | 'failed' | 'unknown';
interface Proxies {
  redis: FaultProxy;
  pg: FaultProxy;
  s3: FaultProxy;
}

let stack: Stack;
let rt: Runtime;
let deps: CoreDeps;
let proxies: Proxies;
let n = 0;
const table: string[] = [];

beforeAll(async () => {
  stack = await startStack();
  proxies = {
    ...(await startStoreProxies(stack.env)),
    s3: await startFaultProxyFor(stack.env.S3_ENDPOINT ?? '', 80),
  };
  rt = await stack.runtime({
    REDIS_URL: throughProxy(stack.env.REDIS_URL ?? '', proxies.redis),
    DATABASE_URL: throughProxy(stack.env.DATABASE_URL ?? '', proxies.pg),
    S3_ENDPOINT: throughProxy(stack.env.S3_ENDPOINT ?? '', proxies.s3).replace(/\/$/, ''),
    REDIS_TIMEOUT_MS: String(REDIS_TIMEOUT_MS),
    POSTGRES_TIMEOUT_MS: '2000',
    S3_TIMEOUT_MS: '2000',
  });
  deps = rt.deps;
  // Loads the scripts into Redis, so a fault aimed at EVALSHA meets EVALSHA.
  const warm = fresh();
  await stack.seed('redis', warm, makeConversation(warm, 1));
  await stack.seed('postgres', warm, makeConversation(warm, 2));
  await executeRestore(deps, await planRestore(deps, warm, { kind: 'tier', tier: 'postgres' }), actor());
}, 60_000);

afterEach(async () => {
  await passAllAndAwaitRedis(Object.values(proxies), deps.redis);
});

afterAll(async () => {
  if (table.length > 0) {
    console.log(
      ['| operation | step | connection × fault | outcome |', '|---|---|---|---|', ...table].join('\n'),
    );
  }
  await Promise.all(Object.values(proxies ?? {}).map((p) => p.stop()));
  await stack?.stop();
});

function fresh(): string {
  return `c-fault${++n}`;
}

function actor() {
  return { id: 'cli:fault-test', reason: 'fault injection' };
}

/** The compare-and-set script (EVAL or EVALSHA) — not the clock read just before it. */
const CAS = (chunk: Buffer) =>
  holding('eval')(chunk) && /\r\n(equal|absent)\r\n/.test(chunk.toString('latin1'));
const INSERT_BACKUP = holding('insert into', 'backups');
const INSERT_AUDIT = holding('insert into', 'audit_log');
const COMMIT = holding('commit');

interface Fault {
  /** What the table says. */
  label: string;
  step: RestoreStep;
  /** Done at the step, before it runs; returns the trigger it armed, if any. */
  at: (p: Proxies) => unknown;
  /** Undone at the next step (for faults that last while one step runs). */
  until?: RestoreStep;
  /** The command is held, not lost: it reaches the server after the call has given up. */
  late?: boolean;
  /** What the outcome must be, when the fault decides it. */
  expect?: Outcome | Outcome[];
}

const arm = (proxy: keyof Proxies, t: Trigger) => (p: Proxies) => p[proxy].arm(t);

/** Ends every session the bot has open on Postgres, as a failover or an admin would. */
async function terminateBotSessions(): Promise<void> {
  await stack.db.pool.query(
    `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
     WHERE application_name = 'zeus-recover' AND datname = current_database() AND pid <> pg_backend_pid()`,
  );
}

const STEPS: RestoreStep[] = [
  'read',
  'backup',
  'audit-started',
  'shadow-write',
  'shadow-check',
  'write',
  'read-back',
  'audit-outcome',
];
/** The write of the new value to the shadow key (never the live key). */
const SHADOW_SET = (chunk: Buffer) =>
  holding('set', 'zeus-recover:shadow:')(chunk) && !holding('eval')(chunk);

const FAULTS: Fault[] = [
  // Every connection reset at each step (a failover, a load balancer dropping idle sockets).
  // The stores come back at once: the restore rides it out (reads and statements before the
  // write are tried again, the write is read back), so it succeeds.
  ...STEPS.flatMap((step): Fault[] => [
    { label: 'Redis: all connections cut', step, at: (p) => p.redis.cutAll(), expect: 'succeeded' },
    { label: 'Postgres: all connections cut', step, at: (p) => p.pg.cutAll(), expect: 'succeeded' },
    {
      label: 'Postgres: pg_terminate_backend of every bot session',
      step,
      at: terminateBotSessions,
      expect: 'succeeded',
    },
  ]),
  { label: 'S3: all connections cut', step: 'read', at: (p) => p.s3.cutAll(), expect: 'succeeded' },
  // Inside a step: the one statement or command the step sends, cut or silenced.
  {
    label: 'Postgres: backup INSERT cut before it reached the server',
    step: 'backup',
    at: arm('pg', { match: INSERT_BACKUP, fault: 'cut-before' }),
    // Retried before the write: the restore goes on.
    expect: 'succeeded',
  },
  {
    label: 'Postgres: backup INSERT reached the server, reply lost',
    step: 'backup',
    at: arm('pg', { match: INSERT_BACKUP, fault: 'cut-after' }),
    // Retried before the write: the restore goes on.
    expect: 'succeeded',
  },
  {
    label: "Postgres: 'restore.started' INSERT reached the server, reply lost (rolled back)",
    step: 'audit-started',
    at: arm('pg', { match: INSERT_AUDIT, fault: 'cut-after' }),
    // Retried before the write: the restore goes on.
    expect: 'succeeded',
  },
  {
    label: "Postgres: 'restore.started' COMMIT reached the server, reply lost",
    step: 'audit-started',
    at: arm('pg', { match: COMMIT, fault: 'cut-after' }),
    // Retried before the write: the restore goes on.
    expect: 'succeeded',
  },
  {
    label: 'Redis: shadow-key SET reached Redis, reply lost (written again)',
    step: 'shadow-write',
    at: arm('redis', { match: SHADOW_SET, fault: 'cut-after' }),
    expect: 'succeeded',
  },
  {
    label: 'Redis: unreachable for the whole shadow-key write',
    step: 'shadow-write',
    at: (p) => p.redis.refuse(),
    until: 'write',
    // The live key was never touched: nothing written.
    expect: 'failed',
  },
  {
    label: 'Redis: unreachable for the whole shadow read-back',
    step: 'shadow-check',
    at: (p) => p.redis.refuse(),
    until: 'write',
    expect: 'failed',
  },
  {
    label: 'Redis: the write script (promote or compare-and-set) cut before it reached Redis',
    step: 'write',
    at: arm('redis', { match: CAS, fault: 'cut-before' }),
    expect: 'failed',
  },
  {
    label: 'Redis: the write script (promote or compare-and-set) reached Redis, reply lost (connection cut)',
    step: 'write',
    at: arm('redis', { match: CAS, fault: 'cut-after' }),
    expect: 'succeeded',
  },
  {
    label: 'Redis: the write script (promote or compare-and-set) reached Redis, reply never comes (timeout)',
    step: 'write',
    at: arm('redis', { match: CAS, fault: 'drop-replies' }),
    expect: 'succeeded',
  },
  {
    label:
      'Redis: the write script (promote or compare-and-set) held on the way past its deadline (late write)',
    step: 'write',
    at: arm('redis', { match: CAS, fault: { holdMs: REDIS_TIMEOUT_MS * 4 } }),
    late: true,
    expect: 'failed',
  },
  {
    label:
      'Redis: the write script (promote or compare-and-set) answered, then Redis unreachable for the whole read-back',
    step: 'read-back',
    at: (p) => p.redis.refuse(),
    until: 'audit-outcome',
    expect: 'succeeded',
  },
  {
    label: 'Redis: reply lost and Redis unreachable for the whole read-back',
    step: 'write',
    at: (p) => {
      p.redis.arm({ match: CAS, fault: 'cut-after' });
      p.redis.setMode('refuse');
    },
    until: 'audit-outcome',
    expect: 'unknown',
  },
  {
    label: "Postgres: outcome's COMMIT reached the server, reply lost",
    step: 'audit-outcome',
    at: arm('pg', { match: COMMIT, fault: 'cut-after' }),
    expect: 'succeeded',
  },
  {
    label: "Postgres: outcome's INSERT cut, then Postgres refused for longer than every retry",
    step: 'audit-outcome',
    at: (p) => p.pg.refuse(),
    expect: 'succeeded',
  },
];

interface Run {
  id: string;
  kind: 'restore' | 'undo';
  plan: RestorePlan;
  old: Buffer | null;
  target: Buffer | null;
}

/** A conversation with something in Redis and a different copy to restore (or undo back to). */
async function prepare(kind: 'restore' | 'undo', index: number): Promise<Run> {
  const id = fresh();
  const source = index % 2 === 0 ? 's3' : 'postgres';
  await stack.seed('redis', id, makeConversation(id, 3), 3600);
  await stack.seed(source, id, makeConversation(id, 7));
  let plan = await planRestore(deps, id, { kind: 'tier', tier: source });
  if (kind === 'undo') {
    // The restore being undone runs without faults; its undo is what meets them.
    const done = await executeRestore(deps, plan, actor());
    plan = await planUndo(deps, done.backupId);
  }
  const old = await stack.redis.client.getBuffer(stack.redis.key(id));
  const targetBytes =
    plan.source.kind === 'backup'
      ? ((await deps.backups.get(plan.source.backupId))?.value ?? null)
      : source === 'postgres'
        ? null
        : Buffer.from(makeConversation(id, 7));
  return { id, kind, plan, old, target: targetBytes };
}

async function auditOf(id: string): Promise<Array<{ action: string; data: Record<string, unknown> }>> {
  const res = await stack.db.pool.query<{ action: string; data: string }>(
    'SELECT action, data FROM zeus_recover.audit_log WHERE conversation_id = $1 ORDER BY seq',
    [id],
  );
  return res.rows.map((r) => ({ action: r.action, data: JSON.parse(r.data) as Record<string, unknown> }));
}

async function runCase(kind: 'restore' | 'undo', fault: Fault, index: number): Promise<Outcome> {
  const run = await prepare(kind, index);
  const auditBefore = (await auditOf(run.id)).length;
  let outcome: Outcome;
  let recorded = true;
  let error: RecoveryError | null = null;
  let armed: Armed | undefined;
  try {
    const result = await executeRestore(deps, run.plan, actor(), {
      ...FAST,
      onStep: async (step) => {
        if (step === fault.step) {
          const made = await fault.at(proxies);
          if (made && typeof made === 'object' && 'delivered' in made) armed = made as Armed;
        }
        if (fault.until && step === fault.until) for (const p of Object.values(proxies)) p.pass();
      },
    });
    outcome = 'succeeded';
    recorded = result.recorded;
    if (!result.verified) expect(fault.label).toMatch(/read-back/);
  } catch (err) {
    expect(err, String(err)).toBeInstanceOf(RecoveryError);
    error = err as RecoveryError;
    outcome = error.code === ErrorCode.OutcomeUnknown ? 'unknown' : 'failed';
    recorded = error.details.recorded !== false;
  }
  for (const p of Object.values(proxies)) p.pass();
  // A held write still on its way must have arrived before Redis is judged: it must change nothing.
  if (armed && fault.late) await armed.delivered;

  // What Redis holds, read directly, not through the proxy.
  const now = await stack.redis.client.getBuffer(stack.redis.key(run.id));
  const nowSum = now ? sha256Checksum(now) : null;
  const oldSum = run.old ? sha256Checksum(run.old) : null;
  const targetSum = run.plan.target.checksum;
  if (outcome === 'succeeded') expect(nowSum, 'succeeded, so Redis holds the new bytes').toBe(targetSum);
  if (outcome === 'failed') {
    expect(nowSum, `failed (${error?.message}), so Redis still holds the old bytes`).toBe(oldSum);
    expect(error?.hint ?? '').toMatch(/Nothing was written/);
  }
  if (outcome === 'unknown') {
    expect(error?.message).toMatch(/unknown/);
    expect(error?.hint).toContain(run.id);
    expect([oldSum, targetSum]).toContain(nowSum);
  }
  if (run.target && outcome === 'succeeded') expect(now?.equals(run.target)).toBe(true);

  // A shadow key the restore could not remove (Redis away) expires on its own.
  for (const k of await stack.redis.client.keys(`{${stack.redis.key(run.id)}}:zeus-recover:shadow:*`)) {
    expect(await stack.redis.client.pttl(k), `${k} left without a TTL`).toBeGreaterThan(0);
  }

  // Any overwrite has a backup holding exactly what was there before.
  if (nowSum !== oldSum) {
    const backups = await deps.backups.listForConversation(run.id, 20);
    expect(backups.some((b) => (b.value === null ? run.old === null : run.old?.equals(b.value)))).toBe(true);
  }

  // The audit log tells the same story: its last outcome entry is this outcome.
  const entries = (await auditOf(run.id)).slice(auditBefore);
  const outcomes = entries.filter((e) =>
    ['restore.succeeded', 'restore.failed', 'restore.unknown'].includes(e.action),
  );
  if (recorded) {
    expect(outcomes.length, JSON.stringify(entries.map((e) => e.action))).toBeGreaterThan(0);
    // Exactly once, even when an append's COMMIT landed and its answer was lost.
    expect(outcomes.map((e) => e.action)).toEqual([`restore.${outcome}`]);
  } else {
    expect(outcomes).toEqual([]);
  }
  if (outcome !== 'failed') expect(entries.map((e) => e.action)).toContain('restore.started');
  expect((await deps.audit.verify()).ok).toBe(true);

  const expected = fault.expect === undefined ? null : [fault.expect].flat();
  if (expected) expect(expected, `${fault.label} ended ${outcome}`).toContain(outcome);
  const note = recorded ? '' : ' (outcome not in the audit log: left to the crash sweeper)';
  const dup = outcomes.length > 1 ? ` (outcome entry appended ${outcomes.length}×)` : '';
  table.push(`| ${kind} | ${fault.step} | ${fault.label} | ${outcome}${note}${dup} |`);
  // The lock is free again for whoever comes next (or expires, if Postgres refused the release).
  return outcome;
}

for (const kind of ['restore', 'undo'] as const) {
  describe(`${kind} with a fault at each step`, () => {
    FAULTS.forEach((fault, i) => {
      it(`${fault.step}: ${fault.label}`, async () => {
        await runCase(kind, fault, i);
      }, 60_000);
    });
  });
}
