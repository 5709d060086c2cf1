import { SLASH_COMMAND } from '../slack-ids.js';
import type { CommandError } from './parsed-command.js';

/**
 * How an error talks back: user input echoed safely (one line, no backticks, clipped), the
 * user's own command with a fix applied, and the closest verb, flag or tier a typo meant.
 */

/** Longest run of user input echoed back in a message or suggestion. */
const MAX_ECHO = 80;

/** One line, safe inside a backtick code span: control characters and newlines become spaces. */
export function oneLine(input: string): string {
  return input
    .replace(/[\s\p{Cc}]+/gu, ' ')
    .replace(/`/g, "'")
    .trim();
}

/** User input as it may appear inside a message: one line, no backticks, at most MAX_ECHO. */
export function shown(input: string): string {
  const flat = oneLine(input);
  if (flat === '') return '(blank)';
  return flat.length > MAX_ECHO ? `${flat.slice(0, MAX_ECHO - 1)}…` : flat;
}

export interface Edit {
  start: number;
  end: number;
  replacement: string;
}

/** The user's text with edits applied, as a one-line command; user input is clipped. */
export function suggest(text: string, edits: readonly Edit[] = []): string {
  let out = text;
  for (const edit of [...edits].sort((a, b) => b.start - a.start)) {
    out = `${out.slice(0, edit.start)}${edit.replacement}${out.slice(edit.end)}`;
  }
  const args = oneLine(out);
  const clipped = args.length > MAX_ECHO + 40 ? `${args.slice(0, MAX_ECHO + 39)}…` : args;
  return `${SLASH_COMMAND} ${clipped}`;
}

export function fail(message: string, suggestion: string | null, usage: string): CommandError {
  return { kind: 'error', message, suggestion, usage };
}

/** Optimal string alignment distance: a swapped pair (`inspcet`) counts as one edit. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[] = new Array<number>(rows * cols).fill(0);
  const at = (i: number, j: number): number => d[i * cols + j] ?? 0;
  for (let i = 0; i < rows; i++) d[i * cols] = i;
  for (let j = 0; j < cols; j++) d[j] = j;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a.charAt(i - 1) === b.charAt(j - 1) ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a.charAt(i - 1) === b.charAt(j - 2) && a.charAt(i - 2) === b.charAt(j - 1)) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      d[i * cols + j] = best;
    }
  }
  return at(rows - 1, cols - 1);
}

/** The candidate a typo most likely meant: close by edits, or the only one it is a prefix of. */
export function closest<T extends string>(word: string, candidates: readonly T[]): T | null {
  const lower = word.toLowerCase();
  if (lower.length === 0 || lower.length > 40) return null;
  const limit = lower.length <= 4 ? 1 : 2;
  let best: T | null = null;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(lower, candidate);
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best !== null && bestDistance <= limit) return best;
  if (lower.length >= 3) {
    const prefixed = candidates.filter((candidate) => candidate.startsWith(lower));
    if (prefixed.length === 1 && prefixed[0] !== undefined) return prefixed[0];
  }
  return null;
}
