import type pg from 'pg';
import { COLUMNS as AUDIT_COLUMNS, type AuditRow, toEntry } from './audit.js';
import { quoteIdent } from './sql.js';
import type { AuditEntry } from './types.js';

/**
 * Reads back what a request's run wrote to the audit log. After a crash the log is the only
 * record of how far the run got (restore.started carries the checksums and the backup id).
 */
export interface RequestAuditLookup {
  /** The latest entry of the request with one of `actions`, or null. */
  latest(requestId: string, conversationId: string, actions: readonly string[]): Promise<AuditEntry | null>;
  /** The latest entry of a conversation (or of a bulk job: its id) with one of `actions`, or null. */
  latestIn(conversationId: string, actions: readonly string[]): Promise<AuditEntry | null>;
  /** The `restore.succeeded` entry that took `backupId` (its message carries the Undo button), or null. */
  restoreThatTook(conversationId: string, backupId: string): Promise<AuditEntry | null>;
}

export function createRequestAuditLookup(pool: pg.Pool, schema: string): RequestAuditLookup {
  const table = `${quoteIdent(schema)}.audit_log`;
  return {
    async latest(requestId, conversationId, actions) {
      // By conversation first: audit_log is indexed on (conversation_id, seq), not on request_id.
      const res = await pool.query<AuditRow>(
        `SELECT ${AUDIT_COLUMNS} FROM ${table}
         WHERE conversation_id = $1 AND request_id = $2 AND action = ANY($3::text[])
         ORDER BY seq DESC LIMIT 1`,
        [conversationId, requestId, [...actions]],
      );
      const row = res.rows[0];
      return row ? toEntry(row) : null;
    },
    async latestIn(conversationId, actions) {
      const res = await pool.query<AuditRow>(
        `SELECT ${AUDIT_COLUMNS} FROM ${table}
         WHERE conversation_id = $1 AND action = ANY($2::text[])
         ORDER BY seq DESC LIMIT 1`,
        [conversationId, [...actions]],
      );
      const row = res.rows[0];
      return row ? toEntry(row) : null;
    },
    async restoreThatTook(conversationId, backupId) {
      const res = await pool.query<AuditRow>(
        `SELECT ${AUDIT_COLUMNS} FROM ${table}
         -- data is text (hashed as written); the conversation narrows it first.
         WHERE conversation_id = $1 AND action = 'restore.succeeded'
           AND (data::jsonb)->>'backupId' = $2
         ORDER BY seq DESC LIMIT 1`,
        [conversationId, backupId],
      );
      const row = res.rows[0];
      return row ? toEntry(row) : null;
    },
  };
}
