/**
 * Plain-text formatters every face shares: the views (Slack), the CLI and the core's own
 * messages. A leaf with no imports and no markup, so any layer may use it; where a face wants a
 * shorter spelling it asks for it with an option, and the rule behind the words stays one.
 */

/**
 * `45 s`, `30 min`, `2 h 5 min`, `3 d 4 h`: two units at most, enough to act on. `compact`
 * spells the same units for a terminal column: `45s`, `30m`, `2h5m`, `3d4h`.
 */
export function formatDuration(ms: number, opts: { compact?: boolean } = {}): string {
  const [sec, min, hr, day, gap] = opts.compact ? ['s', 'm', 'h', 'd', ''] : [' s', ' min', ' h', ' d', ' '];
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s}${sec}`;
  const m = Math.round(s / 60);
  if (m < 60) return `${m}${min}`;
  const h = Math.floor(m / 60);
  if (h < 48) return m % 60 === 0 ? `${h}${hr}` : `${h}${hr}${gap}${m % 60}${min}`;
  const d = Math.floor(h / 24);
  return h % 24 === 0 ? `${d}${day}` : `${d}${day}${gap}${h % 24}${hr}`;
}

/**
 * `TTL 6 h` / `no TTL` in running text; `bare` gives `6 h` / `none` for a labelled field, and
 * `compact` (always bare) `6h` / `none` for a table column.
 */
export function formatTtl(ms: number | null, opts: { bare?: boolean; compact?: boolean } = {}): string {
  if (opts.bare || opts.compact) return ms === null ? 'none' : formatDuration(ms, opts);
  return ms === null ? 'no TTL' : `TTL ${formatDuration(ms)}`;
}

/**
 * `sha256:1a2b…` → `1a2b3c4d5e6f`: enough to compare by eye, short enough for a phone.
 * `algorithm` keeps the prefix and marks the cut (`sha256:1a2b3c4d5e6f…`), for output that sits
 * beside full checksums.
 */
export function shortChecksum(
  checksum: string | null | undefined,
  opts: { algorithm?: boolean } = {},
): string {
  if (!checksum) return 'none';
  const colon = checksum.indexOf(':');
  const hex = colon >= 0 ? checksum.slice(colon + 1) : checksum;
  if (!opts.algorithm) return hex.slice(0, 12);
  const short = hex.length > 12 ? `${hex.slice(0, 12)}…` : hex;
  return colon >= 0 ? `${checksum.slice(0, colon)}:${short}` : short;
}

/**
 * `1 step`, `2 steps`, `1,024 steps`; `count: false` gives the word alone, for a sentence that
 * already says the number its own way.
 */
export function plural(n: number, one: string, many = `${one}s`, opts: { count?: boolean } = {}): string {
  const word = n === 1 ? one : many;
  return opts.count === false ? word : `${n.toLocaleString('en-US')} ${word}`;
}
