import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/store/audit.js';
import { createDeliveryStore, DELIVERY_LOCK_CLASS, deliveryLockName } from '../../src/store/deliveries.js';
import { migrate } from '../../src/store/migrate.js';
import type { ChannelDeliveries, DeliveryStore } from '../../src/store/types.js';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js';

const SCHEMA = 'zr_delivery_store';
const INC = 'C_INC';

let db: TestDatabase;
let store: DeliveryStore;

beforeAll(async () => {
  db = await createTestDatabase('zr_delivery_store');
  await migrate(db.pool, SCHEMA);
  store = createDeliveryStore(db.pool, SCHEMA);
});

afterAll(async () => {
  await db.drop();
});

/**
 * Whether a session other than the store's can take the channel's lock right now (it lets it go
 * at once). Outside the pool: a pooled session could be the very one holding it, and advisory
 * locks are re-entrant within a session.
 */
async function lockIsFree(channel: string): Promise<boolean> {
  const other = new pg.Client({ connectionString: db.url });
  await other.connect();
  try {
    const key = [DELIVERY_LOCK_CLASS, deliveryLockName(SCHEMA, channel)];
    const got = await other.query<{ ok: boolean }>(
      'SELECT pg_try_advisory_lock($1, hashtext($2)) AS ok',
      key,
    );
    return got.rows[0]?.ok === true;
  } finally {
    // Ending the session frees whatever it took.
    await other.end();
  }
}

describe('delivery store: the channel lock', () => {
  it('holds the lock on one connection while fn runs, keeps a second taker out, and frees it after', async () => {
    let inner: { locked: boolean } | null = null;
    const r = await store.withChannelLock(INC, async () => {
      expect(await lockIsFree(INC)).toBe(false);
      inner = await store.withChannelLock(INC, async () => 'ran');
      return 'done';
    });
    expect(r).toEqual({ locked: true, value: 'done' });
    expect(inner).toEqual({ locked: false });
    expect(await lockIsFree(INC)).toBe(true);
  });

  it('destroys the connection when fn throws, so the lock cannot stay behind in a pooled session', async () => {
    await expect(
      store.withChannelLock(INC, async () => {
        throw new Error('boom');
      }),
    ).rejects.toThrow('boom');
    expect(await lockIsFree(INC)).toBe(true);
  });

  it('refuses work through the handle once the lock is let go', async () => {
    let kept: ChannelDeliveries | null = null;
    await store.withChannelLock(INC, async (channel) => {
      kept = channel;
    });
    expect(kept).not.toBeNull();
    await expect((kept as unknown as ChannelDeliveries).head()).rejects.toThrow('no longer held');
  });

  it('reads a channel head from the bound connection, in seq order', async () => {
    const audit = createAuditLog(db.pool, SCHEMA);
    const event = {
      action: 'command.received' as const,
      actor: 'cli:alice',
      requestId: null,
      data: { command: 'inspect c-1' },
    };
    await audit.append({ ...event, conversationId: 'c-1' }, { deliverTo: { channelId: 'C_HEAD' } });
    await audit.append({ ...event, conversationId: null }, { deliverTo: { channelId: 'C_HEAD' } });
    const r = await store.withChannelLock('C_HEAD', async (channel) => {
      const first = await channel.head();
      if (first === null) throw new Error('no head');
      await channel.markDelivered(first.seq, null, null);
      return { first, second: await channel.head() };
    });
    if (!r.locked) throw new Error('lock not taken');
    expect(r.value.first).toMatchObject({
      conversationId: 'c-1',
      attempts: 0,
      messageTs: null,
      sinceSentMs: null,
      waitMs: 0,
    });
    expect(r.value.second).toMatchObject({ seq: r.value.first.seq + 1, conversationId: null });
    expect(await store.pendingCount('C_HEAD')).toBe(1);
  });
});
