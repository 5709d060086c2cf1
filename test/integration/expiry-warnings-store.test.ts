import { describe, expect, it } from 'vitest';
import { createExpiryWarningStore } from '../../src/store/expiry-warnings.js';
import { createRenewalStore } from '../../src/store/renewals.js';
import { createRequestStore } from '../../src/store/requests.js';
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

describe('expiry warning claims', () => {
  it('hands each due request to exactly one of many concurrent sweeps, and none twice', async () => {
    const due = await Promise.all(Array.from({ length: 12 }, () => open(3)));
    const notYet = await open(60);
    const claims = await Promise.all(
      Array.from({ length: 8 }, () => fixture.store.warnings.claimRequests(5, 100)),
    );
    const claimed = claims.flat();
    expect(claimed.sort()).toEqual([...due].sort());
    expect(claimed).not.toContain(notYet);
    expect(await fixture.store.warnings.claimRequests(5, 100)).toEqual([]);
  });

  it('skips requests no longer waiting or already past expiry, and hands a released one back once', async () => {
    const decided = await open(3);
    await fixture.store.requests.approve(decided, 'UAPPROVER');
    const past = await open(3);
    await fixture.db.pool.query(
      `UPDATE ${SCHEMA}.requests SET expires_at = now() - interval '1 s' WHERE id = $1`,
      [past],
    );
    const waiting = await open(3);
    expect(await fixture.store.warnings.claimRequests(5, 100)).toEqual([waiting]);
    // The post failed: the next sweep claims it again, and only that one.
    await fixture.store.warnings.release('request', waiting);
    expect(await fixture.store.warnings.claimRequests(5, 100)).toEqual([waiting]);
    expect(await fixture.store.warnings.claimRequests(5, 100)).toEqual([]);
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
});
