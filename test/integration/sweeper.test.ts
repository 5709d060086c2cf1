import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { startSweeper } from '../../src/approval/sweeper.js';
import type { RecoveryRequest } from '../../src/approval/types.js';
import type { RestorePlan } from '../../src/recovery/plan.js';
import { createRequestStore, type RequestStore } from '../../src/store/requests.js';
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

async function until(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error('condition not met in time');
    await sleep(20);
  }
}

describe('sweeper', () => {
  it('expires due requests on its timer and calls onExpired once per request', async () => {
    const ids = await dueRequests(12);
    const seen: string[] = [];
    const errors: unknown[] = [];
    const sweeper = startSweeper({
      store: fixture.store,
      intervalMs: 50,
      batchSize: 5,
      onExpired: async (r) => {
        expect(r.state).toBe('expired');
        seen.push(r.id);
      },
      onError: (err) => errors.push(err),
    });
    try {
      await until(() => seen.length >= ids.length);
      await sleep(200); // a few more ticks: nothing may be announced twice
    } finally {
      await sweeper.stop();
    }
    expect(errors).toEqual([]);
    expect(seen.sort()).toEqual([...ids].sort());
  });

  it('with two replicas sweeping the same database, still announces each request once', async () => {
    const ids = await dueRequests(30);
    const seen: string[] = [];
    const errors: unknown[] = [];
    const pools = [0, 1].map(() => new pg.Pool({ connectionString: fixture.db.url, max: 2 }));
    const sweepers = pools.map((p) =>
      startSweeper({
        store: createRequestStore(p, SCHEMA),
        intervalMs: 60_000,
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
    const sweeper = startSweeper({
      store: fake,
      intervalMs: 60_000,
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
    const sweeper = startSweeper({
      store: fixture.store,
      intervalMs: 60_000,
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

  it('reports a failing sweep to onError and keeps its timer going', async () => {
    let calls = 0;
    const errors: unknown[] = [];
    const sweeper = startSweeper({
      store: {
        async expireDue() {
          calls += 1;
          throw new Error('database unreachable');
        },
      },
      intervalMs: 20,
      onExpired: async () => {},
      onError: (err) => errors.push(err),
    });
    try {
      await until(() => calls >= 3);
    } finally {
      await sweeper.stop();
    }
    expect(errors.length).toBeGreaterThanOrEqual(2);
    const after = calls;
    await sleep(100);
    expect(calls).toBe(after); // stopped means stopped
  });
});
