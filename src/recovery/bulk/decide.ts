import { createHash } from 'node:crypto';
import { analyzeConversation, compareTimestamps } from '../conversation.js';

/** The preview's groups; the run decides each conversation again the same way at write time. */
export type Group = 'absent' | 'identical' | 'older' | 'newer' | 'invalid';
export const GROUPS: readonly Group[] = ['absent', 'identical', 'older', 'newer', 'invalid'];

export interface Decision {
  group: Group;
  /** Why an invalid source is invalid (the first error finding's code). */
  problem: string | null;
}

/** What a decision needs from one copy's analysis. */
export interface Verdict {
  valid: boolean;
  problem: string | null;
  updatedAt: string | null;
  stepCount: number | null;
  /** undefined: not computed (the copy was only checked, not fingerprinted). */
  contentHash: string | null | undefined;
}

/**
 * Verdicts by id and exact bytes, most recent kept. The analysis is most of a bulk restore's CPU,
 * and a chunk decides the very bytes its preview analysed a moment earlier in the same process:
 * the same bytes give the same verdict, so it is looked up instead. Bounded, so memory stays flat
 * however large the selection (past the bound, copies are analysed again).
 */
export class VerdictCache {
  private readonly entries = new Map<string, Verdict>();

  constructor(private readonly max = 100_000) {}

  get size(): number {
    return this.entries.size;
  }

  verdict(id: string, bytes: Buffer, fingerprint: boolean): Verdict {
    const key = `${id}\u0000${createHash('sha1').update(bytes).digest('base64')}`;
    const hit = this.entries.get(key);
    this.entries.delete(key);
    const verdict =
      hit && (!fingerprint || hit.contentHash !== undefined) ? hit : analyze(id, bytes, fingerprint);
    this.entries.set(key, verdict);
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return verdict;
  }
}

/** `fingerprint` false: the verdict without the content hash, at about half the cost. */
function analyze(id: string, bytes: Buffer, fingerprint: boolean): Verdict {
  const a = analyzeConversation(bytes, id, { fingerprints: fingerprint });
  return {
    valid: a.valid,
    problem: a.valid ? null : (a.findings.find((f) => f.severity === 'error')?.code ?? 'invalid'),
    updatedAt: a.updatedAt,
    stepCount: a.stepCount,
    contentHash: fingerprint ? a.contentHash : undefined,
  };
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
  cache?: VerdictCache,
): Decision {
  if (id.length > 128 || !idPattern.test(id) || /[\r\n]/.test(id)) {
    return { group: 'invalid', problem: 'invalid_id' };
  }
  const verdictOf = (bytes: Buffer, fingerprint: boolean) =>
    cache ? cache.verdict(id, bytes, fingerprint) : analyze(id, bytes, fingerprint);
  // Only a copy compared with a different one needs its content hash; an absent key or the
  // same bytes need the source's validity alone.
  const compared = current !== null && !current.equals(source);
  const src = verdictOf(source, compared);
  if (!src.valid) return { group: 'invalid', problem: src.problem };
  if (current === null) return { group: 'absent', problem: null };
  if (!compared) return { group: 'identical', problem: null };
  const cur = verdictOf(current, true);
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
