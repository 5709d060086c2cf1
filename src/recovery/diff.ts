import { formatStepRanges } from './conversation.js';
import type { ConversationAnalysis, StepDiff, StepSummary } from './types.js';

function byStep(steps: readonly StepSummary[] | null | undefined): Map<number, StepSummary[]> {
  const map = new Map<number, StepSummary[]>();
  for (const s of steps ?? []) {
    const list = map.get(s.step);
    if (list) list.push(s);
    else map.set(s.step, [s]);
  }
  return map;
}

/**
 * What writing `proposed` over Redis's `current` copy would do to the steps (`current` null:
 * the key is missing, so every step is added). Steps are matched by number; a number that
 * appears twice on one side (a corrupted copy) is matched occurrence by occurrence, so a repeat
 * shows up as an added or removed step instead of being hidden. A side whose steps could not be
 * read counts as having none.
 */
/** `null` on either side means no copy at all (a missing key, or an undo that deletes it). */
export function diffSteps(
  current: ConversationAnalysis | null,
  proposed: ConversationAnalysis | null,
): StepDiff {
  const before = byStep(current?.steps);
  const after = byStep(proposed?.steps);
  const numbers = [...new Set([...before.keys(), ...after.keys()])].sort((a, b) => a - b);
  const diff: StepDiff = { added: [], removed: [], changed: [], unchanged: 0, identical: false };
  for (const n of numbers) {
    const from = before.get(n) ?? [];
    const to = after.get(n) ?? [];
    for (let i = 0; i < Math.max(from.length, to.length); i++) {
      const a = from[i];
      const b = to[i];
      if (a && b) {
        if (a.hash === b.hash) diff.unchanged++;
        else diff.changed.push({ step: n, from: a, to: b });
      } else if (b) {
        diff.added.push(b);
      } else if (a) {
        diff.removed.push(a);
      }
    }
  }
  // Same content is judged on the whole document (status, checkpoint and unknown fields
  // included); equal bytes settle it even when neither side parses.
  diff.identical =
    current === null || proposed === null
      ? current === proposed
      : (current.contentHash !== null && current.contentHash === proposed.contentHash) ||
        current.checksum === proposed.checksum;
  return diff;
}

function ranges(steps: readonly number[]): string {
  return formatStepRanges([...new Set(steps)].sort((a, b) => a - b));
}

function count(n: number): string {
  return `${n} ${n === 1 ? 'step' : 'steps'}`;
}

/** One line for a report: `+3 steps (6–8), −0, 1 changed (step 4)`, or `no change`. */
export function summarizeDiff(d: StepDiff): string {
  if (d.identical) return 'no change';
  if (d.added.length === 0 && d.removed.length === 0 && d.changed.length === 0) {
    // Same steps, different document: status, checkpoint, updated_at or an unknown field.
    return `steps unchanged (${count(d.unchanged)}); other fields differ`;
  }
  const added =
    d.added.length === 0 ? '+0' : `+${count(d.added.length)} (${ranges(d.added.map((s) => s.step))})`;
  const removed =
    d.removed.length === 0 ? '−0' : `−${count(d.removed.length)} (${ranges(d.removed.map((s) => s.step))})`;
  const changedSteps = d.changed.map((c) => c.step);
  const changed =
    d.changed.length === 0
      ? '0 changed'
      : `${d.changed.length} changed (${new Set(changedSteps).size === 1 ? 'step' : 'steps'} ${ranges(changedSteps)})`;
  return `${added}, ${removed}, ${changed}`;
}
