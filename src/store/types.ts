/**
 * Ports for the bot's own state, kept in its own Postgres schema (never Zeus's tables).
 * Everything that matters across replicas lives here, with atomic transitions.
 */

export interface NewBackup {
  conversationId: string;
  /** The Redis key the value was read from. */
  key: string;
  /** false: the key did not exist; undoing then deletes it again. */
  existed: boolean;
  /** Exact bytes as stored in Redis (null when the key did not exist). */
  value: Buffer | null;
  checksum: string | null;
  ttlMs: number | null;
  actor: string;
  reason: string;
  requestId: string | null;
  /** What took it: `restore`, `undo`. */
  takenFor: string;
}

export interface Backup extends NewBackup {
  /** `bk_` + 20 url-safe random chars. */
  id: string;
  takenAt: Date;
}

export interface BackupStore {
  create(backup: NewBackup): Promise<Backup>;
  get(id: string): Promise<Backup | null>;
  listForConversation(conversationId: string, limit: number): Promise<Backup[]>;
}

export interface AuditEvent {
  /** Dotted verb: `restore.started`, `restore.succeeded`, `request.approved`, … */
  action: string;
  /** `slack:U123`, `cli:alice`, `system`. */
  actor: string;
  conversationId: string | null;
  requestId: string | null;
  /** Free-form, JSON-serialisable; never conversation content. */
  data: Record<string, unknown>;
}

export interface AuditEntry extends AuditEvent {
  seq: number;
  at: Date;
  prevHash: string;
  hash: string;
}

export interface AuditVerifyResult {
  ok: boolean;
  rows: number;
  /** First place the chain does not hold, in seq order. */
  firstBroken: { seq: number; problem: string } | null;
}

export interface AppendOptions {
  /**
   * Also queue the entry for the Slack channel's incident thread, in the same transaction as
   * the audit row: an entry is never appended without its delivery, nor the reverse.
   */
  deliverTo?: { channelId: string };
}

export interface AuditLog {
  /** Appends one event, chained to the previous row by sha256, atomically. */
  append(event: AuditEvent, options?: AppendOptions): Promise<AuditEntry>;
  /** Entries after `afterSeq` in order (for delivery to Slack). */
  after(afterSeq: number, limit: number): Promise<AuditEntry[]>;
  verify(): Promise<AuditVerifyResult>;
}

export interface LockHeld {
  acquired: false;
  holder: string;
  since: Date;
}

export interface LockLease {
  acquired: true;
  token: string;
  /**
   * Extends the lease to `leaseMs` from now (database clock). False when it is no longer ours:
   * it ran out (and may have been taken over) or was released. Never revives an expired lease.
   */
  renew(leaseMs: number): Promise<boolean>;
  release(): Promise<void>;
}

/** Per-conversation mutual exclusion that holds across processes and hosts (a lease row in Postgres). */
export interface LockManager {
  acquire(conversationId: string, holder: string, leaseMs: number): Promise<LockLease | LockHeld>;
}
