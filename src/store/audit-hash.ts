import { createHash } from 'node:crypto';

/** `prev_hash` of row 1. */
export const GENESIS_HASH = '0'.repeat(64);

/** First element of the hashed array: lets a future format coexist with rows hashed by this one. */
export const AUDIT_HASH_FORMAT = 'zeus-recover/audit/v1';

/** Exactly what a row's hash covers, as stored. */
export interface AuditHashFields {
  seq: number;
  /** `Date.prototype.toISOString()` of `at` (millisecond precision, `Z`). */
  at: string;
  actor: string;
  action: string;
  conversationId: string | null;
  requestId: string | null;
  /** The JSON text in the `data` column, byte for byte (not re-serialised). */
  data: string;
  prevHash: string;
}

/**
 * The canonical serialisation: `JSON.stringify` of a fixed-order array, so field boundaries
 * are unambiguous (a `"` or `,` inside a value is escaped, `null` differs from `""`), then
 * UTF-8 encoded. This is a storage format: changing it breaks every existing chain.
 */
export function auditHashInput(f: AuditHashFields): string {
  return JSON.stringify([
    AUDIT_HASH_FORMAT,
    f.seq,
    f.at,
    f.actor,
    f.action,
    f.conversationId,
    f.requestId,
    f.data,
    f.prevHash,
  ]);
}

/** Lower-case hex sha256 of `auditHashInput`. */
export function auditHash(f: AuditHashFields): string {
  return createHash('sha256').update(auditHashInput(f), 'utf8').digest('hex');
}
