import { createHash } from 'node:crypto';
import { ErrorCode, RecoveryError } from '../../errors.js';
import type { SelectionFilter } from '../../store/bulk-jobs.js';
import { CONVERSATION_STATUSES, isTimestamp } from '../conversation.js';

/** What the person asked for, as typed: parsed and checked by `parseSelection`. */
export interface SelectionInput {
  since?: string | undefined;
  until?: string | undefined;
  status?: string | undefined;
  match?: string | undefined;
}

export interface Selection {
  since: Date;
  until: Date | null;
  status: string | null;
  /** The glob as given (letters, digits, `_`, `-`, `*`, `?`). */
  match: string | null;
}

const DURATION = /^(\d{1,6})(s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
/** Ids are letters, digits, `_` and `-`; a glob adds `*` and `?`, and nothing else. */
const GLOB = /^[A-Za-z0-9_*?-]{1,128}$/;

function shown(text: string): string {
  return JSON.stringify(text.length > 40 ? `${text.slice(0, 40)}…` : text);
}

function parseInstant(flag: string, raw: string, now: Date): Date {
  const text = raw.trim();
  const duration = DURATION.exec(text);
  if (duration) {
    const [, n, unit] = duration;
    return new Date(now.getTime() - Number(n) * (UNIT_MS[unit ?? 's'] ?? 1000));
  }
  if (isTimestamp(text)) return new Date(text);
  throw new RecoveryError(
    ErrorCode.InvalidInput,
    `${flag} ${shown(raw)} is neither a duration nor a timestamp.`,
    `Give a duration back from now (30m, 1h, 2d) or an ISO-8601 timestamp like 2025-12-13T10:00:00Z.`,
  );
}

/** Checks and parses the flags; nothing reaches SQL but bound parameters built from the result. */
export function parseSelection(input: SelectionInput, now: Date): Selection {
  if (!input.since) {
    throw new RecoveryError(
      ErrorCode.InvalidInput,
      'A bulk restore needs --since: the selection is a window on updated_at.',
      'Add --since 1h (or a timestamp), and --until to close the window.',
    );
  }
  const since = parseInstant('--since', input.since, now);
  const until = input.until ? parseInstant('--until', input.until, now) : null;
  if (until && until.getTime() < since.getTime()) {
    throw new RecoveryError(
      ErrorCode.InvalidInput,
      `--until ${until.toISOString()} is before --since ${since.toISOString()}.`,
      'Swap them, or widen the window.',
    );
  }
  let status: string | null = null;
  if (input.status !== undefined) {
    if (!CONVERSATION_STATUSES.includes(input.status)) {
      throw new RecoveryError(
        ErrorCode.InvalidInput,
        `--status ${shown(input.status)} is not a conversation status.`,
        `Use one of ${CONVERSATION_STATUSES.join(', ')}.`,
      );
    }
    status = input.status;
  }
  let match: string | null = null;
  if (input.match !== undefined) {
    if (!GLOB.test(input.match)) {
      throw new RecoveryError(
        ErrorCode.InvalidInput,
        `--match ${shown(input.match)} is not an id pattern.`,
        'A pattern is 1–128 of letters, digits, `_`, `-`, with `*` for any run and `?` for one character (e.g. c-7f*).',
      );
    }
    match = input.match;
  }
  return { since, until, status, match };
}

/** The glob as a LIKE pattern with `\` as escape: `_` is literal in an id, a wildcard in LIKE. */
export function globToLike(glob: string): string {
  return glob
    .replace(/[\\%_]/g, '\\$&')
    .replace(/\*/g, '%')
    .replace(/\?/g, '_');
}

export function selectionFilter(sel: Selection): SelectionFilter {
  return {
    since: sel.since,
    until: sel.until,
    status: sel.status,
    like: sel.match === null ? null : globToLike(sel.match),
  };
}

export function selectionJson(sel: Selection): Record<string, unknown> {
  return {
    since: sel.since.toISOString(),
    until: sel.until?.toISOString() ?? null,
    status: sel.status,
    match: sel.match,
  };
}

/**
 * What makes two jobs "the same selection": the filters, with `--since` as resolved. Two
 * `--since 1h` a minute apart differ by that minute, so the key uses the window rounded to the
 * minute: a double-submitted command is refused, a later, genuinely new window is not. Whether
 * it overwrites is left out: two jobs on the same ids would race each other either way.
 */
export function selectionKey(sel: Selection): string {
  const minute = (d: Date | null) => (d === null ? null : Math.floor(d.getTime() / 60_000));
  const text = JSON.stringify([minute(sel.since), minute(sel.until), sel.status, sel.match]);
  return createHash('sha256').update(text).digest('hex').slice(0, 32);
}
