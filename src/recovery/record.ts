import { randomUUID } from 'node:crypto';
import { type OutcomeAction, withOutcomeMarks } from '../audit-vocabulary.js';
import type { AuditEvent, AuditLog } from '../store/types.js';
import { FINAL_WRITE_DELAYS_MS, retrying } from './retry.js';

/**
 * Appends an operation's outcome, retrying (about 30 s by default) until the audit log has it,
 * and exactly once: the entry is marked, and a retry after an append whose answer was lost (its
 * COMMIT may have landed) first looks for the mark among the entries after `since` (the
 * operation's own "started" entry). Resolves false when it could not be written at all.
 */
export function recordOutcome(
  audit: AuditLog,
  event: AuditEvent<OutcomeAction>,
  opts: { since: number | null; delaysMs?: readonly number[] | undefined },
): Promise<boolean> {
  const entryId = randomUUID();
  const marked = withOutcomeMarks(event, { entryId });
  let tried = false;
  return retrying(async () => {
    if (tried && opts.since !== null && (await appendedSince(audit, opts.since, event, entryId))) return;
    tried = true;
    await audit.append(marked);
  }, opts.delaysMs ?? FINAL_WRITE_DELAYS_MS).then(
    () => true,
    () => false,
  );
}

const PAGE = 200;

async function appendedSince(
  audit: AuditLog,
  seq: number,
  event: Pick<AuditEvent, 'conversationId'>,
  entryId: string,
): Promise<boolean> {
  let from = seq;
  for (;;) {
    const page = await audit.after(from, PAGE);
    if (page.some((e) => e.conversationId === event.conversationId && e.data.entryId === entryId))
      return true;
    const last = page.at(-1);
    if (page.length < PAGE || !last) return false;
    from = last.seq;
  }
}
