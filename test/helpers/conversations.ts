import { isLosslessNumber, parse } from 'lossless-json';
import { analyzeConversation } from '../../src/recovery/conversation.js';
import type { TierName, TierReport } from '../../src/recovery/types.js';

/**
 * Builders for conversation documents in tests. Deterministic: the same arguments always give
 * the same bytes, so tests can compare what a tier holds with what they seeded.
 */

const START_MS = Date.parse('2025-12-13T10:00:00.000Z');
const STEP_INTERVAL_MS = 4000;

/** The `ts` makeConversation gives step `n` (1-based). */
export function stepTs(n: number): string {
  return new Date(START_MS + (n - 1) * STEP_INTERVAL_MS).toISOString();
}

function makeStep(n: number): Record<string, unknown> {
  // Keys deliberately not sorted and not the same order in every step; `agent` and `tokens`
  // stand for the fields Zeus writes that the bot does not know and must carry through untouched.
  if (n % 2 === 1) return { ts: stepTs(n), step: n, role: 'user', content: `question ${n}` };
  return {
    content: `answer ${n}`,
    role: 'assistant',
    agent: 'zeus',
    step: n,
    ts: stepTs(n),
    tokens: { out: 20 * n, in: 10 * n },
  };
}

/**
 * A valid conversation JSON document with `nSteps` steps (1..n, 4 s apart from
 * 2025-12-13T10:00:00.000Z), `checkpoint` = n and `updated_at` one second after the last step.
 * It carries unknown fields (`zeus_version`, `meta`, per-step `agent`/`tokens`) and keys in a
 * deliberately non-sorted order, so anything that re-serialises it is caught.
 *
 * `extra` fields are merged at the top level: a key that exists keeps its position and takes the
 * new value (`{ status: 'paused' }`), a new key is appended.
 */
export function makeConversation(id: string, nSteps: number, extra: Record<string, unknown> = {}): string {
  const steps = Array.from({ length: nSteps }, (_, i) => makeStep(i + 1));
  const lastMs = START_MS + Math.max(0, nSteps - 1) * STEP_INTERVAL_MS;
  const doc: Record<string, unknown> = {
    status: 'active',
    id,
    zeus_version: '4.2.1',
    steps,
    checkpoint: nSteps,
    updated_at: new Date(lastMs + (nSteps > 0 ? 1000 : 0)).toISOString(),
    meta: { trace: { span: 'a1b2', sampled: true }, labels: ['support', 'eu-west'] },
    ...extra,
  };
  return JSON.stringify(doc);
}

/**
 * What PostgreSQL prints for `state::text` after storing `json` in a `jsonb` column, for pure
 * tests that need a realistic "restored from Postgres" copy without a server. Mirrors
 * Postgres 15 (checked against a real server): object keys ordered by UTF-8 byte length, then
 * bytewise; the last of duplicate keys kept; `", "` and `": "` separators; strings re-escaped
 * (only `"`, `\`, `\b\f\n\r\t` and other control characters as `\u00xx`; `/` and non-ASCII
 * raw); numbers as `numeric` prints them (`1e2` → `100`, `1.50e1` → `15.0`, `-0` → `0`,
 * big integers exact).
 */
export function jsonbText(json: string): string {
  return jsonbValue(parse(json, null, { onDuplicateKey: ({ newValue }) => newValue }));
}

function jsonbValue(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'boolean') return String(value);
  if (typeof value === 'string') return jsonbString(value);
  if (isLosslessNumber(value)) return numericText(value.toString());
  if (Array.isArray(value)) return `[${value.map(jsonbValue).join(', ')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    entries.sort(([a], [b]) => compareJsonbKeys(a, b));
    return `{${entries.map(([k, v]) => `${jsonbString(k)}: ${jsonbValue(v)}`).join(', ')}}`;
  }
  throw new TypeError(`unexpected value ${String(value)}`);
}

function compareJsonbKeys(a: string, b: string): number {
  const ba = Buffer.from(a, 'utf8');
  const bb = Buffer.from(b, 'utf8');
  return ba.length !== bb.length ? ba.length - bb.length : Buffer.compare(ba, bb);
}

function jsonbString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const code = ch.charCodeAt(0);
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
  }
  return `${out}"`;
}

/** `numeric` output: plain notation, as many fraction digits as the literal implies (its dscale). */
function numericText(literal: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?(?:[eE]([+-]?\d+))?$/.exec(literal);
  if (!m) throw new SyntaxError(`not a number: ${literal}`);
  const fraction = m[3] ?? '';
  const exponent = Number(m[4] ?? '0');
  const scale = Math.max(0, fraction.length - exponent);
  // All digits as an integer, scaled so that it has exactly `scale` fraction digits.
  let digits = (m[2] ?? '') + fraction;
  digits += '0'.repeat(exponent - fraction.length + scale);
  digits = digits.replace(/^0+/, '').padStart(scale + 1, '0');
  const int = digits.slice(0, digits.length - scale);
  const body = scale > 0 ? `${int}.${digits.slice(digits.length - scale)}` : int;
  const negative = m[1] === '-' && /[1-9]/.test(digits);
  return negative ? `-${body}` : body;
}

/** A tier report for pure tests: the tier holds `json` (analysed as stored under `id`). */
export function foundTier(tier: TierName, id: string, json: string | Buffer): TierReport {
  const bytes = typeof json === 'string' ? Buffer.from(json, 'utf8') : json;
  return {
    tier,
    location: `${tier}:${id}`,
    status: 'found',
    reason: null,
    analysis: analyzeConversation(bytes, id),
    ttlMs: null,
    latencyMs: 1,
  };
}

export function missingTier(tier: TierName, id: string): TierReport {
  return {
    tier,
    location: `${tier}:${id}`,
    status: 'missing',
    reason: null,
    analysis: null,
    ttlMs: null,
    latencyMs: 1,
  };
}

export function unreachableTier(tier: TierName, id: string, reason: string): TierReport {
  return {
    tier,
    location: `${tier}:${id}`,
    status: 'unreachable',
    reason,
    analysis: null,
    ttlMs: null,
    latencyMs: 1,
  };
}

/**
 * What each tier holds, in short: a number is a valid copy with that many steps, `'unreachable'`
 * a timeout (or the reason given), `{ json }` exactly those bytes.
 */
export type TierSpec =
  | number
  | 'missing'
  | 'unreachable'
  | { unreachable: string }
  | { json: string | Buffer };

/** Tier reports for all three tiers from `{ redis: 'missing', postgres: 8, s3: 6 }`. */
export function tierReports(id: string, spec: Record<TierName, TierSpec>): Record<TierName, TierReport> {
  const build = (tier: TierName): TierReport => {
    const s = spec[tier];
    if (s === 'missing') return missingTier(tier, id);
    if (s === 'unreachable') return unreachableTier(tier, id, 'timeout');
    if (typeof s === 'number') {
      // Postgres hands back its own formatting; whoever reads the reports must not mind.
      const doc = makeConversation(id, s);
      return foundTier(tier, id, tier === 'postgres' ? jsonbText(doc) : doc);
    }
    if ('unreachable' in s) return unreachableTier(tier, id, s.unreachable);
    return foundTier(tier, id, s.json);
  };
  return { redis: build('redis'), postgres: build('postgres'), s3: build('s3') };
}
