import { spawn } from 'node:child_process';
import { join } from 'node:path';
import pg from 'pg';
import { afterEach, describe, expect, it } from 'vitest';
import { createSweeper } from '../../src/approval/sweeper.js';
import type { RecoveryRequest } from '../../src/approval/types.js';
import { type JobEngine, SWEEP_QUEUE, startJobEngine } from '../../src/jobs.js';
import type { RestorePlan } from '../../src/recovery/plan.js';
import { createPgPool } from '../../src/recovery/tiers/postgres.js';
import { createRequestStore, type RequestStore } from '../../src/store/requests.js';
import { expiryNotice as notice } from '../../src/workflow/context.js';
import { eventually } from '../helpers/eventually.js';
import { holding, startFaultProxyFor, throughProxy } from '../helpers/fault-proxy.js';
import { storedPlan, useMigratedStore } from '../helpers/store.js';

const SCHEMA = 'zeus_recover';
const fixture = useMigratedStore('zr_sweep', SCHEMA, createRequestStore);
let seq = 0;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function plan(conversationId: string): RestorePlan {
  return storedPlan(conversationId, {
    source: { kind: 'tier', tier: 's3' },
    sourceLabel: 's3',
    target: { exists: true, checksum: `sha256:${'a'.repeat(64)}`, bytes: 10, analysis: null },
    current: { exists: false, checksum: null, bytes: 0, ttlMs: null, analysis: null },
    diff: { added: [], removed: [], changed: [], unchanged: 0, identical: false },
    diffSummary: 'create the key',
  });
}

/** Creates `n` requests and moves their expiry into the past, as if their window had run out. */
async function dueRequests(n: number): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const conversationId = `c-sweep-${++seq}`;
    const r = await fixture.store.create({
      kind: 'restore',
      conversationId,
      channelId: 'C0INC',
      requester: 'UREQ',
      reason: 'sweeper test',
      plan: plan(conversationId),
      requiredApprovals: 1,
      ttlMinutes: 1,
    });
    ids.push(r.id);
  }
  await fixture.db.pool.query(
    `UPDATE ${SCHEMA}.requests SET expires_at = now() - interval '1 second'
     WHERE id = ANY($1::text[])`,
    [ids],
  );
  return ids;
}

const until = (cond: () => boolean, timeoutMs = 15_000) => eventually(cond, 'the condition', timeoutMs, 20);

const engines: JobEngine[] = [];
afterEach(async () => {
  await Promise.all(engines.splice(0).map((e) => e.stop()));
});

async function engine(url = fixture.db.url): Promise<JobEngine> {
  const e = await startJobEngine({
    connectionString: url,
    botSchema: SCHEMA,
    sweeps: true,
    superviseIntervalSeconds: 1,
  });
  engines.push(e);
  return e;
}

/** Runs `sweeper` (or only counts) on the engine's sweep ticks. */
async function sweepOn(
  e: JobEngine,
  sweeper: { sweepOnce(): Promise<number> } | null,
  intervalMs: number,
): Promise<{ count: number; errors: unknown[] }> {
  const ticks = { count: 0, errors: [] as unknown[] };
  await e.runSweeps({
    intervalMs,
    sweep: async () => {
      ticks.count++;
      await sweeper?.sweepOnce();
    },
    onError: (err) => ticks.errors.push(err),
  });
  return ticks;
}

describe('sweeper', () => {
  it("expires due requests on the job engine's ticks and calls onExpired once per request", async () => {
    const ids = await dueRequests(12);
    const seen: string[] = [];
    const errors: unknown[] = [];
    const sweeper = createSweeper({
      notice,
      store: fixture.store,
      batchSize: 5,
      onExpired: async (r) => {
        expect(r.state).toBe('expired');
        seen.push(r.id);
      },
      onError: (err) => errors.push(err),
    });
    const ticks = await sweepOn(await engine(), sweeper, 50);
    await until(() => seen.length >= ids.length);
    const after = ticks.count;
    await until(() => ticks.count >= after + 3); // a few more ticks: nothing may be announced twice
    await sweeper.stop();
    expect(errors).toEqual([]);
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it('with two replicas sweeping the same database, still announces each request once', async () => {
    const ids = await dueRequests(30);
    const seen: string[] = [];
    const errors: unknown[] = [];
    const pools = [0, 1].map(() => new pg.Pool({ connectionString: fixture.db.url, max: 2 }));
    const sweepers = pools.map((p) =>
      createSweeper({
        notice,
        store: createRequestStore(p, SCHEMA),
        batchSize: 3,
        onExpired: async (r) => {
          seen.push(r.id);
          await sleep(1); // lets the other replica's batches interleave
        },
        onError: (err) => errors.push(err),
      }),
    );
    try {
      const counts = await Promise.all(sweepers.map((s) => s.sweepOnce()));
      expect(counts.reduce((a, b) => a + b, 0)).toBe(30);
      expect(await Promise.all(sweepers.map((s) => s.sweepOnce()))).toEqual([0, 0]);
    } finally {
      await Promise.all(sweepers.map((s) => s.stop()));
      await Promise.all(pools.map((p) => p.end()));
    }
    expect(errors).toEqual([]);
    expect(seen).toHaveLength(30);
    expect(new Set(seen)).toEqual(new Set(ids));
  });

  it('a connection cut between expiring a request and appending its notice leaves neither; the next sweep expires and tells it once', async () => {
    const ids = await dueRequests(2);
    const proxy = await startFaultProxyFor(fixture.db.url, 5432);
    // The bot's own pool, which keeps a cut connection's error from ending the process.
    const pool = createPgPool(throughProxy(fixture.db.url, proxy), 5000);
    const told = async () =>
      (
        await fixture.db.pool.query<{ request_id: string; channel_id: string }>(
          `SELECT a.request_id, d.channel_id FROM ${SCHEMA}.audit_log a
             JOIN ${SCHEMA}.audit_deliveries d ON d.seq = a.seq
            WHERE a.action = 'request.expired' AND a.request_id = ANY($1::text[]) ORDER BY a.request_id`,
          [ids],
        )
      ).rows;
    const seen: string[] = [];
    const sweeper = createSweeper({
      notice,
      store: createRequestStore(pool, SCHEMA),
      onExpired: async (r) => void seen.push(r.id),
      onError: () => {},
    });
    try {
      // After the requests' UPDATE went through on this connection: the first notice never arrives.
      const cut = proxy.arm({ match: holding('insert into', 'audit_log'), fault: 'cut-before' });
      await expect(sweeper.sweepOnce()).rejects.toThrow();
      expect(cut.hasFired).toBe(true);
      for (const id of ids) expect((await fixture.store.get(id))?.state).toBe('requested');
      expect(await told()).toEqual([]);
      expect(seen).toEqual([]);

      expect(await sweeper.sweepOnce()).toBeGreaterThanOrEqual(2);
      expect(await sweeper.sweepOnce()).toBe(0);
      expect(await told()).toEqual([...ids].sort().map((id) => ({ request_id: id, channel_id: 'C0INC' })));
      for (const id of ids) expect((await fixture.store.get(id))?.state).toBe('expired');
      expect(seen.filter((id) => ids.includes(id)).sort()).toEqual([...ids].sort());
    } finally {
      await sweeper.stop();
      await pool.end();
      await proxy.stop();
    }
  });

  it('a click that finds the request expired appends its notice in the same transaction: cut there, the request stays open and the next click tells it once', async () => {
    const [id = ''] = await dueRequests(1);
    const proxy = await startFaultProxyFor(fixture.db.url, 5432);
    const pool = createPgPool(throughProxy(fixture.db.url, proxy), 5000);
    const told = async () =>
      Number(
        (
          await fixture.db.pool.query<{ n: string }>(
            `SELECT count(*) AS n FROM ${SCHEMA}.audit_log a JOIN ${SCHEMA}.audit_deliveries d ON d.seq = a.seq
              WHERE a.action = 'request.expired' AND a.request_id = $1`,
            [id],
          )
        ).rows[0]?.n,
      );
    try {
      const store = createRequestStore(pool, SCHEMA);
      const cut = proxy.arm({ match: holding('insert into', 'audit_log'), fault: 'cut-before' });
      await expect(store.deny(id, 'UAPPROVER', 'too late', notice)).rejects.toThrow();
      expect(cut.hasFired).toBe(true);
      expect((await fixture.store.get(id))?.state).toBe('requested');
      expect(await told()).toBe(0);

      expect((await store.approve(id, 'UAPPROVER', { expiryNotice: notice })).kind).toBe('expired');
      expect(await told()).toBe(1);
      expect((await store.cancel(id, 'UREQ', notice)).kind).toBe('not_open');
      expect((await store.expireDue(1000, notice)).map((r) => r.id)).not.toContain(id);
      expect(await told()).toBe(1);
    } finally {
      await pool.end();
      await proxy.stop();
    }
  });

  it('never overlaps runs in one process: a second sweepOnce joins the first', async () => {
    let calls = 0;
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const fake: Pick<RequestStore, 'expireDue'> = {
      async expireDue() {
        calls += 1;
        await gate;
        return [];
      },
    };
    const sweeper = createSweeper({
      notice,
      store: fake,
      onExpired: async () => {},
      onError: () => {},
    });
    const a = sweeper.sweepOnce();
    const b = sweeper.sweepOnce();
    expect(b).toBe(a);
    release();
    expect(await a).toBe(0);
    expect(calls).toBe(1);
    await sweeper.sweepOnce();
    expect(calls).toBe(2);
    await sweeper.stop();
  });

  it('reports a failed notice and goes on with the rest', async () => {
    const ids = await dueRequests(3);
    const failing = ids[1];
    const seen: string[] = [];
    const errors: Array<{ err: unknown; request: RecoveryRequest | undefined }> = [];
    const sweeper = createSweeper({
      notice,
      store: fixture.store,
      onExpired: async (r) => {
        if (r.id === failing) throw new Error('Slack is down');
        seen.push(r.id);
      },
      onError: (err, request) => errors.push({ err, request }),
    });
    try {
      expect(await sweeper.sweepOnce()).toBe(3);
    } finally {
      await sweeper.stop();
    }
    expect(seen.sort()).toEqual(ids.filter((id) => id !== failing).sort());
    expect(errors).toHaveLength(1);
    expect(errors[0]?.request?.id).toBe(failing);
  });

  it('reports a failing sweep to onError and keeps ticking; stopped means stopped', async () => {
    let calls = 0;
    const errors: unknown[] = [];
    const sweeper = createSweeper({
      notice,
      store: {
        async expireDue() {
          calls += 1;
          throw new Error('database unreachable');
        },
      },
      onExpired: async () => {},
      onError: (err) => errors.push(err),
    });
    const e = await engine();
    await e.runSweeps({
      intervalMs: 20,
      sweep: async () => void (await sweeper.sweepOnce()),
      onError: (err) => errors.push(err),
    });
    await until(() => calls >= 3);
    expect(errors.length).toBeGreaterThanOrEqual(2);
    await e.stop();
    const after = calls;
    await sleep(1200);
    expect(calls).toBe(after);
  });
});

describe('the sweep on pg-boss', () => {
  it('a starting replica sweeps at once, without waiting an interval', async () => {
    const a = await sweepOn(await engine(), null, 3_600_000);
    await until(() => a.count >= 1);
    const b = await sweepOn(await engine(), null, 3_600_000);
    // The second replica's start pulls the queued tick forward: one more sweep, by either of them.
    await until(() => a.count + b.count >= 2);
    await sleep(1000);
    expect(a.count + b.count).toBe(2);
  });

  it('with three replicas polling, one sweep at a time, and the ticks keep coming', async () => {
    let running = 0;
    let most = 0;
    let total = 0;
    const sweep = async () => {
      running++;
      most = Math.max(most, running);
      await sleep(150); // longer than the interval: the next tick waits for this one
      running--;
      total++;
    };
    const errors: unknown[] = [];
    for (let i = 0; i < 3; i++) {
      await (await engine()).runSweeps({ intervalMs: 50, sweep, onError: (err) => errors.push(err) });
    }
    await until(() => total >= 8, 20_000);
    expect(most).toBe(1);
    expect(errors).toEqual([]);
  });

  it('survives Postgres going away and coming back: the ticks resume on their own', async () => {
    const proxy = await startFaultProxyFor(fixture.db.url, 5432);
    try {
      const ticks = await sweepOn(await engine(throughProxy(fixture.db.url, proxy)), null, 100);
      await until(() => ticks.count >= 2);
      proxy.refuse();
      proxy.cutAll();
      await sleep(3000);
      const during = ticks.count;
      proxy.pass();
      await until(() => ticks.count >= during + 3, 60_000);
    } finally {
      await Promise.all(engines.splice(0).map((e) => e.stop()));
      await proxy.stop();
    }
  });

  it("a replica killed in the middle of a sweep: another replica sweeps once the tick's heartbeat runs out", async () => {
    // The killed replica: sweeps once, and is killed while that sweep is still running.
    const script = `
      import { startJobEngine } from './src/jobs.ts';
      const engine = await startJobEngine({ connectionString: process.env.URL, botSchema: '${SCHEMA}', sweeps: true });
      await engine.runSweeps({
        intervalMs: 100,
        sweep: async () => {
          console.log('sweeping');
          await new Promise(() => {});
        },
        onError: () => {},
      });
    `;
    const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '--eval', script], {
      cwd: join(import.meta.dirname, '..', '..'),
      env: { PATH: process.env.PATH ?? '', URL: fixture.db.url },
    });
    try {
      let out = '';
      child.stdout.on('data', (b: Buffer) => {
        out += b.toString();
      });
      await until(() => out.includes('sweeping'), 30_000);
    } finally {
      child.kill('SIGKILL');
    }
    await new Promise((r) => child.once('exit', r));
    // Its tick stays active until its heartbeat (10 s) runs out and a supervise pass hands it on;
    // the successor it queued before sweeping waits behind it, then this replica sweeps.
    const ticks = await sweepOn(await engine(), null, 100);
    await until(() => ticks.count >= 2, 60_000);
    expect(ticks.errors).toEqual([]);
  }, 90_000);

  it('keeps a backstop schedule that restarts the chain of ticks should it break', async () => {
    const e = await engine();
    await sweepOn(e, null, 1000);
    const pool = new pg.Pool({ connectionString: fixture.db.url, max: 1 });
    try {
      const res = await pool.query<{ name: string; cron: string; options: { singletonKey?: string } }>(
        `SELECT name, cron, options FROM ${SCHEMA}_jobs.schedule WHERE name = $1`,
        [SWEEP_QUEUE],
      );
      expect(res.rows).toEqual([
        { name: SWEEP_QUEUE, cron: '* * * * *', options: { singletonKey: 'tick', startAfter: 1 } },
      ]);
    } finally {
      await pool.end();
    }
  });
});
