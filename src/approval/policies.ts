/**
 * The approval policies of docs/approval-policies.md as pure rules: each returns data (which
 * rule, and what it leaves to do), never wording; src/views/policy-refusals.ts words them. The
 * store is the authority on state (it re-checks under a row lock or a unique index); these are
 * the authority on people and numbers.
 */

/** A break-glass reason must say something: at least this many characters. */
export const BREAK_GLASS_MIN_REASON = 20;

// ---- Approvers from distinct groups (APPROVER_GROUPS) ----

/** Members of each configured group; null for a group Slack has not answered for (fail closed). */
export type GroupMembership = ReadonlyMap<string, ReadonlySet<string> | null>;

export type GroupCheck =
  /** Counts for `groupId`; `missing` are the groups still without an approval after this one. */
  | { ok: true; groupId: string; missing: string[] }
  /** In none of the groups (or in one Slack did not answer for: `unavailable`). */
  | { ok: false; reason: 'not_in_group'; groups: string[]; unavailable: string[] }
  /** Every group this person is in already has its approval; `missing` still needs one. */
  | { ok: false; reason: 'group_taken'; taken: string[]; missing: string[] };

/** The configured groups no approval has counted for yet, in configured order. */
export function missingGroups(groups: readonly string[], taken: readonly (string | null)[]): string[] {
  return groups.filter((g) => !taken.includes(g));
}

/**
 * Which group an approval by `userId` counts for: the first configured group they are in that no
 * earlier approval took. Greedy on purpose: an earlier approver in two groups keeps the group they
 * were counted for, so what the thread said ("counted for S1") never changes afterwards.
 */
export function assignGroup(
  groups: readonly string[],
  membership: GroupMembership,
  taken: readonly (string | null)[],
  userId: string,
): GroupCheck {
  const mine = groups.filter((g) => membership.get(g)?.has(userId) === true);
  const missing = missingGroups(groups, taken);
  if (mine.length === 0) {
    const unavailable = groups.filter((g) => (membership.get(g) ?? null) === null);
    return { ok: false, reason: 'not_in_group', groups: [...groups], unavailable };
  }
  const free = mine.find((g) => missing.includes(g));
  if (free === undefined) return { ok: false, reason: 'group_taken', taken: mine, missing };
  return { ok: true, groupId: free, missing: missing.filter((g) => g !== free) };
}

// ---- Step-up confirmation (STEP_UP_OPERATIONS) ----

export type StepUpCheck = { ok: true } | { ok: false; reason: 'empty' | 'mismatch'; expected: string };

/**
 * The approver typed what is being changed: the conversation id, exactly (ids are
 * case-sensitive), or for a bulk restore the number of conversations (digits; "1,204" and
 * "1 204" read as 1204). Surrounding spaces never matter.
 */
export function checkStepUp(expected: string | number, typed: string): StepUpCheck {
  const want = String(expected);
  const got = typed.trim();
  if (got.length === 0) return { ok: false, reason: 'empty', expected: want };
  if (typeof expected === 'number') {
    const digits = got.replace(/[\s,._']/g, '');
    return /^\d+$/.test(digits) && Number(digits) === expected
      ? { ok: true }
      : { ok: false, reason: 'mismatch', expected: want };
  }
  return got === want ? { ok: true } : { ok: false, reason: 'mismatch', expected: want };
}

// ---- Blast radius (MAX_DESTRUCTIVE_PER_HOUR, BREAKER_FAILURES) ----

export type HourlyCheck = { ok: true } | { ok: false; reason: 'hourly_limit'; used: number; max: number };

/** Whether one more destructive request fits in the rolling hour. */
export function checkHourly(max: number | null, used: number): HourlyCheck {
  if (max === null || used < max) return { ok: true };
  return { ok: false, reason: 'hourly_limit', used, max };
}

/** When a full window frees a slot (the store computes it the same way while it counts). */
export { windowFreesAt } from '../store/blast-radius.js';

export type BreakerCheck =
  | { ok: true }
  | { ok: false; reason: 'breaker_open'; failuresInARow: number; threshold: number };

/** The breaker is open once `threshold` restores failed in a row (since a success or a reset). */
export function checkBreaker(threshold: number | null, failuresInARow: number): BreakerCheck {
  if (threshold === null || failuresInARow < threshold) return { ok: true };
  return { ok: false, reason: 'breaker_open', failuresInARow, threshold };
}

// ---- Break-glass self-approval (BREAK_GLASS) ----

export type BreakGlassCheck =
  | { ok: true; reason: string }
  | { ok: false; reason: 'off' }
  | { ok: false; reason: 'not_requester' }
  | { ok: false; reason: 'short_reason'; length: number; min: number };

/** Only the requester, only when BREAK_GLASS=on, only with a reason of BREAK_GLASS_MIN_REASON+ characters. */
export function checkBreakGlass(input: {
  enabled: boolean;
  requester: string;
  userId: string;
  reason: string;
}): BreakGlassCheck {
  if (!input.enabled) return { ok: false, reason: 'off' };
  if (input.userId !== input.requester) return { ok: false, reason: 'not_requester' };
  const reason = input.reason.replace(/\s+/g, ' ').trim();
  // Code points, not UTF-16 units: an emoji is one character to the person typing.
  const length = [...reason].length;
  if (length < BREAK_GLASS_MIN_REASON) {
    return { ok: false, reason: 'short_reason', length, min: BREAK_GLASS_MIN_REASON };
  }
  return { ok: true, reason };
}

export type ReviewCheck = { ok: true } | { ok: false; reason: 'not_flagged' | 'own_request' };

/** "Mark reviewed": someone other than the person who broke the glass, while it is flagged. */
export function checkReview(
  request: { requester: string; needsReview?: boolean | undefined },
  userId: string,
): ReviewCheck {
  if (request.needsReview !== true) return { ok: false, reason: 'not_flagged' };
  if (userId === request.requester) return { ok: false, reason: 'own_request' };
  return { ok: true };
}

/** A breaker reset needs someone other than who asked for it. */
export function checkResetApprover(requester: string, userId: string): { ok: true } | { ok: false } {
  return userId === requester ? { ok: false } : { ok: true };
}
