import { analyzeConversation, compareTimestamps } from '../conversation.js';
import type { ConversationAnalysis } from '../types.js';

/** The preview's groups; the run decides each conversation again the same way at write time. */
export type Group = 'absent' | 'identical' | 'older' | 'newer' | 'invalid';
export const GROUPS: readonly Group[] = ['absent', 'identical', 'older', 'newer', 'invalid'];

export interface Decision {
  group: Group;
  /** Why an invalid source is invalid (the first error finding's code). */
  problem: string | null;
}

/**
 * How Redis's copy stands against the source's. The source must be valid and stored under a
 * valid id to be written at all. A Redis copy is "newer" only if it is itself valid and has a
 * later `updated_at` or more steps; a broken Redis copy counts as older (it gets replaced, after
 * a backup), since it is no copy Zeus could continue from.
 */
export function decide(
  id: string,
  source: Buffer,
  current: Buffer | null,
  idPattern: RegExp,
  analyzed?: ConversationAnalysis,
): Decision {
  if (id.length > 128 || !idPattern.test(id) || /[\r\n]/.test(id)) {
    return { group: 'invalid', problem: 'invalid_id' };
  }
  const src = analyzed ?? analyzeConversation(source, id);
  if (!src.valid) {
    return { group: 'invalid', problem: src.findings.find((f) => f.severity === 'error')?.code ?? 'invalid' };
  }
  if (current === null) return { group: 'absent', problem: null };
  if (current.equals(source)) return { group: 'identical', problem: null };
  const cur = analyzeConversation(current, id);
  // Zeus's own bytes and Postgres's jsonb text differ in spacing and key order for the same content.
  if (cur.contentHash !== null && cur.contentHash === src.contentHash)
    return { group: 'identical', problem: null };
  if (!cur.valid) return { group: 'older', problem: null };
  const laterUpdate =
    cur.updatedAt !== null &&
    src.updatedAt !== null &&
    (compareTimestamps(cur.updatedAt, src.updatedAt) ?? 0) > 0;
  const moreSteps = (cur.stepCount ?? 0) > (src.stepCount ?? 0);
  return { group: laterUpdate || moreSteps ? 'newer' : 'older', problem: null };
}
