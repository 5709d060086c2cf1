/**
 * Small formatters shared by the views. Times are UTC on purpose: an incident channel spans
 * time zones and the audit log, the CLI and Zeus's own logs all speak UTC.
 */

import { formatDuration } from '../text-format.js';

export { formatDuration, formatTtl, plural, shortChecksum } from '../text-format.js';

function toDate(at: Date | string | null | undefined): Date | null {
  if (at === null || at === undefined) return null;
  const d = at instanceof Date ? at : new Date(at);
  return Number.isNaN(d.getTime()) ? null : d;
}

/**
 * `03:41 UTC`, or `2025-12-13 03:41 UTC` when not on the same UTC day as `now` (or when no
 * `now` is given, because then "today" is unknown).
 */
export function formatTime(
  at: Date | string | null | undefined,
  now?: Date,
  opts: { seconds?: boolean } = {},
): string {
  const d = toDate(at);
  if (!d) return 'an unknown time';
  const iso = d.toISOString();
  const time = iso.slice(11, opts.seconds ? 19 : 16);
  const sameDay =
    now !== undefined && !Number.isNaN(now.getTime()) && now.toISOString().slice(0, 10) === iso.slice(0, 10);
  return sameDay ? `${time} UTC` : `${iso.slice(0, 10)} ${time} UTC`;
}

/** `in 30 min`, `12 min ago`, `just now`. */
export function formatRelative(at: Date | string | null | undefined, now: Date): string {
  const d = toDate(at);
  if (!d) return 'at an unknown time';
  const ms = d.getTime() - now.getTime();
  if (Math.abs(ms) < 30_000) return 'just now';
  return ms > 0 ? `in ${formatDuration(ms)}` : `${formatDuration(ms)} ago`;
}

/** Minutes between two instants, for "nobody approved within 30 min". */
export function minutesBetween(from: Date | string, to: Date | string): number | null {
  const a = toDate(from);
  const b = toDate(to);
  return a && b ? Math.round((b.getTime() - a.getTime()) / 60_000) : null;
}

export function isPast(at: Date | string, now: Date): boolean {
  const d = toDate(at);
  return d !== null && d.getTime() <= now.getTime();
}

export function formatBytes(n: number | null): string {
  if (n === null || !Number.isFinite(n)) return '? B';
  if (n < 1024) return `${n} B`;
  const units = ['KB', 'MB', 'GB', 'TB'];
  let v = n;
  let unit = 'B';
  for (const u of units) {
    if (v < 1024) break;
    v /= 1024;
    unit = u;
  }
  return `${v < 10 ? v.toFixed(1) : Math.round(v)} ${unit}`;
}

/**
 * The first `max` items as lines, then "…and N more <noun>" so a cut list says it was cut. Only
 * the shown items are rendered: a list of 100,000 steps costs the same as one of 15.
 */
export function firstLines<T>(
  items: readonly T[],
  max: number,
  render: (item: T) => string,
  one: string,
  many = `${one}s`,
): string[] {
  const lines = items.slice(0, max).map(render);
  const rest = items.length - lines.length;
  if (rest > 0) lines.push(`…and ${rest.toLocaleString('en-US')} more ${rest === 1 ? one : many}`);
  return lines;
}
