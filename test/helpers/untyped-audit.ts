import type { AuditEvent } from '../../src/store/types.js';

/** Any row the log may hold, whatever its action or data. */
export interface UntypedAuditEvent {
  action: string;
  actor: string;
  conversationId: string | null;
  requestId: string | null;
  data: Record<string, unknown>;
}

/**
 * An event outside the audit vocabulary, as an older version or a hand edit can leave in the log.
 * Production writers are held to the vocabulary by the type of `AuditLog.append`; tests of the
 * log's own plumbing (hash chain, delivery order, unknown actions) append such rows on purpose.
 */
export function untypedEvent(event: UntypedAuditEvent): AuditEvent {
  return event as unknown as AuditEvent;
}
