import type { Config } from '../config.js';
import { HourlyLimitReached, hourlyRefusedEvent, reserveCliOperation } from '../store/blast-radius.js';
import type { Runtime } from '../wiring.js';

/**
 * MAX_DESTRUCTIVE_PER_HOUR is per workspace, so a destructive CLI operation counts in the same
 * window as Slack's requests, and past the limit is refused as they are: the same count and
 * when a slot frees, exit 1, audited as policy.refused. Taken once the plan is read, before
 * anything is written or told in the thread. docs/approval-policies.md says why the CLI is
 * capped too.
 */
export async function takeHourlySlot(
  rt: Runtime,
  config: Config,
  op: { kind: 'restore' | 'undo' | 'replay' | 'bulk-restore'; actor: string; conversationId: string | null },
): Promise<void> {
  try {
    await reserveCliOperation(rt.pool, config.postgres.botSchema, op, config.policy.maxDestructivePerHour);
  } catch (err) {
    if (err instanceof HourlyLimitReached) {
      await rt.deps.audit.append(hourlyRefusedEvent(err, op.actor, op.kind, op.conversationId));
    }
    throw err;
  }
}
