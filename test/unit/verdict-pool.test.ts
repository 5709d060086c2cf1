import { afterAll, describe, expect, it } from 'vitest';
import { analyze, decide, VerdictCache, verdictsNeeded } from '../../src/recovery/bulk/decide.js';
import { closeVerdictPool, warmVerdicts } from '../../src/recovery/bulk/verdict-pool.js';
import { jsonbText, makeConversation } from '../helpers/conversations.js';

const ids = /^[A-Za-z0-9_-]+$/;

afterAll(() => closeVerdictPool());

/** Sources (as Postgres prints them) against Redis copies: absent, same, older, newer, broken. */
function mixed(n: number): Array<{ id: string; source: Buffer; current: Buffer | null }> {
  return Array.from({ length: n }, (_, i) => {
    const id = `c-pool-${i}`;
    // Non-ASCII text and bytes that are not UTF-8 at all must reach the threads byte for byte.
    const good = jsonbText(makeConversation(id, 6)).replace(
      'question 1',
      i % 2 ? 'qüestion 1 🚀' : 'question 1',
    );
    const source = Buffer.from(i % 5 === 3 ? good.replace('"steps"', '"stepz"') : good);
    const current = [
      null,
      source,
      Buffer.from(makeConversation(id, 4)),
      Buffer.from(makeConversation(id, 9)),
      Buffer.from('{"id": '),
      Buffer.from(makeConversation(id, 6)),
      Buffer.concat([Buffer.from(makeConversation(id, 9)).subarray(0, 40), Buffer.from([0xff, 0xc3])]),
    ][i % 7] as Buffer | null;
    return { id, source, current };
  });
}

describe('verdicts on worker threads', () => {
  it('keeps, for every copy a decision needs, the verdict the event loop would give', async () => {
    const rows = mixed(60);
    const wanted = rows.flatMap((r) => verdictsNeeded(r.id, r.source, r.current, ids));
    // The quick verdicts first; the hashes of the pairs they leave open come in a second round (bulk-decide.test.ts).
    const cache = new VerdictCache();
    expect(cache.missing(wanted)).toHaveLength(wanted.length);

    await warmVerdicts(cache, wanted);

    expect(cache.missing(wanted)).toEqual([]);
    for (const w of wanted)
      expect(cache.verdict(w.id, w.bytes, w.fingerprint)).toEqual(analyze(w.id, w.bytes, w.fingerprint));
    for (const r of rows)
      expect(decide(r.id, r.source, r.current, ids, cache)).toEqual(decide(r.id, r.source, r.current, ids));
    const groups = new Set(rows.map((r) => decide(r.id, r.source, r.current, ids, cache).group));
    expect([...groups].sort()).toEqual(['absent', 'identical', 'invalid', 'newer', 'older']);
  });

  it('asks only for the verdicts a decision reads: none for a bad id, quick ones first', () => {
    const source = Buffer.from(makeConversation('c-1', 3));
    expect(verdictsNeeded('bad id', source, null, ids)).toEqual([]);
    expect(verdictsNeeded('c-1', source, null, ids)).toEqual([
      { id: 'c-1', bytes: source, fingerprint: false },
    ]);
    expect(verdictsNeeded('c-1', source, Buffer.from(source), ids)).toEqual([
      { id: 'c-1', bytes: source, fingerprint: false },
    ]);
    const other = Buffer.from(makeConversation('c-1', 4));
    expect(verdictsNeeded('c-1', source, other, ids)).toEqual([
      { id: 'c-1', bytes: source, fingerprint: false },
      { id: 'c-1', bytes: other, fingerprint: false },
    ]);
  });
});
