import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { analyzeConversation } from '../../src/recovery/conversation.js';
import { makeConversation, stepTs } from '../helpers/conversations.js';

/**
 * A bulk restore into an absent key decides on `analyzeConversation(…, { fingerprints: false })`:
 * "invalid at the source, never written" holds only if that verdict is the full analysis's, to
 * the finding. Every copy below is compared field by field with the full analysis, save the one
 * documented difference: after the quick parse (`JSON.parse`, on documents whose numbers are all
 * plain integers) duplicate keys, a warning, go unreported.
 */
function withoutFingerprints(bytes: Buffer, id: string) {
  const full = analyzeConversation(bytes, id);
  return { ...full, contentHash: null, steps: null, findings: withoutDuplicates(full.findings) };
}

function quick(bytes: Buffer, id: string) {
  const a = analyzeConversation(bytes, id, { fingerprints: false });
  return { ...a, findings: withoutDuplicates(a.findings) };
}

const withoutDuplicates = (findings: ReadonlyArray<{ code: string }>) =>
  findings.filter((f) => f.code !== 'duplicate_key');

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
  // Numbers at the edges of the quick parse: each spelling below must give the lossless verdict.
  ...[
    '1',
    '-1',
    '0',
    '-0',
    '00',
    '1.0',
    '1e0',
    '1E0',
    '10e-1',
    '2.5',
    '999999999999999',
    '-999999999999999',
    '9007199254740991',
    '9007199254740993',
    '1000000000000000',
    '12345678901234567890',
    '1.0000000000000001',
    '3',
  ].flatMap((n) => [
    `{"id":"${id}","status":"active","steps":[{"step":${n},"role":"user","ts":"${stepTs(1)}","content":"q"}],"checkpoint":${n},"updated_at":"${stepTs(1)}"}`,
    `{"id":"${id}","status":"active","steps":[{"step":1,"role":"user","ts":"${stepTs(1)}","content":"q","n":${n}}],"checkpoint":0,"updated_at":"${stepTs(1)}"}`,
  ]),
  // Digits and minus signs inside strings are not numbers.
  `{"id":"${id}","status":"active","steps":[{"step":1,"role":"user","ts":"${stepTs(1)}","content":"1.5e9 -0 0012 \\" 3.0"}],"checkpoint":1,"updated_at":"${stepTs(1)}"}`,
  // Duplicate keys, last one counts: different values, then the same.
  `{"id":"c-other","id":"${id}","status":"paused","status":"active","steps":[],"updated_at":"${stepTs(1)}"}`,
  `{"id":"${id}","status":"active","steps":[],"steps":"none","updated_at":"${stepTs(1)}"}`,
  `{"__proto__":{"id":"${id}"},"status":"active","steps":[],"updated_at":"${stepTs(1)}"}`,
];

describe('analysis without fingerprints', () => {
  it('gives the full analysis, findings and all, less the content and step hashes', () => {
    for (const text of odd) {
      const bytes = Buffer.from(text);
      expect(quick(bytes, id)).toEqual(withoutFingerprints(bytes, id));
    }
    const notUtf8 = Buffer.from([0x7b, 0xff, 0x7d]);
    expect(quick(notUtf8, id)).toEqual(withoutFingerprints(notUtf8, id));
  });

  it('agrees with the full analysis on documents with random values in every field', () => {
    const number = fc.oneof(
      fc.integer(),
      fc.double({ noNaN: true, noDefaultInfinity: true }),
      fc.bigInt({ min: -(10n ** 25n), max: 10n ** 25n }),
      fc.constantFrom('-0', '1.0', '1e0', '2E+1', '0.5', '1e400'),
    );
    // Values spelled as text, so numbers keep the spelling a writer could give them.
    const value: fc.Arbitrary<string> = fc.letrec<{ v: string }>((tie) => ({
      v: fc.oneof(
        { depthSize: 'small' },
        number.map(String),
        fc.string({ maxLength: 8 }).map((t) => JSON.stringify(t)),
        fc.constantFrom('null', 'true', 'false', `"${stepTs(1)}"`, `"${id}"`, '"active"', '"user"'),
        fc.array(tie('v'), { maxLength: 3 }).map((a) => `[${a.join(',')}]`),
        fc
          .array(fc.tuple(fc.constantFrom('step', 'role', 'ts', 'content', 'x', 'step'), tie('v')), {
            maxLength: 4,
          })
          .map((kv) => `{${kv.map(([k, v]) => `"${k}":${v}`).join(',')}}`),
      ),
    })).v;
    const stepText = fc
      .record({
        step: fc.oneof(number.map(String), value),
        role: value,
        ts: value,
        content: value,
        extra: value,
      })
      .map(
        (r) => `{"step":${r.step},"role":${r.role},"ts":${r.ts},"content":${r.content},"extra":${r.extra}}`,
      );
    fc.assert(
      fc.property(
        fc.record({
          id: fc.oneof(fc.constant(`"${id}"`), value),
          status: fc.oneof(fc.constant('"active"'), value),
          steps: fc.oneof(
            fc.array(stepText, { maxLength: 4 }).map((a) => `[${a.join(',')}]`),
            value,
          ),
          checkpoint: fc.oneof(number.map(String), value),
          updated: fc.oneof(fc.constant(`"${stepTs(9)}"`), value),
        }),
        (d) => {
          const text = `{"id":${d.id},"status":${d.status},"steps":${d.steps},"checkpoint":${d.checkpoint},"updated_at":${d.updated}}`;
          const bytes = Buffer.from(text);
          expect(quick(bytes, id)).toEqual(withoutFingerprints(bytes, id));
        },
      ),
      { numRuns: 1500 },
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
          expect(quick(bytes, id)).toEqual(withoutFingerprints(bytes, id));
        },
      ),
      { numRuns: 400 },
    );
  });
});
