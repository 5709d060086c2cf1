import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { analyzeConversation } from '../../src/recovery/conversation.js';
import { diffSteps, summarizeDiff } from '../../src/recovery/diff.js';
import type { StepDiff, StepSummary } from '../../src/recovery/types.js';
import { jsonbText, makeConversation } from '../helpers/conversations.js';

const ID = 'c-7f3a9e';

function analysis(json: string | Buffer) {
  return analyzeConversation(typeof json === 'string' ? Buffer.from(json) : json, ID);
}

function fixture(name: string): Buffer {
  return readFileSync(new URL(`../fixtures/conversations/${name}`, import.meta.url));
}

function withAnswer(json: string, step: number, text: string): string {
  const edited = json.replace(`"answer ${step}"`, JSON.stringify(text));
  if (edited === json) throw new Error(`step ${step} is not an answer`);
  return edited;
}

const numbers = (steps: StepSummary[]) => steps.map((s) => s.step);

describe('diffSteps', () => {
  it('adds every step when the Redis key is missing', () => {
    const d = diffSteps(null, analysis(makeConversation(ID, 5)));
    expect(numbers(d.added)).toEqual([1, 2, 3, 4, 5]);
    expect(d).toMatchObject({ removed: [], changed: [], unchanged: 0, identical: false });
    expect(summarizeDiff(d)).toBe('+5 steps (1–5), −0, 0 changed');
  });

  it('sees no change for the same bytes', () => {
    const doc = makeConversation(ID, 5);
    const d = diffSteps(analysis(doc), analysis(doc));
    expect(d).toEqual({ added: [], removed: [], changed: [], unchanged: 5, identical: true });
    expect(summarizeDiff(d)).toBe('no change');
  });

  it('sees no change for the same content reformatted by Postgres', () => {
    const doc = makeConversation(ID, 5);
    const d = diffSteps(analysis(doc), analysis(jsonbText(doc)));
    expect(d.identical).toBe(true);
    expect(d.unchanged).toBe(5);
    expect(
      summarizeDiff(diffSteps(analysis(fixture('valid.json')), analysis(fixture('valid.postgres.json')))),
    ).toBe('no change');
  });

  it('lists steps a restore would add', () => {
    const d = diffSteps(analysis(makeConversation(ID, 3)), analysis(makeConversation(ID, 5)));
    expect(numbers(d.added)).toEqual([4, 5]);
    expect(d.unchanged).toBe(3);
    expect(summarizeDiff(d)).toBe('+2 steps (4–5), −0, 0 changed');
  });

  it('lists steps a restore would remove', () => {
    const d = diffSteps(analysis(makeConversation(ID, 5)), analysis(makeConversation(ID, 3)));
    expect(numbers(d.removed)).toEqual([4, 5]);
    expect(summarizeDiff(d)).toBe('+0, −2 steps (4–5), 0 changed');
  });

  it('lists steps whose content differs, with both versions', () => {
    const current = makeConversation(ID, 4);
    const d = diffSteps(analysis(current), analysis(withAnswer(current, 2, 'a different answer')));
    expect(d.changed.map((c) => c.step)).toEqual([2]);
    expect(d.changed[0]?.from.hash).not.toBe(d.changed[0]?.to.hash);
    expect(d.unchanged).toBe(3);
    expect(summarizeDiff(d)).toBe('+0, −0, 1 changed (step 2)');
  });

  it('combines additions and changes', () => {
    const current = makeConversation(ID, 5);
    const proposed = withAnswer(makeConversation(ID, 8), 4, 'rewritten');
    const d = diffSteps(analysis(current), analysis(proposed));
    expect(summarizeDiff(d)).toBe('+3 steps (6–8), −0, 1 changed (step 4)');
  });

  it('notices when only fields outside the steps differ', () => {
    const d = diffSteps(
      analysis(makeConversation(ID, 5)),
      analysis(makeConversation(ID, 5, { status: 'paused' })),
    );
    expect(d).toMatchObject({ added: [], removed: [], changed: [], unchanged: 5, identical: false });
    expect(summarizeDiff(d)).toBe('steps unchanged (5 steps); other fields differ');
  });

  it('treats an unparseable current copy as having no steps', () => {
    const d = diffSteps(analysis(fixture('corrupt-truncated.json')), analysis(makeConversation(ID, 4)));
    expect(numbers(d.added)).toEqual([1, 2, 3, 4]);
    expect(d.identical).toBe(false);
  });

  it('treats an unparseable proposed copy as having no steps', () => {
    const d = diffSteps(analysis(makeConversation(ID, 2)), analysis(fixture('corrupt-truncated.json')));
    expect(numbers(d.removed)).toEqual([1, 2]);
    expect(summarizeDiff(d)).toBe('+0, −2 steps (1–2), 0 changed');
  });

  it('calls two identical unparseable copies identical', () => {
    const broken = fixture('corrupt-truncated.json');
    expect(diffSteps(analysis(broken), analysis(Buffer.from(broken))).identical).toBe(true);
  });

  it('does not hide a repeated step', () => {
    const repeated = analysis(fixture('step-repeat.json'));
    const doc = JSON.parse(fixture('step-repeat.json').toString()) as {
      steps: unknown[];
      checkpoint: number;
    };
    doc.steps.splice(3, 1);
    doc.checkpoint = 4;
    const clean = analysis(JSON.stringify(doc));
    expect(clean.valid).toBe(true);
    const d = diffSteps(repeated, clean);
    expect(numbers(d.removed)).toEqual([3]);
    expect(d.unchanged).toBe(4);
    expect(summarizeDiff(d)).toBe('+0, −1 step (3), 0 changed');
  });
});

describe('diffSteps with no copy on one side', () => {
  it('an undo that deletes the key removes every step', () => {
    const current = analyzeConversation(Buffer.from(makeConversation('c-1', 3)), 'c-1');
    const d = diffSteps(current, null);
    expect(d.removed.map((s) => s.step)).toEqual([1, 2, 3]);
    expect(d.added).toEqual([]);
    expect(d.identical).toBe(false);
  });

  it('nothing against nothing is identical', () => {
    expect(diffSteps(null, null)).toMatchObject({ added: [], removed: [], identical: true });
  });
});

describe('summarizeDiff', () => {
  const step = (n: number, hash = `h${n}`): StepSummary => ({ step: n, role: 'user', ts: null, hash });
  const diff = (over: Partial<StepDiff>): StepDiff => ({
    added: [],
    removed: [],
    changed: [],
    unchanged: 0,
    identical: false,
    ...over,
  });

  it('compresses step numbers into ranges', () => {
    expect(summarizeDiff(diff({ added: [6, 7, 8, 10].map((n) => step(n)) }))).toBe(
      '+4 steps (6–8, 10), −0, 0 changed',
    );
    expect(summarizeDiff(diff({ added: [step(6)] }))).toBe('+1 step (6), −0, 0 changed');
  });

  it('names several changed steps', () => {
    const changed = [2, 3, 7].map((n) => ({ step: n, from: step(n), to: step(n, 'x') }));
    expect(summarizeDiff(diff({ changed }))).toBe('+0, −0, 3 changed (steps 2–3, 7)');
  });
});
