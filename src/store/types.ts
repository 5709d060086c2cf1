import type { AuditEvent } from '../audit-vocabulary.js';

/**
 * Ports for the bot's own state, kept in its own Postgres schema (never Zeus's tables).
 * Everything that matters across replicas lives here, with atomic transitions.
 */

/**
 * Distinct approvals a request may need: the configuration (REQUIRED_APPROVALS) and the requests
 * table's CHECK constraint (migration 0004_requests: `BETWEEN 1 AND 10`) share this range; a test
 * holds the two together.
 */
export const MAX_REQUIRED_APPROVALS = 10;

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

/**
 * What a writer appends: the action decides the shape of `data` (src/audit-vocabulary.ts), so a
 * wrong action name or shape fails the build.
 */
export type { AuditEvent };

/**
 * A stored row, loosely typed on purpose: it is a fact from the past (an older version may have
 * written it, or someone edited the table), so readers parse `data` with the vocabulary's schemas
 * before trusting it.
 */
export interface AuditEntry {
  seq: number;
  at: Date;
  /** Dotted verb: `restore.started`, `request.approved`, …; may be one this version does not know. */
  action: string;
  actor: string;
  conversationId: string | null;
  requestId: string | null;
  /** JSON as stored; never conversation content. */
  data: Record<string, unknown>;
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
  /** When the holder's lease runs out unless renewed (database clock). */
  expiresAt: Date;
}

/** A conversation's lock row as it stands (times from the database clock). */
export interface LockInfo {
  holder: string;
  /** Names this lease exactly: a break applies only while the same lease holds the row. */
  token: string;
  since: Date;
  expiresAt: Date;
  /** The lease ran out unrenewed: its holder stopped (crashed, killed, cut off) without releasing. */
  gone: boolean;
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
  /** The conversation's lock row, or null when nobody holds it. */
  inspect(conversationId: string): Promise<LockInfo | null>;
  /**
   * Removes the lock only if the lease `token` still holds it (a break approved for one holder
   * never frees a lock someone else took since). The removed row, or null when it was not there.
   */
  breakLease(conversationId: string, token: string): Promise<LockInfo | null>;
}

/** The lowest pending entry of a channel, as the delivery worker sees it (times from the database clock). */
export interface DeliveryHead {
  seq: number;
  /** Null: not about one conversation, posted at the channel's top level. */
  conversationId: string | null;
  attempts: number;
  /** The reply's ts once Slack accepted it: never post this entry again. */
  messageTs: string | null;
  /** The approval message edited for this entry, once that edit went through. */
  updatedTs: string | null;
  /** How long until the entry is due again; 0: due now. */
  waitMs: number;
  /** How long ago a post of this entry was sent without Slack refusing it; null: none was. */
  sinceSentMs: number | null;
  /** When the entry was queued (epoch seconds): no copy of it can be older. */
  createdEpoch: number;
}

/** A thread root that was sent to Slack and never recorded (its answer was lost, or the process died). */
export interface UnansweredRootPost {
  /** The first such post (epoch seconds): no copy of the root can be older. */
  firstSentEpoch: number;
  /** Since the latest such post: a copy may still be on its way until this is old enough. */
  sinceLastSentMs: number;
}

/**
 * One channel's delivery state, bound to the connection that holds the channel's lock: every
 * method runs on that connection, autocommitted, so whoever takes the lock next sees it all.
 * Usable only inside `withChannelLock`.
 */
export interface ChannelDeliveries {
  readonly channelId: string;
  /** The lowest pending entry, or null when the channel has none. */
  head(): Promise<DeliveryHead | null>;
  /** The recorded incident thread root of a conversation in this channel. */
  threadRoot(conversationId: string): Promise<string | null>;
  unansweredRootPost(conversationId: string): Promise<UnansweredRootPost | null>;
  /** A root is about to be sent (first time or again). */
  markRootSent(conversationId: string): Promise<void>;
  /** Slack refused the root outright: nothing of it can be in Slack. */
  clearRootSent(conversationId: string): Promise<void>;
  /**
   * Records the root and drops its "sent, unanswered" marker in one statement. The first root
   * recorded wins: read `threadRoot` after it to learn which.
   */
  recordRoot(conversationId: string, rootTs: string): Promise<void>;
  /** Forgets a root that is gone from Slack (only if it is still `rootTs`). */
  forgetThread(conversationId: string, rootTs: string): Promise<void>;
  /** An entry's reply is about to be sent. */
  markReplySent(seq: number): Promise<void>;
  /** Slack refused the reply outright: nothing of it can be in Slack. */
  clearReplySent(seq: number): Promise<void>;
  /** Records the reply's ts (only while none is recorded); `note` replaces last_error. */
  recordReply(seq: number, messageTs: string, note: string | null): Promise<void>;
  /**
   * The ts of the latest earlier reply in this channel of an entry with `action` for `requestId`
   * (the approval message to edit), or null.
   */
  requestMessageTs(query: {
    action: string;
    requestId: string;
    conversationId: string | null;
    beforeSeq: number;
  }): Promise<string | null>;
  /** One more attempt failed: due again in `delayMs`, with `error` kept. */
  recordRetry(seq: number, error: string, delayMs: number): Promise<void>;
  /** Done; `note` (if any) is appended to last_error. */
  markDelivered(seq: number, updatedTs: string | null, note: string | null): Promise<void>;
}

/** Where audit entries wait for Slack (`audit_deliveries`) and the incident threads they go to. */
export interface DeliveryStore {
  /** Channels with a pending entry, each with how long until its head is due (0: now). */
  pendingChannels(): Promise<{ channelId: string; waitMs: number }[]>;
  /**
   * Runs `fn` while holding the channel's session advisory lock on one dedicated connection.
   * `locked: false` when another holder has it (fn is not run). If anything throws, the
   * connection is destroyed rather than pooled, which is what frees the lock.
   */
  withChannelLock<T>(
    channelId: string,
    fn: (channel: ChannelDeliveries) => Promise<T>,
  ): Promise<{ locked: true; value: T } | { locked: false }>;
  /** Entries not yet delivered (optionally of one channel). */
  pendingCount(channelId?: string): Promise<number>;
  /** Age of the oldest undelivered entry, null when there is none. */
  oldestPendingAgeMs(): Promise<number | null>;
  /** The incident thread's root ts for a conversation in a channel, if one was recorded. */
  incidentThread(channelId: string, conversationId: string): Promise<string | null>;
  /** The ts of an entry's reply in a channel, if it was posted. */
  replyTs(channelId: string, seq: number): Promise<string | null>;
}
