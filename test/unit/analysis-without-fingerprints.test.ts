import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeConversation } from '../../src/recovery/conversation.js';
import { makeConversation, stepTs } from '../helpers/conversations.js';

/**
 * A bulk restore into an absent key decides on `analyzeConversation(…, { fingerprints: false })`:
 * "invalid at the source, never written" holds only if that verdict is the full analysis's, to
 * the finding. Every copy below is compared field by field with the full analysis.
 */
function withoutFingerprints(bytes: Buffer, id: string) {
  const full = analyzeConversation(bytes, id);
  return { ...full, contentHash: null, steps: null };
}

const id = 'c-fp-1';
const step = (n: number, extra: Record<string, unknown> = {}) => ({
  step: n,
  role: 'user',
  ts: stepTs(n),
  content: `q ${n}`,
  ...extra,
});

/** Broken and odd copies, one per kind of finding and then some. */
const odd: string[] = [
  '',
  'null',
  '[]',
  '"text"',
  '{"id": "c-fp-1"',
  '\uFEFF{}',
  '[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]',
  `${'['.repeat(1200)}${']'.repeat(1200)}`,
  makeConversation(id, 3),
  makeConversation('c-other', 3),
  makeConversation(id, 0),
  makeConversation(id, 3, { status: 'sleeping' }),
  makeConversation(id, 3, { steps: 'many' }),
  makeConversation(id, 3, { checkpoint: 9 }),
  makeConversation(id, 3, { checkpoint: -1 }),
  makeConversation(id, 3, { checkpoint: '2' }),
  makeConversation(id, 3, { updated_at: '2025-12-13 10:00' }),
  makeConversation(id, 3, { updated_at: '2020-01-01T00:00:00Z' }),
  makeConversation(id, 3, { steps: [step(1), step(3), step(2)] }),
  makeConversation(id, 3, { steps: [step(1), step(1)] }),
  makeConversation(id, 3, { steps: [step(2), step(7)] }),
  makeConversation(id, 3, { steps: [step(1, { ts: stepTs(5) }), step(2)] }),
  makeConversation(id, 3, { steps: [step(1, { ts: 'yesterday' }), step(2, { ts: 3 })] }),
  makeConversation(id, 3, { steps: [step(1, { role: 'robot' }), 'step two', null] }),
  makeConversation(id, 3, { steps: [{ step: 0 }, { step: 1.5, role: 'user' }] }),
  JSON.stringify({ id, status: 'active', steps: [], updated_at: stepTs(1) }).replace(
    '"steps":[]',
    '"steps":[{"step":1.0,"role":"user","ts":"2025-12-13T10:00:00Z","content":1},{"step":2e0,"role":"user","ts":"2025-12-13T10:00:01Z","content":2},{"step":30000000000000000000000,"role":"user","ts":"2025-12-13T10:00:02Z","content":3}]',
  ),
  `{"id": "${id}", "id": "${id}", "status": "active", "steps": [], "updated_at": "${stepTs(1)}", "checkpoint": 1e400}`,
];

describe('analysis without fingerprints', () => {
  it('gives the full analysis, findings and all, less the content and step hashes', () => {
    for (const text of odd) {
      const bytes = Buffer.from(text);
      expect(analyzeConversation(bytes, id, { fingerprints: false })).toEqual(withoutFingerprints(bytes, id));
    }
    const notUtf8 = Buffer.from([0x7b, 0xff, 0x7d]);
    expect(analyzeConversation(notUtf8, id, { fingerprints: false })).toEqual(
      withoutFingerprints(notUtf8, id),
    );
  });

  it('agrees with the full analysis on copies damaged at random', () => {
    const base = makeConversation(id, 12);
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(base.length - 1), fc.nat(base.length - 1), fc.string({ maxLength: 6 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (edits) => {
          let text = base;
          for (const [a, b, insert] of edits) {
            const [from, to] = a <= b ? [a, Math.min(b, a + 8)] : [b, Math.min(a, b + 8)];
            text = text.slice(0, from) + insert + text.slice(to);
          }
          const bytes = Buffer.from(text);
          expect(analyzeConversation(bytes, id, { fingerprints: false })).toEqual(
            withoutFingerprints(bytes, id),
          );
        },
      ),
      { numRuns: 400 },
    );
  });
});
