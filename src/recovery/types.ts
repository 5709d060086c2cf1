/**
 * The contracts between the recovery core, its tier adapters and its own Postgres store.
 * Adapters implement these ports; the core only ever sees the ports, so it can be driven by
 * real servers in integration tests and by the same servers in production.
 */

/** What a conversation's lock says, for inspect, the "in progress" refusal and unlock. */
export interface LockState {
  /** Who took it: `slack:U123`, `cli:alice`. */
  holder: string;
  /** The approval request it runs for; null for a CLI run. */
  requestId: string | null;
  since: string;
  /** When the lease runs out unless its holder renews it. */
  expiresAt: string;
  /** The holder stopped renewing (crashed, killed, cut off): gone since `expiresAt`. */
  gone: boolean;
}

export type TierName = 'redis' | 'postgres' | 's3';
export const TIER_NAMES: readonly TierName[] = ['redis', 'postgres', 's3'];

/** One tier's answer for one conversation. `bytes` are exactly what the tier stores. */
export type TierRead =
  | { status: 'found'; bytes: Buffer; ttlMs?: number | null; updatedAt?: Date | null }
  | { status: 'missing' }
  | { status: 'unreachable'; reason: string };

/** A read-only tier (Postgres history, S3 archive). */
export interface TierReader {
  readonly name: TierName;
  /** Where this tier keeps a conversation, for reports (`redis key …`, `s3://…`). */
  locate(id: string): string;
  read(id: string): Promise<TierRead>;
  /** Cheap reachability probe for /readyz. Throws when unreachable. */
  ping(): Promise<void>;
}

export type TtlPolicy =
  /** Keep the TTL the key has now (none if it has none or is missing). */
  | { kind: 'keep' }
  /** Always set this TTL (ms). */
  | { kind: 'fixed'; ttlMs: number }
  /** Remove any TTL. */
  | { kind: 'none' };

/**
 * `changed`: Redis no longer held the expected value; `deadline`: the write reached Redis after
 * its fence closed (see the tier). Either way nothing was written.
 */
export type CasResult = { ok: true; ttlMs: number | null } | { ok: false; reason: 'changed' | 'deadline' };

/** A promote also refuses when the shadow copy is gone or no longer what was validated (`shadow`). */
export type PromoteResult = CasResult | { ok: false; reason: 'shadow' };

/**
 * The new value written beside the live key first (a shadow key in the live key's Cluster hash
 * slot, with a short TTL), read back and validated there, then promoted over the live key by one
 * script that checks the live key still holds the planned bytes. `tag` names one restore's shadow.
 */
export interface ShadowWriter {
  /** The shadow key's name, or null when no key can share the live key's hash slot (then: plain CAS). */
  keyFor(id: string, tag: string): string | null;
  write(id: string, tag: string, bytes: Buffer, ttlMs: number): Promise<void>;
  /** What the shadow key holds now; null when it is absent (expired, dropped). */
  read(id: string, tag: string): Promise<Buffer | null>;
  /**
   * Atomically: refuse (and delete the shadow) unless the fence holds, the shadow's SHA-1 is
   * `shadowSha1` and the live key equals `expected`; else copy the shadow over the live key with
   * the TTL policy and delete the shadow. Fenced and ambiguous exactly as `compareAndSet`.
   */
  promote(
    id: string,
    tag: string,
    expected: Buffer | null,
    shadowSha1: string,
    ttl: TtlPolicy,
    options?: { withinMs?: number },
  ): Promise<PromoteResult>;
  /** Deletes the shadow key; never touches the live key. */
  drop(id: string, tag: string): Promise<void>;
}

export interface ScanPage {
  ids: string[];
  /** Opaque; `'0'` when the scan is complete. */
  cursor: string;
}

/** The active tier (Redis): the only tier the bot writes to. */
export interface ActiveStore extends TierReader {
  readonly name: 'redis';
  /**
   * Atomically replaces the value iff it still equals `expected` byte-for-byte
   * (`null` = the key must not exist). `next === null` deletes the key (undo of a restore
   * into a key that did not exist).
   *
   * Fenced: once it has returned or thrown, nothing it sent can still land. A throw whose
   * RecoveryError details say `ambiguous: true` means the write may or may not have been
   * applied; read the key to find out.
   */
  compareAndSet(
    id: string,
    expected: Buffer | null,
    next: Buffer | null,
    ttl: TtlPolicy,
    /** `withinMs`: the write lands within this long or never (the tier's own budget if less). */
    options?: { withinMs?: number },
  ): Promise<CasResult>;
  /** SCAN (never KEYS) for ids whose key matches `pattern` (glob on the id part). */
  scan(pattern: string, cursor: string, count: number): Promise<ScanPage>;
  /** Shadow-key writes; a tier without them is written by `compareAndSet` alone. */
  readonly shadow?: ShadowWriter;
}

export interface Finding {
  severity: 'error' | 'warning';
  /** Stable machine code, e.g. `step_gap`, `id_mismatch`, `invalid_json`. */
  code: string;
  message: string;
}

export interface StepSummary {
  step: number;
  role: string | null;
  ts: string | null;
  /** Content hash of the step's canonical JSON: steps "differ" when this differs. */
  hash: string;
}

/** Everything the core knows about one stored copy, derived only from its bytes. */
export interface ConversationAnalysis {
  bytes: number;
  /** `sha256:<hex>` of the stored bytes. */
  checksum: string;
  /** `sha256:<hex>` of the canonical form (keys sorted, no whitespace); null if unparseable. */
  contentHash: string | null;
  parsed: boolean;
  /** No error-severity findings. */
  valid: boolean;
  findings: Finding[];
  status: string | null;
  steps: StepSummary[] | null;
  stepCount: number | null;
  lastStepAt: string | null;
  checkpoint: number | null;
  updatedAt: string | null;
}

export interface TierReport {
  tier: TierName;
  location: string;
  status: 'found' | 'missing' | 'unreachable';
  reason: string | null;
  analysis: ConversationAnalysis | null;
  ttlMs: number | null;
  latencyMs: number;
}

export interface Recommendation {
  source: TierName | null;
  reason: string;
}

export interface InspectReport {
  conversationId: string;
  at: string;
  tiers: Record<TierName, TierReport>;
  recommendation: Recommendation;
  /** The conversation's lock: null when free, 'unreadable' when Postgres did not say. */
  lock?: LockState | null | 'unreadable' | undefined;
}

export interface StepDiff {
  added: StepSummary[];
  removed: StepSummary[];
  changed: Array<{ step: number; from: StepSummary; to: StepSummary }>;
  unchanged: number;
  identical: boolean;
}
