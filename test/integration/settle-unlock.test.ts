import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStuckSettler } from '../../src/approval/settle-stuck.js';
import type { CoreDeps } from '../../src/recovery/deps.js';
import type { UnlockPlan } from '../../src/recovery/unlock.js';
import { createRequestAuditLookup } from '../../src/store/audit-lookup.js';
import { createRequestStore, type RequestStore } from '../../src/store/requests.js';
import { type Stack, startStack } from '../helpers/stack.js';

/**
 * An unlock whose replica died while it ran: it writes nothing but the lock row, so the sweeper
 * settles it from the audit log alone, and says "unknown" when the log cannot tell.
 */

const SCHEMA = 'zeus_recover';
let stack: Stack;
let core: CoreDeps;
let store: RequestStore;
let n = 0;
const silent = { info: () => {}, warn: () => {} };

beforeAll(async () => {
  stack = await startStack();
  const runtime = await stack.runtime();
  core = runtime.deps;
  store = createRequestStore(runtime.pool, SCHEMA);
}, 60_000);
afterAll(async () => stack.stop());

const LOCK = {
  holder: 'slack:U_CAROL',
  requestId: null,
  since: '2025-12-13T10:00:00.000Z',
  expiresAt: '2025-12-13T10:01:00.000Z',
  gone: true,
};

/** Files, approves and starts an unlock, then leaves it as a dead replica would. */
async function crashedUnlock(): Promise<{ id: string; requestId: string }> {
  const id = `c-unlock-crash-${++n}`;
  const plan: UnlockPlan = {
    conversationId: id,
    lock: LOCK,
    token: 'lease-seen',
    createdAt: new Date().toISOString(),
  };
  const created = await store.create({
    kind: 'unlock',
    conversationId: id,
    channelId: 'C_INC',
    requester: 'U_ALICE',
    reason: 'INC-12 crash test',
    plan,
    requiredApprovals: 1,
    ttlMinutes: 30,
  });
  expect((await store.approve(created.id, 'U_BOB')).kind).toBe('approved');
  expect(await store.startExecution(created.id)).toBe(true);
  return { id, requestId: created.id };
}

function settle() {
  return createStuckSettler({
    core,
    requests: store,
    lookup: createRequestAuditLookup(stack.db.pool, SCHEMA),
    kick: () => {},
    graceMs: 0,
    leaseMs: 10_000,
    logger: silent,
  }).settleOnce();
}

describe('an unlock left running by a dead replica', () => {
  it('is settled succeeded when lock.broken was recorded, unknown when nothing was', async () => {
    const told = await crashedUnlock();
    await core.audit.append({
      action: 'lock.broken',
      actor: 'slack:U_ALICE',
      conversationId: told.id,
      requestId: told.requestId,
      data: { lock: LOCK, reason: 'INC-12 crash test' },
    });
    const silentRun = await crashedUnlock();
    await settle();
    expect((await store.get(told.requestId))?.state).toBe('succeeded');
    const unknown = await store.get(silentRun.requestId);
    expect(unknown?.state).toBe('unknown');
    expect(unknown?.result?.detail).toMatch(/without recording whether it broke the lock.*inspect/);
  });
});
