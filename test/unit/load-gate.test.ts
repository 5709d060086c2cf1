import { describe, expect, it } from 'vitest';
import { hasPriority } from '../../src/capacity.js';
import { classifyRequest, commandGate, createTurns } from '../../src/slack/load-gate.js';

describe('which requests the door gates', () => {
  it('gates slash commands, gives deciding clicks and the deny form priority, lets the rest pass', () => {
    expect(classifyRequest({ command: '/zeus-recover', text: 'inspect c-1' })).toBe('command');
    for (const action_id of [
      'request_approve',
      'request_deny',
      'request_cancel',
      'bulk_approve',
      'bulk_deny',
      'bulk_cancel',
    ]) {
      expect(classifyRequest({ type: 'block_actions', actions: [{ action_id }] })).toBe('decision');
    }
    expect(classifyRequest({ type: 'view_submission', view: { callback_id: 'deny_reason_modal' } })).toBe(
      'decision',
    );
    // A bulk job's Cancel is its reason form: it must get through while chunk workers keep the pool busy.
    expect(classifyRequest({ type: 'view_submission', view: { callback_id: 'cancel_reason_modal' } })).toBe(
      'decision',
    );
    expect(classifyRequest({ type: 'block_actions', actions: [{ action_id: 'restore_undo' }] })).toBe(
      'other',
    );
    expect(classifyRequest({ type: 'view_submission', view: { callback_id: 'zeus_recover_modal' } })).toBe(
      'other',
    );
  });

  it('copes with any shape without throwing', () => {
    for (const body of [
      null,
      undefined,
      'payload',
      42,
      {},
      { command: null },
      { type: 'block_actions', actions: null },
      { type: 'block_actions', actions: [null] },
      { type: 'block_actions', actions: [{ action_id: 7 }] },
      { type: 'view_submission', view: null },
      { type: 'view_submission', view: { callback_id: {} } },
    ]) {
      expect(classifyRequest(body)).toBe('other');
    }
  });
});

describe('turns', () => {
  it('gives a turn at once, queues the next, refuses past the queue, and hands a freed turn on', async () => {
    const turns = createTurns({ concurrency: 1, queue: 1, waitMs: 60_000 });
    const first = await turns.take();
    expect(typeof first).toBe('function');
    const second = turns.take();
    expect(await turns.take()).toBe('queue_full');
    (first as () => void)();
    const handed = await second;
    expect(typeof handed).toBe('function');
    expect(turns.load).toEqual({ running: 1, waiting: 0 });
    (handed as () => void)();
    (handed as () => void)();
    expect(turns.load).toEqual({ running: 0, waiting: 0 });
  });

  it('a waiter that gets no turn in time is refused', async () => {
    const turns = createTurns({ concurrency: 1, queue: 5, waitMs: 20 });
    await turns.take();
    expect(await turns.take()).toBe('wait_timeout');
    expect(turns.load).toEqual({ running: 1, waiting: 0 });
  });
});

describe('the middleware', () => {
  const args = (body: unknown, acks: unknown[], seen: boolean[]) =>
    ({
      body,
      ack: async (response: unknown) => void acks.push(response),
      next: async () => void seen.push(hasPriority()),
    }) as unknown as Parameters<ReturnType<typeof commandGate>>[0];

  it('answers a command past the limit with the busy view, and counts it', async () => {
    const shed: string[] = [];
    const gate = commandGate({ concurrency: 1, queue: 0, onShed: (r) => shed.push(r) });
    const acks: unknown[] = [];
    const seen: boolean[] = [];
    let release: () => void = () => {};
    const held = gate({
      ...args({ command: '/zeus-recover' }, acks, seen),
      next: () => new Promise<void>((resolve) => (release = resolve)),
    } as Parameters<typeof gate>[0]);
    await gate(args({ command: '/zeus-recover' }, acks, seen));
    expect(shed).toEqual(['queue_full']);
    expect(JSON.stringify(acks)).toMatch(/busy — too many commands at once/);
    release();
    await held;
    await gate(args({ command: '/zeus-recover' }, acks, seen));
    expect(seen).toEqual([false]);
  });

  it('lets a command give its turn back before it ends, so its wait for the thread link keeps no one out', async () => {
    const shed: string[] = [];
    const gate = commandGate({ concurrency: 1, queue: 0, onShed: (r) => shed.push(r) });
    type Args = Parameters<typeof gate>[0];
    const ran: string[] = [];
    const holds: Array<() => void> = [];
    const command = (name: string, context: Record<string, unknown> = {}) =>
      gate({
        body: { command: '/zeus-recover' },
        ack: async () => undefined,
        context,
        next: () =>
          new Promise<void>((resolve) => {
            ran.push(name);
            holds.push(resolve);
          }),
      } as unknown as Args);

    const firstContext: Record<string, unknown> = {};
    const first = command('first', firstContext);
    await new Promise((r) => setImmediate(r));
    expect(ran).toEqual(['first']);
    // Its turn is held while it works: the next one is refused at the door.
    await command('refused');
    expect(shed).toEqual(['queue_full']);
    // Its work is done; it now only waits for Slack to post its thread message.
    (firstContext.releaseTurn as () => void)();
    const second = command('second');
    await new Promise((r) => setImmediate(r));
    expect(ran).toEqual(['first', 'second']);
    // When the first ends, its turn is not given back twice: one turn, held by the second.
    holds[0]?.();
    await first;
    await command('refused again');
    expect(shed).toEqual(['queue_full', 'queue_full']);
    holds[1]?.();
    await second;
  });

  it('runs deciding clicks with priority, whatever the load', async () => {
    const gate = commandGate({ concurrency: 1, queue: 0, onShed: () => {} });
    const seen: boolean[] = [];
    await gate(args({ type: 'block_actions', actions: [{ action_id: 'request_approve' }] }, [], seen));
    expect(seen).toEqual([true]);
  });
});
