import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import {
  analyze,
  type Decision,
  decide,
  fingerprintsNeeded,
  VerdictCache,
  verdictsNeeded,
} from '../../src/recovery/bulk/decide.js';
import { closeVerdictPool, warmDecisions } from '../../src/recovery/bulk/verdict-pool.js';
import { compareTimestamps } from '../../src/recovery/conversation.js';
import { jsonbText, makeConversation, stepTs } from '../helpers/conversations.js';

const ids = /^[A-Za-z0-9_-]+$/;

afterAll(() => closeVerdictPool());

/**
 * The decision with every copy fully analysed (content hash included): what `decide` gave before
 * it learnt to skip the hashes of copies that cannot hold the same content.
 */
function fullyAnalysed(id: string, source: Buffer, current: Buffer | null): Decision {
  if (!ids.test(id)) return { group: 'invalid', problem: 'invalid_id' };
  const src = analyze(id, source, true);
  if (!src.valid) return { group: 'invalid', problem: src.problem };
  if (current === null) return { group: 'absent', problem: null };
  if (current.equals(source)) return { group: 'identical', problem: null };
  const cur = analyze(id, current, true);
  if (cur.contentHash !== null && cur.contentHash === src.contentHash)
    return { group: 'identical', problem: null };
  if (!cur.valid) return { group: 'older', problem: null };
  const later =
    cur.updatedAt !== null &&
    src.updatedAt !== null &&
    (compareTimestamps(cur.updatedAt, src.updatedAt) ?? 0) > 0;
  return { group: later || (cur.stepCount ?? 0) > (src.stepCount ?? 0) ? 'newer' : 'older', problem: null };
}

const id = 'c-dec-1';
const doc = (steps: number, extra: Record<string, unknown> = {}) => makeConversation(id, steps, extra);

/** Redis copies against a source: the same content in other bytes, and every way to differ. */
const copyKinds = (source: string, steps: number): Array<string | null> => [
  null,
  source,
  jsonbText(source),
  JSON.stringify(JSON.parse(source), null, 2),
  doc(steps),
  doc(steps + 1),
  doc(Math.max(0, steps - 1)),
  doc(steps, { updated_at: stepTs(steps + 40) }),
  doc(steps, { updated_at: '2020-01-01T00:00:00Z' }),
  // Same updated_at and step count, other content: only the hashes tell it apart.
  doc(steps, { zeus_version: '9.9.9' }),
  doc(steps, { status: 'paused' }),
  doc(steps, { status: 'exploded' }),
  makeConversation('c-other', steps),
  '{"id": "c-dec-1"',
  'null',
  JSON.stringify({ ...JSON.parse(source), checkpoint: 1.0 }).replace('"checkpoint":1', '"checkpoint":1.0'),
];

describe('bulk decisions', () => {
  it('are those of a full analysis of both copies, whichever copies', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 6 }),
        fc.boolean(),
        fc.nat(),
        fc.constantFrom('active', 'paused', 'exploded'),
        (steps, asJsonb, pick, status) => {
          const base = doc(steps, { status });
          const source = Buffer.from(asJsonb ? jsonbText(base) : base);
          const kinds = copyKinds(base, steps);
          const copy = kinds[pick % kinds.length];
          const current = copy === undefined || copy === null ? null : Buffer.from(copy);
          const expected = fullyAnalysed(id, source, current);
          expect(decide(id, source, current, ids)).toEqual(expected);
          expect(decide(id, source, current, ids, new VerdictCache())).toEqual(expected);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('fingerprint only copies that may hold the same content', () => {
    const source = Buffer.from(jsonbText(doc(4)));
    // Another step, a later update: told apart by the quick verdicts, no hash needed.
    for (const other of [doc(5), doc(4, { updated_at: stepTs(60) })]) {
      const cache = new VerdictCache();
      expect(verdictsNeeded(id, source, Buffer.from(other), ids).every((r) => !r.fingerprint)).toBe(true);
      expect(fingerprintsNeeded(id, source, Buffer.from(other), ids, cache)).toEqual([]);
    }
    // The same content in Zeus's bytes, or other content with the same surface: both hashed.
    for (const other of [doc(4), doc(4, { zeus_version: '9.9.9' })]) {
      const needed = fingerprintsNeeded(id, source, Buffer.from(other), ids, new VerdictCache());
      expect(needed.map((r) => r.fingerprint)).toEqual([true, true]);
    }
    expect(decide(id, source, Buffer.from(doc(4)), ids).group).toBe('identical');
    expect(decide(id, source, Buffer.from(doc(4, { zeus_version: '9.9.9' })), ids).group).toBe('older');
  });

  it('warmed on the threads, leave nothing for decide to analyse', async () => {
    const rows = Array.from({ length: 40 }, (_, i) => {
      const cid = `c-warm-${i}`;
      const source = Buffer.from(jsonbText(makeConversation(cid, 4)));
      const current = [
        null,
        Buffer.from(makeConversation(cid, 4)),
        Buffer.from(makeConversation(cid, 6)),
        Buffer.from(makeConversation(cid, 4, { zeus_version: '0.1' })),
      ][i % 4] as Buffer | null;
      return { id: cid, source, current };
    });
    const cache = new VerdictCache();
    await warmDecisions(cache, rows, ids);
    const needed = rows.flatMap((r) => [
      ...verdictsNeeded(r.id, r.source, r.current, ids),
      ...fingerprintsNeeded(r.id, r.source, r.current, ids, cache),
    ]);
    // Both copies of the 20 pairs whose surfaces agree (the same content, and a changed zeus_version).
    expect(needed.filter((r) => r.fingerprint)).toHaveLength(40);
    expect(cache.missing(needed)).toEqual([]);
    const groups = rows.map((r) => decide(r.id, r.source, r.current, ids, cache).group);
    expect(groups.slice(0, 4)).toEqual(['absent', 'identical', 'newer', 'older']);
  });
});
