import type { AnyMiddlewareArgs, Middleware } from '@slack/bolt';
import { runWithPriority } from '../capacity.js';
import { ACTION, VIEW_CALLBACK } from '../slack-ids.js';
import { busyView } from '../views/errors.js';

/**
 * Sheds load at the door. A replica works on a bounded number of slash commands at once; a few
 * more may wait for a turn, briefly (Slack wants the ack within 3 seconds), and the rest are
 * answered "busy" in the ack itself, before any work — instead of all of them queueing for the
 * same database connections until they fail with a timeout.
 *
 * Approve, deny and cancel are never gated: they run with priority, so they (and the restore an
 * approval starts) may use the Postgres connections kept in reserve.
 */

/** Clicks and forms that decide a request. */
// A bulk job's Cancel above all: it must get through while chunk workers keep the pool busy.
const DECIDING_ACTIONS = new Set<string>([
  ACTION.approve,
  ACTION.deny,
  ACTION.cancel,
  ACTION.bulkApprove,
  ACTION.bulkDeny,
  ACTION.bulkCancel,
]);
const DECIDING_VIEWS = new Set<string>([VIEW_CALLBACK.denyReason, VIEW_CALLBACK.cancelReason]);

/**
 * How long a command may wait for a turn: its ack must still reach Slack within 3 s, and on a
 * host starved of CPU the rest of the way to the ack took up to a second more (npm run bench).
 */
export const TURN_WAIT_MS = 1000;

export type RequestClass = 'command' | 'decision' | 'other';

/** Reads only what Slack's payload shapes guarantee, and copes with anything else. */
export function classifyRequest(body: unknown): RequestClass {
  if (!body || typeof body !== 'object') return 'other';
  const b = body as {
    command?: unknown;
    type?: unknown;
    actions?: unknown;
    view?: { callback_id?: unknown } | null;
  };
  if (typeof b.command === 'string') return 'command';
  if (b.type === 'block_actions' && Array.isArray(b.actions)) {
    const first = b.actions[0] as { action_id?: unknown } | null | undefined;
    if (typeof first?.action_id === 'string' && DECIDING_ACTIONS.has(first.action_id)) return 'decision';
  }
  if (b.type === 'view_submission' && typeof b.view?.callback_id === 'string') {
    if (DECIDING_VIEWS.has(b.view.callback_id)) return 'decision';
  }
  return 'other';
}

export type TurnRefusal = 'queue_full' | 'wait_timeout';

/** A counting semaphore with a bounded, time-limited queue. */
export function createTurns(opts: { concurrency: number; queue: number; waitMs: number }) {
  let running = 0;
  const waiting: Array<() => void> = [];
  const release = () => {
    const next = waiting.shift();
    if (next) next();
    else running--;
  };
  return {
    /** A release function, or why no turn was given. */
    take(): Promise<(() => void) | TurnRefusal> {
      if (running < opts.concurrency) {
        running++;
        return Promise.resolve(once(release));
      }
      if (waiting.length >= opts.queue) return Promise.resolve('queue_full');
      return new Promise((resolve) => {
        const grant = () => {
          clearTimeout(timer);
          resolve(once(release));
        };
        const timer = setTimeout(() => {
          const at = waiting.indexOf(grant);
          if (at >= 0) waiting.splice(at, 1);
          resolve('wait_timeout');
        }, opts.waitMs);
        waiting.push(grant);
      });
    },
    get load() {
      return { running, waiting: waiting.length };
    },
  };
}

function once(fn: () => void): () => void {
  let done = false;
  return () => {
    if (done) return;
    done = true;
    fn();
  };
}

export function commandGate(opts: {
  concurrency: number;
  queue: number;
  waitMs?: number;
  onShed: (reason: TurnRefusal) => void;
}): Middleware<AnyMiddlewareArgs> {
  const turns = createTurns({ ...opts, waitMs: opts.waitMs ?? TURN_WAIT_MS });
  return async (args) => {
    const kind = classifyRequest(args.body);
    if (kind === 'decision') {
      await runWithPriority(() => args.next());
      return;
    }
    if (kind !== 'command' || !('ack' in args)) {
      await args.next();
      return;
    }
    const turn = await turns.take();
    if (typeof turn === 'string') {
      opts.onShed(turn);
      await (args.ack as (response: unknown) => Promise<void>)(busyView());
      return;
    }
    // The listener may give its turn back before it ends (`context.releaseTurn`, read by
    // commands/slash.ts): once its work is done, waiting for Slack to post its thread message
    // must not keep the next command out.
    const context = (args as { context?: Record<string, unknown> }).context;
    if (context) context.releaseTurn = turn;
    try {
      // Bolt resolves `next` once the listener is done, work after the ack included.
      await args.next();
    } finally {
      turn();
    }
  };
}
