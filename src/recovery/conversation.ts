import { isUtf8 } from 'node:buffer';
import { createHash } from 'node:crypto';
import { parse } from 'lossless-json';
import { errorMessage } from '../errors.js';
import { plural } from '../text-format.js';
import type { ConversationAnalysis, Finding, StepSummary } from './types.js';

/**
 * The conversation model: everything here is derived from the stored bytes alone, without I/O.
 *
 * The bytes are parsed only to be checked and fingerprinted. Nothing in this module produces
 * bytes to be written anywhere: a restore writes the source tier's bytes exactly as stored, so
 * fields this code does not know about (and number literals JavaScript cannot represent) survive.
 */

export const CONVERSATION_STATUSES: readonly string[] = ['active', 'paused', 'completed', 'failed'];
export const STEP_ROLES: readonly string[] = ['user', 'assistant', 'tool', 'system'];

/**
 * Deeper documents are refused rather than parsed: the parser and the canonical form recurse,
 * and a hostile `[[[[…` must yield a finding, not a stack overflow that takes down the report
 * for the other tiers. Real conversations are a handful of levels deep.
 */
export const MAX_NESTING_DEPTH = 1000;

/** Above this a warning says restores/exports will be slow; it is not an integrity problem. */
export const LARGE_DOCUMENT_BYTES = 10 * 1024 * 1024;

/** A broken copy can have thousands of gaps; the report stays readable (and Slack-sized). */
const MAX_FINDINGS_PER_CODE = 20;

const TIMESTAMP_EXAMPLE = '2025-12-13T10:00:00.000Z';

/** `sha256:<hex>` of the exact bytes: what compare-and-set and backups are keyed on. */
export function sha256Checksum(bytes: Buffer): string {
  return `sha256:${createHash('sha256').update(bytes).digest('hex')}`;
}

// ---------------------------------------------------------------------------------------------
// Parsing and the canonical form
// ---------------------------------------------------------------------------------------------

/**
 * A JSON number kept as its literal text. Our own class (rather than lossless-json's
 * LosslessNumber) so `instanceof` cannot be fooled by a document object that happens to have
 * `value`/`isLosslessNumber` fields.
 */
class NumberLiteral {
  constructor(readonly literal: string) {}
}

/**
 * A parsed value. Numbers are `NumberLiteral`s, except after the quick parse (`quickParse`),
 * which only runs on documents whose every number is a plain integer of at most 15 digits
 * (never `-0`): there a JS number is that literal exactly.
 */
type JsonValue = null | boolean | string | number | NumberLiteral | JsonValue[] | JsonObject;
interface JsonObject {
  [key: string]: JsonValue;
}

interface DuplicateKey {
  key: string;
  position: number;
}

function isJsonObject(value: JsonValue | undefined): value is JsonObject {
  return (
    typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof NumberLiteral)
  );
}

/** A number's literal text: as written, or (after `quickParse`) the plain integer it is. */
function numberText(value: JsonValue | undefined): string | null {
  if (typeof value === 'number') return String(value);
  return value instanceof NumberLiteral ? value.literal : null;
}

/** Own properties only: a document key must never be confused with `Object.prototype` members. */
function field(object: JsonObject, key: string): JsonValue | undefined {
  return Object.hasOwn(object, key) ? object[key] : undefined;
}

function parseLossless(text: string, duplicates: DuplicateKey[]): JsonValue {
  // The cast is sound: with this parseNumber every value lossless-json builds is a JsonValue.
  return parse(text, null, {
    parseNumber: (literal) => new NumberLiteral(literal),
    // Last one wins, as in Postgres jsonb and JSON.parse. (lossless-json only calls this when
    // the values differ; a repeated identical pair changes nothing and goes unreported.)
    onDuplicateKey: ({ key, position, newValue }) => {
      duplicates.push({ key, position: Math.max(0, position - 1) });
      return newValue;
    },
  }) as JsonValue;
}

/** True when brackets nest deeper than `limit` (outside strings); cheap, and safe on any input. */
function nestsDeeperThan(text: string, limit: number): boolean {
  return scanText(text, limit).tooDeep;
}

const isDigit = (c: number) => c >= 0x30 && c <= 0x39;

/**
 * One pass over the text, outside strings: whether brackets nest deeper than `limit`, and
 * whether every number is a plain integer a double holds exactly (an optional minus, at most 15
 * digits, no leading zero, no fraction or exponent, not `-0`). Exact on valid JSON, which is
 * the only text whose `plainNumbers` is used (see `quickParse`); safe on any input.
 */
function scanText(text: string, limit: number): { tooDeep: boolean; plainNumbers: boolean } {
  let depth = 0;
  let inString = false;
  let plainNumbers = true;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) {
      inString = true;
    } else if (c === 0x7b || c === 0x5b) {
      depth++;
      if (depth > limit) return { tooDeep: true, plainNumbers: false };
    } else if (c === 0x7d || c === 0x5d) {
      depth--;
    } else if (plainNumbers && (c === 0x2d || isDigit(c))) {
      const start = c === 0x2d ? i + 1 : i;
      let end = start;
      while (end < text.length && isDigit(text.charCodeAt(end))) end++;
      const digits = end - start;
      const next = text.charCodeAt(end);
      const leadingZero = digits > 1 && text.charCodeAt(start) === 0x30;
      const minusZero = c === 0x2d && digits === 1 && text.charCodeAt(start) === 0x30;
      if (
        digits === 0 ||
        digits > 15 ||
        leadingZero ||
        minusZero ||
        next === 0x2e ||
        (next | 0x20) === 0x65
      ) {
        plainNumbers = false;
      }
      i = end - 1;
    }
  }
  return { tooDeep: false, plainNumbers };
}

/**
 * `JSON.parse`, about three times faster than the lossless parser, for the documents where it
 * gives the same values: valid JSON (else undefined, and the lossless parser says what is wrong)
 * whose numbers are all plain integers a double holds exactly (`scanText`). Duplicate keys are
 * resolved alike (the last one counts) but not reported.
 */
function quickParse(text: string): JsonValue | undefined {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return undefined;
  }
}

const NUMBER_LITERAL = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/;

/**
 * The canonical text of a JSON number literal, chosen so that every literal with the same
 * mathematical value gets the same text and different values never do.
 *
 * Postgres `jsonb` stores numbers as `numeric` and prints them in its own way (`1e2` → `100`,
 * `1.50e1` → `15.0`, `12345678901234567891` kept exactly), so the literal as written cannot be
 * compared directly. The choice: take the literal's exact decimal value (significant digits and
 * exponent, computed on the text, so no precision is lost) and lay it out the way JavaScript's
 * `Number.prototype.toString` lays out a double (plain notation for 1e-7 ≤ |x| < 1e21,
 * exponent notation otherwise). For every literal that round-trips through a double this is
 * exactly `String(Number(literal))` — the shortest JS form, the same text `JSON.stringify`
 * would give — and for the rest (integers beyond 2^53, more than 17 significant digits,
 * overflow, underflow) it is the exact value, where `JSON.parse` would have silently rounded.
 * `-0` becomes `0`, as in `numeric`.
 */
export function canonicalNumber(literal: string): string {
  const match = NUMBER_LITERAL.exec(literal);
  if (!match) throw new SyntaxError(`Not a JSON number literal: ${literal.slice(0, 40)}`);
  const sign = match[1] ?? '';
  const fraction = match[3] ?? '';
  let digits = (match[2] ?? '') + fraction;
  let shift = 0; // value = digits × 10^(exponent − fraction.length + shift)
  const firstNonZero = digits.search(/[1-9]/);
  if (firstNonZero === -1) return '0';
  digits = digits.slice(firstNonZero);
  const trimmed = digits.replace(/0+$/, '');
  shift += digits.length - trimmed.length;
  digits = trimmed;
  const k = digits.length;
  // n as in ECMA-262 Number::toString: value = 0.d1d2…dk × 10^n. BigInt because a hostile
  // exponent can have any number of digits.
  const n = BigInt(match[4] ?? '0') - BigInt(fraction.length) + BigInt(shift) + BigInt(k);
  let body: string;
  if (n >= BigInt(k) && n <= 21n) {
    body = digits + '0'.repeat(Number(n) - k);
  } else if (n > 0n && n <= 21n) {
    body = `${digits.slice(0, Number(n))}.${digits.slice(Number(n))}`;
  } else if (n > -6n && n <= 0n) {
    body = `0.${'0'.repeat(-Number(n))}${digits}`;
  } else {
    const e = n - 1n;
    const mantissa = k === 1 ? digits : `${digits.slice(0, 1)}.${digits.slice(1)}`;
    body = `${mantissa}e${e < 0n ? '-' : '+'}${e < 0n ? -e : e}`;
  }
  return sign + body;
}

/**
 * Keys sorted by UTF-16 code unit (the order `Array.prototype.sort` gives), no whitespace,
 * strings escaped as `JSON.stringify` escapes them (so `\/`, `\u00e9` and `é` are the same
 * string, as they are after Postgres re-escapes them), numbers as in `canonicalNumber`.
 */
function canonical(value: JsonValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return value ? 'true' : 'false';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') return canonicalNumber(String(value));
  if (value instanceof NumberLiteral) return canonicalNumber(value.literal);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  return canonicalObject(value, (v) => canonical(v));
}

function canonicalObject(object: JsonObject, member: (value: JsonValue, key: string) => string): string {
  const parts: string[] = [];
  for (const key of Object.keys(object).sort()) {
    const value = field(object, key);
    if (value !== undefined) parts.push(`${JSON.stringify(key)}:${member(value, key)}`);
  }
  return `{${parts.join(',')}}`;
}

function hashText(text: string): string {
  return `sha256:${createHash('sha256').update(text, 'utf8').digest('hex')}`;
}

/**
 * The canonical form of a JSON document (see `canonical`). For comparison and tests only:
 * never write it anywhere — it is not the stored bytes. Throws SyntaxError on invalid JSON.
 */
export function canonicalJson(json: Buffer | string): string {
  // A lossy decode would give different bytes the same hash.
  if (typeof json !== 'string' && !isUtf8(json)) throw new SyntaxError('JSON bytes are not valid UTF-8');
  const text = typeof json === 'string' ? json : json.toString('utf8');
  if (nestsDeeperThan(text, MAX_NESTING_DEPTH)) {
    throw new SyntaxError(`JSON nests deeper than ${MAX_NESTING_DEPTH} levels`);
  }
  return canonical(parseLossless(text, []));
}

/**
 * `sha256:<hex>` of the canonical form: equal for copies that differ only in key order,
 * whitespace, string escaping or number spelling (a copy read back from Postgres), different
 * as soon as any value differs. Throws SyntaxError on invalid JSON.
 */
export function contentHash(json: Buffer | string): string {
  return hashText(canonicalJson(json));
}

// ---------------------------------------------------------------------------------------------
// Timestamps
// ---------------------------------------------------------------------------------------------

const TIMESTAMP =
  /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,12}))?(?:([Zz])|([+-])(\d{2}):?(\d{2}))$/;
const TIMESTAMP_WITHOUT_ZONE = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?$/;

interface Instant {
  /** Whole seconds since the epoch, UTC. */
  seconds: number;
  /** Fractional digits, exact (Python writes microseconds; Date would drop them). */
  fraction: string;
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return [4, 6, 9, 11].includes(month) ? 30 : 31;
}

/** Days since 1970-01-01 (proleptic Gregorian); `Date.UTC` would map years 0–99 to 1900–1999. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/**
 * ISO-8601 date-time with seconds and an explicit zone (the RFC 3339 profile: what
 * `toISOString()` and Python's `isoformat()` write). A zone is required because comparing
 * step times across writers is meaningless without one.
 */
function parseTimestamp(text: string): Instant | null {
  const m = TIMESTAMP.exec(text);
  if (!m) return null;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return null;
  if (hour > 23 || minute > 59 || second > 60) return null;
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const offsetHours = Number(m[10]);
    const offsetMins = Number(m[11]);
    if (offsetHours > 23 || offsetMins > 59) return null;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (offsetHours * 60 + offsetMins);
  }
  const utc =
    daysFromCivil(year, month, day) * 86400 + hour * 3600 + minute * 60 + second - offsetMinutes * 60;
  return { seconds: utc, fraction: (m[7] ?? '').replace(/0+$/, '') };
}

function compareInstants(a: Instant, b: Instant): number {
  if (a.seconds !== b.seconds) return a.seconds < b.seconds ? -1 : 1;
  const width = Math.max(a.fraction.length, b.fraction.length);
  const fa = a.fraction.padEnd(width, '0');
  const fb = b.fraction.padEnd(width, '0');
  return fa === fb ? 0 : fa < fb ? -1 : 1;
}

export function isTimestamp(text: string): boolean {
  return parseTimestamp(text) !== null;
}

/** Compares two stored timestamps by instant (zones and sub-ms digits honoured); null if either is not one. */
export function compareTimestamps(a: string, b: string): number | null {
  const ia = parseTimestamp(a);
  const ib = parseTimestamp(b);
  return ia && ib ? compareInstants(ia, ib) : null;
}

// ---------------------------------------------------------------------------------------------
// Messages
// ---------------------------------------------------------------------------------------------

/** Short, printable: values come from a possibly hostile document and go to Slack. */
function show(value: JsonValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return quote(value);
  const number = numberText(value);
  if (number !== null) return clip(number, 40);
  return Array.isArray(value) ? 'an array' : 'an object';
}

function kind(value: JsonValue): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return 'a boolean';
  if (typeof value === 'string') return 'a string';
  if (numberText(value) !== null) return 'a number';
  return Array.isArray(value) ? 'an array' : 'an object';
}

/** A value, with its type when that is not the expected one: `"3" (a string)` where a number belongs. */
function showAgainst(value: JsonValue, expected: string): string {
  const actual = kind(value);
  if (actual === expected || Array.isArray(value) || isJsonObject(value)) return show(value);
  return `${show(value)} (${actual})`;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function quote(text: string): string {
  return JSON.stringify(clip(text, 60));
}

function sanitize(text: string): string {
  let out = '';
  for (const ch of text) {
    const c = ch.charCodeAt(0);
    const control = c < 0x20 || (c >= 0x7f && c <= 0x9f) || c === 0x2028 || c === 0x2029;
    out += control ? `\\u${c.toString(16).padStart(4, '0')}` : ch;
  }
  return out;
}

/** `line 3, column 14 (byte 57)`: what `sed -n 3p` / `head -c` users need to find it. */
function where(text: string, index: number): string {
  const before = text.slice(0, index);
  const line = before.split('\n').length;
  const column = index - (before.lastIndexOf('\n') + 1) + 1;
  return `line ${line}, column ${column} (byte ${Buffer.byteLength(before, 'utf8')})`;
}

function describeParseError(text: string, err: unknown): string {
  if (text.charCodeAt(0) === 0xfeff) {
    return 'not valid JSON: the value starts with a UTF-8 byte-order mark (EF BB BF), which JSON does not allow';
  }
  const raw = errorMessage(err);
  const position = /at position (\d+)/.exec(raw);
  const reason = sanitize(raw.replace(/\s*at position \d+/, '')).slice(0, 160);
  if (!position) return `not valid JSON: ${reason}`;
  return `not valid JSON at ${where(text, Number(position[1]))}: ${reason}`;
}

function firstInvalidUtf8(bytes: Buffer): number {
  let i = 0;
  const at = (j: number): number => bytes[j] ?? -1;
  const cont = (j: number): boolean => (at(j) & 0xc0) === 0x80 && at(j) !== -1;
  while (i < bytes.length) {
    const c = at(i);
    if (c < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let lo = 0x80;
    let hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) need = 1;
    else if (c >= 0xe0 && c <= 0xef) {
      need = 2;
      if (c === 0xe0) lo = 0xa0;
      if (c === 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      need = 3;
      if (c === 0xf0) lo = 0x90;
      if (c === 0xf4) hi = 0x8f;
    } else return i;
    const second = at(i + 1);
    if (second < lo || second > hi) return i;
    for (let j = 2; j <= need; j++) if (!cont(i + j)) return i;
    i += need + 1;
  }
  return -1;
}

/** `4`, `4–6`, `4, 7–9, 12, …` from sorted, distinct numbers. */
export function formatStepRanges(steps: readonly number[], maxRanges = 5): string {
  const ranges: Array<[number, number]> = [];
  for (const s of steps) {
    const last = ranges[ranges.length - 1];
    if (last && s === last[1] + 1) last[1] = s;
    else ranges.push([s, s]);
  }
  return formatRangePairs(ranges, maxRanges, ranges.length > maxRanges);
}

function formatRangePairs(ranges: ReadonlyArray<[number, number]>, maxRanges: number, more: boolean): string {
  const shown = ranges.slice(0, maxRanges).map(([a, b]) => (a === b ? `${a}` : `${a}–${b}`));
  if (more) shown.push('…');
  return shown.join(', ');
}

// ---------------------------------------------------------------------------------------------
// Findings
// ---------------------------------------------------------------------------------------------

class Findings {
  private readonly items: Finding[] = [];
  private readonly counts = new Map<string, { severity: Finding['severity']; count: number }>();

  error(code: string, message: string): void {
    this.add('error', code, message);
  }

  warning(code: string, message: string): void {
    this.add('warning', code, message);
  }

  private add(severity: Finding['severity'], code: string, message: string): void {
    const entry = this.counts.get(code) ?? { severity, count: 0 };
    entry.count++;
    this.counts.set(code, entry);
    if (entry.count <= MAX_FINDINGS_PER_CODE) this.items.push({ severity, code, message });
  }

  list(): Finding[] {
    const out = [...this.items];
    for (const [code, { severity, count }] of this.counts) {
      if (count > MAX_FINDINGS_PER_CODE) {
        out.push({
          severity,
          code,
          message: `…and ${count - MAX_FINDINGS_PER_CODE} more ${code} problems not listed`,
        });
      }
    }
    return out;
  }
}

// ---------------------------------------------------------------------------------------------
// The analysis
// ---------------------------------------------------------------------------------------------

/** A plain non-negative integer literal short of 2^53: its own canonical text (the common case). */
const PLAIN_INTEGER = /^(?:0|[1-9]\d{0,14})$/;

function wholeNumber(value: JsonValue | undefined): number | null {
  const literal = numberText(value);
  if (literal === null) return null;
  if (PLAIN_INTEGER.test(literal)) return Number(literal);
  const text = canonicalNumber(literal);
  if (!/^-?\d+$/.test(text)) return null;
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : null;
}

interface StepEntry {
  index: number;
  step: number | null;
  /** The step's `ts` when it is a valid timestamp, parsed once for both checks that need it. */
  ts?: { text: string; instant: Instant };
}

function label(entry: StepEntry): string {
  return entry.step === null ? `steps[${entry.index}]` : `steps[${entry.index}] (step ${entry.step})`;
}

/** Checks one step's own fields; returns its number when it has a usable one. */
function checkStep(value: JsonValue, index: number, findings: Findings): StepEntry {
  const at = `steps[${index}]`;
  if (!isJsonObject(value)) {
    findings.error('step_invalid', `${at} is ${showAgainst(value, 'an object')}, not an object`);
    return { index, step: null };
  }
  const rawStep = field(value, 'step');
  const step = wholeNumber(rawStep);
  const entry: StepEntry = { index, step: step !== null && step >= 1 ? step : null };
  if (rawStep === undefined) {
    findings.error('step_invalid', `${at}: "step" is missing`);
  } else if (step === null) {
    findings.error('step_invalid', `${at}: step is ${showAgainst(rawStep, 'a number')}, not a whole number`);
  } else if (step < 1) {
    findings.error('step_invalid', `${at}: step is ${step} — step numbers start at 1`);
  }
  const loc = label(entry);
  const role = field(value, 'role');
  if (role === undefined) {
    findings.error('step_invalid', `${loc}: "role" is missing`);
  } else if (typeof role !== 'string' || !STEP_ROLES.includes(role)) {
    findings.error(
      'step_invalid',
      `${loc}: role is ${showAgainst(role, 'a string')} — expected one of ${STEP_ROLES.join(', ')}`,
    );
  }
  const ts = field(value, 'ts');
  if (ts === undefined) {
    findings.error('step_invalid', `${loc}: "ts" is missing`);
  } else if (typeof ts !== 'string') {
    findings.error('step_invalid', `${loc}: ts is ${showAgainst(ts, 'a string')}, not an ISO-8601 timestamp`);
  } else {
    const instant = parseTimestamp(ts);
    if (instant) entry.ts = { text: ts, instant };
    else findings.error('step_invalid', `${loc}: ts ${timestampProblem(ts)}`);
  }
  if (field(value, 'content') === undefined) {
    findings.error('step_invalid', `${loc}: "content" is missing`);
  }
  return entry;
}

function timestampProblem(text: string): string {
  if (TIMESTAMP_WITHOUT_ZONE.test(text)) {
    return `${quote(text)} has no time zone — expected e.g. ${TIMESTAMP_EXAMPLE}`;
  }
  return `${quote(text)} is not an ISO-8601 timestamp — expected e.g. ${TIMESTAMP_EXAMPLE}`;
}

function lowerBound(sorted: readonly number[], value: number): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((sorted[mid] ?? 0) < value) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The numbers strictly between `from` and `to` that no step has, as ranges (at most 4 shown). */
function missingBetween(sorted: readonly number[], from: number, to: number): string | null {
  let count = to - from - 1;
  if (count <= 0) return null;
  const ranges: Array<[number, number]> = [];
  let next = from + 1;
  let more = false;
  for (let i = lowerBound(sorted, from + 1); i < sorted.length; i++) {
    const present = sorted[i] ?? to;
    if (present >= to) break;
    count--;
    if (present > next) {
      if (ranges.length < 4) ranges.push([next, present - 1]);
      else more = true;
    }
    next = present + 1;
  }
  if (count === 0) return null;
  if (next < to) {
    if (ranges.length < 4) ranges.push([next, to - 1]);
    else more = true;
  }
  const list = formatRangePairs(ranges, 4, more);
  if (count === 1) return `step ${list} is missing`;
  return ranges.length === 1 && !more ? `steps ${list} are missing` : `${count} steps are missing (${list})`;
}

/** Numbering (1..n, no gap, no repeat, in order) and time order, over the whole array. */
function checkSequence(entries: readonly StepEntry[], findings: Findings): void {
  const numbers = entries.map((e) => e.step).filter((s): s is number => s !== null);
  const sorted = [...new Set(numbers)].sort((a, b) => a - b);
  const firstSeen = new Map<number, number>();
  let max = 0;
  let previousTs: { instant: Instant; text: string; entry: StepEntry } | null = null;
  for (const entry of entries) {
    const s = entry.step;
    if (s !== null) {
      const earlier = firstSeen.get(s);
      if (earlier !== undefined) {
        findings.error(
          'step_repeat',
          `steps[${entry.index}]: step ${s} appears again (first at steps[${earlier}])`,
        );
      } else {
        firstSeen.set(s, entry.index);
        if (s < max) {
          findings.error(
            'step_order',
            `steps[${entry.index}]: step ${s} comes after step ${max} — steps are out of order`,
          );
        } else {
          const missing = missingBetween(sorted, max, s);
          if (missing !== null) {
            const context = max === 0 ? `the first step is ${s}` : `step ${s} follows step ${max}`;
            findings.error('step_gap', `steps[${entry.index}]: ${context} — ${missing}`);
          }
          max = s;
        }
      }
    }
    if (entry.ts) {
      const { text: ts, instant } = entry.ts;
      if (previousTs && compareInstants(instant, previousTs.instant) < 0) {
        findings.error(
          'ts_decreasing',
          `${label(entry)}: ts ${quote(ts)} is earlier than ${quote(previousTs.text)} of ${label(previousTs.entry)} — time goes backwards`,
        );
      }
      previousTs = { instant, text: ts, entry };
    }
  }
}

export interface AnalyzeOptions {
  /**
   * false: skip the canonical form and its hashes (`contentHash` and `steps` stay null), and
   * parse with `JSON.parse` where it gives the same values (`quickParse`). The errors, and so
   * `valid`, are the same either way; the one difference is that duplicate keys (a warning) go
   * unreported after the quick parse. A bulk restore into an empty key needs the verdict, not
   * the fingerprints: about 130 µs of an 8 KB copy's 340 without them, 80 with the quick parse.
   */
  fingerprints?: boolean;
}

/**
 * Everything the core needs to know about one stored copy, from its bytes alone. Never throws:
 * any input, however broken, becomes findings. `expectedId` is the id the copy is stored under.
 */
export function analyzeConversation(
  bytes: Buffer,
  expectedId: string,
  options: AnalyzeOptions = {},
): ConversationAnalysis {
  const fingerprints = options.fingerprints !== false;
  const findings = new Findings();
  const analysis: ConversationAnalysis = {
    bytes: bytes.length,
    checksum: sha256Checksum(bytes),
    contentHash: null,
    parsed: false,
    valid: false,
    findings: [],
    status: null,
    steps: null,
    stepCount: null,
    lastStepAt: null,
    checkpoint: null,
    updatedAt: null,
  };
  const finish = (): ConversationAnalysis => {
    analysis.findings = findings.list();
    analysis.valid = !analysis.findings.some((f) => f.severity === 'error');
    return analysis;
  };

  if (bytes.length === 0) {
    findings.error('empty', 'the stored value is empty (0 bytes)');
    return finish();
  }
  if (bytes.length > LARGE_DOCUMENT_BYTES) {
    findings.warning(
      'large_document',
      `the document is ${(bytes.length / 1024 / 1024).toFixed(1)} MiB — reports, exports and restores of it will be slow`,
    );
  }
  if (!isUtf8(bytes)) {
    findings.error(
      'invalid_utf8',
      `not valid UTF-8: the first bad byte is at byte ${firstInvalidUtf8(bytes)}`,
    );
    return finish();
  }
  const text = bytes.toString('utf8');
  const scan = scanText(text, MAX_NESTING_DEPTH);
  if (scan.tooDeep) {
    findings.error(
      'too_deep',
      `values are nested more than ${MAX_NESTING_DEPTH} levels deep; refusing to analyse`,
    );
    return finish();
  }

  const duplicates: DuplicateKey[] = [];
  // Without fingerprints the numbers' spelling matters only through their values, which the
  // quick parse gives exactly here; the lossless parser is kept for the rest (and the errors).
  let root = !fingerprints && scan.plainNumbers ? quickParse(text) : undefined;
  try {
    root ??= parseLossless(text, duplicates);
  } catch (err) {
    findings.error('invalid_json', describeParseError(text, err));
    return finish();
  }
  analysis.parsed = true;
  duplicates.forEach((dup, i) => {
    // Locating a position scans the text, so only the duplicates that will be listed pay for it.
    const message =
      i < MAX_FINDINGS_PER_CODE
        ? `key ${quote(dup.key)} appears more than once (again at ${where(text, dup.position)}); the last value counts, as in Postgres`
        : '';
    findings.warning('duplicate_key', message);
  });

  const stepValues = isJsonObject(root) ? field(root, 'steps') : undefined;
  // The steps' canonical texts are reused inside the document's, so large documents are
  // canonicalised once, not twice.
  const stepTexts = fingerprints && Array.isArray(stepValues) ? stepValues.map(canonical) : null;
  if (fingerprints) {
    const rootText = isJsonObject(root)
      ? canonicalObject(root, (value, key) =>
          key === 'steps' && stepTexts ? `[${stepTexts.join(',')}]` : canonical(value),
        )
      : canonical(root);
    analysis.contentHash = hashText(rootText);
  }

  if (!isJsonObject(root)) {
    findings.error('not_object', `the document is ${kind(root)}, not a JSON object`);
    return finish();
  }

  const id = field(root, 'id');
  if (id === undefined) {
    findings.error('id_missing', `"id" is missing (the copy is stored under ${quote(expectedId)})`);
  } else if (id !== expectedId) {
    findings.error(
      'id_mismatch',
      `id is ${showAgainst(id, 'a string')} but the copy is stored under ${quote(expectedId)} — this is another conversation's data or a mis-keyed write`,
    );
  }

  const status = field(root, 'status');
  if (typeof status === 'string') analysis.status = status;
  if (status === undefined) {
    findings.error(
      'status_invalid',
      `"status" is missing — expected one of ${CONVERSATION_STATUSES.join(', ')}`,
    );
  } else if (typeof status !== 'string' || !CONVERSATION_STATUSES.includes(status)) {
    findings.error(
      'status_invalid',
      `status is ${showAgainst(status, 'a string')} — expected one of ${CONVERSATION_STATUSES.join(', ')}`,
    );
  }

  if (stepValues === undefined) {
    findings.error('steps_missing', '"steps" is missing');
  } else if (!Array.isArray(stepValues)) {
    findings.error('steps_not_array', `steps is ${showAgainst(stepValues, 'an array')}, not an array`);
  } else {
    const entries = stepValues.map((value, index) => checkStep(value, index, findings));
    checkSequence(entries, findings);
    if (stepTexts) {
      const summaries: StepSummary[] = [];
      entries.forEach((entry, index) => {
        const value = stepValues[index];
        const hashSource = stepTexts[index];
        if (entry.step === null || !isJsonObject(value) || hashSource === undefined) return;
        const role = field(value, 'role');
        const ts = field(value, 'ts');
        summaries.push({
          step: entry.step,
          role: typeof role === 'string' ? role : null,
          ts: typeof ts === 'string' ? ts : null,
          hash: hashText(hashSource),
        });
      });
      analysis.steps = summaries;
    }
    analysis.stepCount = stepValues.length;
    const last = stepValues[stepValues.length - 1];
    const lastTs = isJsonObject(last) ? field(last, 'ts') : undefined;
    analysis.lastStepAt = typeof lastTs === 'string' ? lastTs : null;
  }

  const checkpoint = field(root, 'checkpoint');
  // Absent and null both mean "no checkpoint yet": the field is optional.
  if (checkpoint !== undefined && checkpoint !== null) {
    const n = wholeNumber(checkpoint);
    if (n === null || n < 0) {
      findings.error(
        'checkpoint_invalid',
        `checkpoint is ${showAgainst(checkpoint, 'a number')} — expected a whole number ≥ 0`,
      );
    } else {
      analysis.checkpoint = n;
      if (analysis.stepCount !== null && n > analysis.stepCount) {
        findings.error(
          'checkpoint_ahead',
          `checkpoint is ${n} but there ${analysis.stepCount === 1 ? 'is' : 'are'} only ${analysis.stepCount} ${plural(analysis.stepCount, 'step', 'steps', { count: false })}`,
        );
      }
    }
  }

  const updatedAt = field(root, 'updated_at');
  if (typeof updatedAt === 'string') analysis.updatedAt = updatedAt;
  if (updatedAt === undefined) {
    findings.error('updated_at_invalid', '"updated_at" is missing');
  } else if (typeof updatedAt !== 'string') {
    findings.error(
      'updated_at_invalid',
      `updated_at is ${showAgainst(updatedAt, 'a string')}, not an ISO-8601 timestamp`,
    );
  } else if (!isTimestamp(updatedAt)) {
    findings.error('updated_at_invalid', `updated_at ${timestampProblem(updatedAt)}`);
  } else if (analysis.lastStepAt !== null && (compareTimestamps(updatedAt, analysis.lastStepAt) ?? 0) < 0) {
    findings.error(
      'updated_at_before_last_step',
      `updated_at ${quote(updatedAt)} is earlier than the last step's ts ${quote(analysis.lastStepAt)}`,
    );
  }

  return finish();
}
