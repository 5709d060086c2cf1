import { describe, expect, it } from 'vitest';
import type { UnlockPlan } from '../../src/recovery/unlock.js';
import { blastRadiusStatus } from '../../src/store/blast-radius.js';
import {
  createRequestStore,
  type NewRequest,
  OpenRequestConflict,
  type RequestStore,
} from '../../src/store/requests.js';
import { storedPlan, useMigratedStore } from '../helpers/store.js';

/**
 * Unlock requests in real Postgres (migration 0015): one may stand beside the run whose lock it
 * breaks, one open unlock per conversation, never counted by the hourly limit, and the sweeper
 * gives an executing unlock its grace instead of reading the lock it is breaking as its own.
 */

const SCHEMA = 'zeus_recover';
const fixture = useMigratedStore('zr_unlock', SCHEMA, createRequestStore);
let seq = 0;

function unlockPlan(conversationId: string): UnlockPlan {
  return {
    conversationId,
    lock: {
      holder: 'slack:U0CAROL',
      requestId: null,
      since: '2025-12-13T10:00:00.000Z',
      expiresAt: '2025-12-13T10:01:00.000Z',
      gone: true,
    },
    token: 'lease-seen',
    createdAt: '2025-12-13T10:05:00.000Z',
  };
}

function input(
  conversationId: string,
  kind: 'restore' | 'unlock',
  over: Partial<NewRequest> = {},
): NewRequest {
  return {
    kind,
    conversationId,
    channelId: 'C0INC',
    requester: 'UREQ',
    reason: 'INC-12',
    plan: kind === 'unlock' ? unlockPlan(conversationId) : storedPlan(conversationId),
    requiredApprovals: 1,
    ttlMinutes: 30,
    ...over,
  };
}

async function executing(store: RequestStore, id: string): Promise<void> {
  expect((await store.approve(id, 'UAPPROVER')).kind).toBe('approved');
  expect(await store.startExecution(id)).toBe(true);
}

describe('unlock requests', () => {
  it('open beside the executing run whose lock they break; a second open unlock is refused, naming the first', async () => {
    const store = fixture.store;
    const id = `c-unl-${++seq}`;
    const restore = await store.create(input(id, 'restore'));
    await executing(store, restore.id);
    const unlock = await store.create(input(id, 'unlock'));
    expect(unlock.kind).toBe('unlock');
    expect(unlock.plan).toEqual(unlockPlan(id));
    const again = await store.create(input(id, 'unlock')).catch((err: unknown) => err);
    expect(again).toBeInstanceOf(OpenRequestConflict);
    expect((again as OpenRequestConflict).open.id).toBe(unlock.id);
    // And a restore still conflicts with the restore, not with the unlock.
    const restore2 = await store.create(input(id, 'restore')).catch((err: unknown) => err);
    expect((restore2 as OpenRequestConflict).open.id).toBe(restore.id);
    expect((await store.openForConversation(id))?.id).toBe(restore.id);
    expect((await store.openForConversation(id, 'unlock'))?.id).toBe(unlock.id);
  });

  it('are not counted by the hourly limit, nor refused by it', async () => {
    const store = fixture.store;
    await store.create(input(`c-unl-${++seq}`, 'restore'));
    // The hour is full: a restore is refused …
    await expect(store.create(input(`c-unl-${++seq}`, 'restore', { maxPerHour: 1 }))).rejects.toThrow(
      /destructive requests were opened in the last hour/,
    );
    const before = await blastRadiusStatus(fixture.db.pool, SCHEMA, { maxPerHour: 1, breakerFailures: null });
    expect(before.hourly.used).toBeGreaterThanOrEqual(1);
    // … and an unlock is not.
    const unlock = await store.create(input(`c-unl-${++seq}`, 'unlock', { maxPerHour: 1 }));
    expect(unlock.state).toBe('requested');
    const after = await blastRadiusStatus(fixture.db.pool, SCHEMA, { maxPerHour: 1, breakerFailures: null });
    expect(after.hourly.used).toBe(before.hourly.used);
  });

  it('an executing unlock is not abandoned because the lock it breaks ran out; only after the grace', async () => {
    const store = fixture.store;
    const id = `c-unl-${++seq}`;
    await fixture.db.pool.query(
      `INSERT INTO ${SCHEMA}.locks (conversation_id, holder, token, acquired_at, expires_at)
       VALUES ($1, 'slack:U0CAROL', 'lease-seen', now() - interval '2 minutes', now() - interval '1 minute')`,
      [id],
    );
    const unlock = await store.create(input(id, 'unlock'));
    await executing(store, unlock.id);
    const found = async (graceMs: number) =>
      (await store.abandoned(graceMs, 1000)).some((a) => a.request.id === unlock.id);
    expect(await found(60_000)).toBe(false);
    await fixture.db.pool.query(
      `UPDATE ${SCHEMA}.requests SET started_at = now() - interval '2 minutes' WHERE id = $1`,
      [unlock.id],
    );
    expect(await found(60_000)).toBe(true);
  });
});
