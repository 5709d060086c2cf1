import { analyzeConversation, compareTimestamps } from '../conversation.js';
import { copyDigest } from './redis-batch.js';

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
 * Verdicts by id and exact bytes, most recent kept: a batch's copies are analysed ahead on worker
 * threads (verdict-pool.ts) and kept here until the batch is decided. Across the preview and the
 * chunks it is the kept decisions (`PreviewDecision`, frozen with the list) that spare a second
 * analysis, so this needs only a few batches' worth: bounded, memory stays flat however large
 * the selection.
 */
export class VerdictCache {
  private readonly entries = new Map<string, Verdict>();

  constructor(private readonly max = 5_000) {}

  get size(): number {
    return this.entries.size;
  }

  verdict(id: string, bytes: Buffer, fingerprint: boolean): Verdict {
    const key = this.key(id, bytes);
    return this.lookup(key, fingerprint) ?? this.put(key, analyze(id, bytes, fingerprint));
  }

  /**
   * The copies among `wanted` whose verdict is not kept yet, and a way to keep each once
   * computed elsewhere (on a worker thread: verdict-pool.ts).
   */
  missing(wanted: readonly VerdictRequest[]): Array<VerdictRequest & { keep: (v: Verdict) => void }> {
    const out: Array<VerdictRequest & { keep: (v: Verdict) => void }> = [];
    for (const w of wanted) {
      const key = this.key(w.id, w.bytes);
      if (!this.lookup(key, w.fingerprint)) out.push({ ...w, keep: (v) => this.put(key, v) });
    }
    return out;
  }

  /** A copy is looked up twice (warmed ahead, then decided): its SHA-1 is taken once (copyDigest). */
  private key(id: string, bytes: Buffer): string {
    return `${id}\u0000${copyDigest(bytes).toString('base64')}`;
  }

  private lookup(key: string, fingerprint: boolean): Verdict | undefined {
    const hit = this.entries.get(key);
    if (!hit || (fingerprint && hit.contentHash === undefined)) return undefined;
    this.entries.delete(key);
    this.entries.set(key, hit);
    return hit;
  }

  private put(key: string, verdict: Verdict): Verdict {
    this.entries.delete(key);
    this.entries.set(key, verdict);
    if (this.entries.size > this.max) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
    return verdict;
  }
}

/** One copy whose verdict a decision needs. */
export interface VerdictRequest {
  id: string;
  bytes: Buffer;
  fingerprint: boolean;
}

/**
 * The verdicts `decide` asks for first, so they can be computed ahead (in parallel) and kept: the
 * quick verdict of the source, and of a different Redis copy. A source with a broken id needs
 * none. Once they are kept, `fingerprintsNeeded` says which pairs need their content hashes too.
 */
export function verdictsNeeded(
  id: string,
  source: Buffer,
  current: Buffer | null,
  idPattern: RegExp,
): VerdictRequest[] {
  if (!validBulkId(id, idPattern)) return [];
  const src = { id, bytes: source, fingerprint: false };
  return current !== null && !current.equals(source)
    ? [src, { id, bytes: current, fingerprint: false }]
    : [src];
}

/**
 * The content hashes `decide` will ask for, once the quick verdicts are kept in `cache` (missing
 * ones are computed): found by deciding with hashes that tell nothing, so the answer is `decide`'s
 * own and cannot drift from it.
 */
export function fingerprintsNeeded(
  id: string,
  source: Buffer,
  current: Buffer | null,
  idPattern: RegExp,
  cache: VerdictCache,
): VerdictRequest[] {
  const wanted: VerdictRequest[] = [];
  decideWith(id, source, current, idPattern, (bytes, fingerprint) => {
    const quick = cache.verdict(id, bytes, false);
    if (!fingerprint) return quick;
    wanted.push({ id, bytes, fingerprint: true });
    return { ...quick, contentHash: null };
  });
  return wanted;
}

/**
 * Copies of the same content (equal canonical forms, so equal content hashes) have the same
 * `updated_at` and the same number of steps, whichever parser read them; copies that differ in
 * either cannot be identical, and need no content hash (the costly part of an analysis) to tell.
 */
function mayHoldSameContent(a: Verdict, b: Verdict): boolean {
  return a.updatedAt === b.updatedAt && a.stepCount === b.stepCount;
}

/**
 * The preview's decision on one conversation, kept with the frozen list: the digests of the two
 * copies it decided on, and what it decided.
 */
export interface PreviewDecision extends Decision {
  sourceDigest: Buffer;
  /** null: Redis held no copy. */
  redisDigest: Buffer | null;
}

/**
 * The preview's decision when the copies at write time are the very bytes it decided on (a
 * decision depends on nothing else), so a chunk worked by any replica skips the analysis; null
 * when either copy changed or none was kept (then `decide` again).
 */
export function previewStillHolds(
  id: string,
  source: Buffer,
  current: Buffer | null,
  idPattern: RegExp,
  preview: PreviewDecision | null,
): Decision | null {
  if (!preview || !validBulkId(id, idPattern)) return null;
  if (!copyDigest(source).equals(preview.sourceDigest)) return null;
  const redisSame =
    current === null
      ? preview.redisDigest === null
      : preview.redisDigest !== null && copyDigest(current).equals(preview.redisDigest);
  return redisSame ? { group: preview.group, problem: preview.problem } : null;
}

function validBulkId(id: string, idPattern: RegExp): boolean {
  return id.length <= 128 && idPattern.test(id) && !/[\r\n]/.test(id);
}

/** `fingerprint` false: the verdict without the content hash, at about half the cost. */
export function analyze(id: string, bytes: Buffer, fingerprint: boolean): Verdict {
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
  return decideWith(id, source, current, idPattern, (bytes, fingerprint) =>
    cache ? cache.verdict(id, bytes, fingerprint) : analyze(id, bytes, fingerprint),
  );
}

/** `decide`, with each verdict from `verdictOf`. */
function decideWith(
  id: string,
  source: Buffer,
  current: Buffer | null,
  idPattern: RegExp,
  verdictOf: (bytes: Buffer, fingerprint: boolean) => Verdict,
): Decision {
  if (!validBulkId(id, idPattern)) {
    return { group: 'invalid', problem: 'invalid_id' };
  }
  const src = verdictOf(source, false);
  if (!src.valid) return { group: 'invalid', problem: src.problem };
  if (current === null) return { group: 'absent', problem: null };
  if (current.equals(source)) return { group: 'identical', problem: null };
  const cur = verdictOf(current, false);
  // Zeus's own bytes and Postgres's jsonb text differ in spacing and key order for the same
  // content: only the content hashes tell, and only copies that may hold the same content need them.
  if (mayHoldSameContent(src, cur)) {
    const hashes = [verdictOf(current, true).contentHash, verdictOf(source, true).contentHash];
    if (hashes[0] !== null && hashes[0] === hashes[1]) return { group: 'identical', problem: null };
  }
  if (!cur.valid) return { group: 'older', problem: null };
  const laterUpdate =
    cur.updatedAt !== null &&
    src.updatedAt !== null &&
    (compareTimestamps(cur.updatedAt, src.updatedAt) ?? 0) > 0;
  const moreSteps = (cur.stepCount ?? 0) > (src.stepCount ?? 0);
  return { group: laterUpdate || moreSteps ? 'newer' : 'older', problem: null };
}
