import { describe, expect, it } from 'vitest';
import { createPgPool } from '../../src/recovery/tiers/postgres.js';
import type { ToldEntry } from '../../src/store/audit.js';
import { createExpiryWarningStore } from '../../src/store/expiry-warnings.js';
import { createRenewalStore } from '../../src/store/renewals.js';
import { createRequestStore } from '../../src/store/requests.js';
import { withAuditInsertCut } from '../helpers/audit-cut.js';
import { holding, startFaultProxyFor, throughProxy } from '../helpers/fault-proxy.js';
import { storedPlan, useMigratedStore } from '../helpers/store.js';

const SCHEMA = 'zeus_recover';
const fixture = useMigratedStore('zr_warn', SCHEMA, (pool, schema) => ({
  requests: createRequestStore(pool, schema),
  warnings: createExpiryWarningStore(pool, schema),
  renewals: createRenewalStore(pool, schema),
}));
let seq = 0;

async function open(ttlMinutes: number): Promise<string> {
  const conversationId = `c-warn-${++seq}`;
  const request = await fixture.store.requests.create({
    kind: 'restore',
    conversationId,
    channelId: 'C0INC',
    requester: 'UREQ',
    reason: 'INC-12',
    plan: storedPlan(conversationId),
    requiredApprovals: 1,
    ttlMinutes,
  });
  return request.id;
}

/** The reply's entry as the sweep builds it (workflow/expiry.ts), from the request as it stands. */
async function reply(id: string): Promise<ToldEntry> {
  const request = await fixture.store.requests.get(id);
  if (!request) throw new Error(`no request ${id}`);
  return {
    event: {
      action: 'request.expiring',
      actor: 'system',
      conversationId: request.conversationId,
      requestId: id,
      data: { request, approverHint: 'an approver' },
    },
    options: { deliverTo: { channelId: request.channelId } },
  };
}

/** How many expiry replies each request has in the audit log, each with its delivery row. */
async function told(ids: readonly string[]): Promise<Record<string, number>> {
  const res = await fixture.db.pool.query<{ request_id: string; n: string }>(
    `SELECT a.request_id, count(*) AS n FROM ${SCHEMA}.audit_log a JOIN ${SCHEMA}.audit_deliveries d ON d.seq = a.seq
      WHERE a.action = 'request.expiring' AND a.request_id = ANY($1::text[]) GROUP BY a.request_id`,
    [ids],
  );
  return Object.fromEntries(res.rows.map((r) => [r.request_id, Number(r.n)]));
}

describe('expiry warning claims', () => {
  it('of many concurrent sweeps, exactly one claims each due request and appends its reply, and none twice', async () => {
    const due = await Promise.all(Array.from({ length: 12 }, () => open(3)));
    const notYet = await open(60);
    const listed = await fixture.store.warnings.dueRequests(5, 100);
    expect([...listed].sort()).toEqual([...due].sort());
    expect(listed).not.toContain(notYet);
    const sweeps = await Promise.all(
      Array.from({ length: 8 }, async () => {
        const won: string[] = [];
        for (const id of listed) {
          if (await fixture.store.warnings.claim('request', id, 5, await reply(id))) won.push(id);
        }
        return won;
      }),
    );
    expect(sweeps.flat().sort()).toEqual([...due].sort());
    expect(await told(due)).toEqual(Object.fromEntries(due.map((id) => [id, 1])));
    expect(await fixture.store.warnings.dueRequests(5, 100)).toEqual([]);
  });

  it('skips requests no longer waiting or already past expiry, even when a sweep read them as due', async () => {
    const decided = await open(3);
    const past = await open(3);
    const waiting = await open(3);
    expect([...(await fixture.store.warnings.dueRequests(5, 100))].sort()).toEqual(
      [decided, past, waiting].sort(),
    );
    const tells = { decided: await reply(decided), past: await reply(past) };
    await fixture.store.requests.approve(decided, 'UAPPROVER');
    await fixture.db.pool.query(
      `UPDATE ${SCHEMA}.requests SET expires_at = now() - interval '1 s' WHERE id = $1`,
      [past],
    );
    expect(await fixture.store.warnings.dueRequests(5, 100)).toEqual([waiting]);
    expect(await fixture.store.warnings.claim('request', decided, 5, tells.decided)).toBeNull();
    expect(await fixture.store.warnings.claim('request', past, 5, tells.past)).toBeNull();
    expect(await told([decided, past])).toEqual({});
  });

  it('a connection cut between the claim and its reply leaves neither; the next sweep claims and tells it once', async () => {
    const id = await open(3);
    const proxy = await startFaultProxyFor(fixture.db.url, 5432);
    // The bot's own pool, which keeps a cut connection's error from ending the process.
    const pool = createPgPool(throughProxy(fixture.db.url, proxy), 5000);
    try {
      const warnings = createExpiryWarningStore(pool, SCHEMA);
      // After the claim's UPDATE went through on this connection: the reply's INSERT never arrives.
      const cut = proxy.arm({ match: holding('insert into', 'audit_log'), fault: 'cut-before' });
      await expect(warnings.claim('request', id, 5, await reply(id))).rejects.toThrow();
      expect(cut.hasFired).toBe(true);
      expect(await told([id])).toEqual({});
      expect(await warnings.dueRequests(5, 100)).toContain(id);

      expect(await warnings.claim('request', id, 5, await reply(id))).toMatchObject({
        action: 'request.expiring',
        requestId: id,
      });
      expect(await warnings.claim('request', id, 5, await reply(id))).toBeNull();
      expect(await told([id])).toEqual({ [id]: 1 });
    } finally {
      await pool.end();
      await proxy.stop();
    }
  });
});

describe('renewal claims', () => {
  it('give an expired request to one renewer of many, keep it until released, and only while expired', async () => {
    const waiting = await open(30);
    expect(await fixture.store.renewals.claim(waiting, 'U1')).toBe(false);
    await fixture.db.pool.query(
      `UPDATE ${SCHEMA}.requests SET expires_at = now() - interval '1 s' WHERE id = $1`,
      [waiting],
    );
    await fixture.store.requests.expireDue(100);
    const wins = await Promise.all(
      Array.from({ length: 8 }, (_, i) => fixture.store.renewals.claim(waiting, `U${i}`)),
    );
    expect(wins.filter(Boolean)).toHaveLength(1);
    await fixture.store.renewals.release(waiting);
    expect((await fixture.store.requests.get(waiting))?.result).toBeNull();
    expect(await fixture.store.renewals.claim(waiting, 'U9')).toBe(true);
    await fixture.store.renewals.done(waiting, 'rq_next');
    expect((await fixture.store.requests.get(waiting))?.result).toMatchObject({
      renewedBy: 'U9',
      renewedAs: 'rq_next',
    });
    expect(await fixture.store.renewals.claim(waiting, 'U10')).toBe(false);
  });

  it('lets a claim whose renewer vanished be taken again after two minutes, never a finished one', async () => {
    const id = await open(30);
    await fixture.db.pool.query(
      `UPDATE ${SCHEMA}.requests SET state = 'expired', expires_at = now() - interval '1 s' WHERE id = $1`,
      [id],
    );
    expect(await fixture.store.renewals.claim(id, 'U1')).toBe(true);
    expect(await fixture.store.renewals.claim(id, 'U2')).toBe(false);
    const age = (seconds: number) =>
      fixture.db.pool.query(
        `UPDATE ${SCHEMA}.requests
            SET result = result || jsonb_build_object('renewingSince', (now() - $2::double precision * interval '1 second')::text)
          WHERE id = $1`,
        [id, seconds],
      );
    await age(121);
    expect(await fixture.store.renewals.claim(id, 'U2')).toBe(true);
    await fixture.store.renewals.done(id, 'rq_done');
    await age(3600);
    expect(await fixture.store.renewals.claim(id, 'U3')).toBe(false);
  });
  it('records the renewal and appends request.renewed in one transaction: cut there, neither is left, and the next try records and tells it once', async () => {
    const id = await open(30);
    await fixture.db.pool.query(
      `UPDATE ${SCHEMA}.requests SET state = 'expired', expires_at = now() - interval '1 s' WHERE id = $1`,
      [id],
    );
    const old = await fixture.store.requests.get(id);
    if (!old) throw new Error('request missing');
    const notice = (result: Record<string, unknown>): ToldEntry => ({
      event: {
        action: 'request.renewed',
        actor: 'slack:U1',
        conversationId: old.conversationId,
        requestId: id,
        data: { request: { ...old, result }, renewedAs: 'rq_fresh', changed: null },
      },
      options: { deliverTo: { channelId: old.channelId } },
    });
    const renewedTold = async () =>
      (
        await fixture.db.pool.query(
          `SELECT d.channel_id, a.data::jsonb->'request'->'result'->>'renewedAs' AS renewed_as
             FROM ${SCHEMA}.audit_log a JOIN ${SCHEMA}.audit_deliveries d ON d.seq = a.seq
            WHERE a.action = 'request.renewed' AND a.request_id = $1`,
          [id],
        )
      ).rows;
    expect(await fixture.store.renewals.claim(id, 'U1')).toBe(true);
    await withAuditInsertCut(fixture.db.url, async (pool) => {
      await expect(createRenewalStore(pool, SCHEMA).done(id, 'rq_fresh', notice)).rejects.toThrow();
    });
    expect((await fixture.store.requests.get(id))?.result).not.toHaveProperty('renewedAs');
    expect(await renewedTold()).toEqual([]);

    await fixture.store.renewals.done(id, 'rq_fresh', notice);
    expect(await renewedTold()).toEqual([{ channel_id: 'C0INC', renewed_as: 'rq_fresh' }]);
    expect((await fixture.store.requests.get(id))?.result).toMatchObject({
      renewedBy: 'U1',
      renewedAs: 'rq_fresh',
    });
  });
});
