import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, RecoveryError } from '../../src/errors.js';
import type { CoreDeps } from '../../src/recovery/deps.js';
import { executeUnlock, planUnlock } from '../../src/recovery/unlock.js';
import type { Runtime } from '../../src/wiring.js';
import { type Stack, startStack } from '../helpers/stack.js';

/** The break decided on one holder never frees a lock someone else took since. */

let stack: Stack;
let rt: Runtime;
let deps: CoreDeps;
const actor = { id: 'cli:sre', reason: 'INC-12 stuck lock' };

beforeAll(async () => {
  stack = await startStack();
  rt = await stack.runtime({});
  deps = rt.deps;
}, 60_000);
afterAll(async () => stack?.stop());

describe('unlock', () => {
  it('breaks the lease it was planned on, and the broken holder can no longer renew', async () => {
    const lease = await deps.locks.acquire('c-unlock-1', 'slack:U1 (request rq_a)', 60_000);
    if (!lease.acquired) throw new Error('expected the lock');
    const plan = await planUnlock(deps, 'c-unlock-1');
    expect(plan.lock).toMatchObject({ holder: 'slack:U1', requestId: 'rq_a', gone: false });
    const result = await executeUnlock(deps, plan, actor);
    expect(result.broken.holder).toBe('slack:U1');
    expect(await deps.locks.inspect('c-unlock-1')).toBeNull();
    expect(await lease.renew(60_000)).toBe(false);
  });

  it('a lock that changed hands since the plan is not broken, and says who has it now', async () => {
    const first = await deps.locks.acquire('c-unlock-2', 'cli:a', 60_000);
    if (!first.acquired) throw new Error('expected the lock');
    const plan = await planUnlock(deps, 'c-unlock-2');
    await first.release();
    const second = await deps.locks.acquire('c-unlock-2', 'slack:U2 (request rq_b)', 60_000);
    if (!second.acquired) throw new Error('expected the lock');
    const err = await executeUnlock(deps, plan, actor).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecoveryError);
    expect((err as RecoveryError).code).toBe(ErrorCode.Conflict);
    expect((err as RecoveryError).message).toMatch(/changed hands .*now slack:U2 for request rq_b/);
    expect((err as RecoveryError).hint).toMatch(/^Nothing was broken/);
    expect((await deps.locks.inspect('c-unlock-2'))?.holder).toBe('slack:U2 (request rq_b)');
    expect(await second.renew(60_000)).toBe(true);
  });
});
