import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { quoteIdent } from './sql.js';
import type { Backup, BackupStore, NewBackup } from './types.js';

interface BackupRow {
  id: string;
  conversation_id: string;
  redis_key: string;
  existed: boolean;
  value: Buffer | null;
  checksum: string | null;
  ttl_ms: string | null;
  taken_at: Date;
  actor: string;
  reason: string;
  request_id: string | null;
  taken_for: string;
}

const COLUMNS =
  'id, conversation_id, redis_key, existed, value, checksum, ttl_ms, taken_at, actor, reason, request_id, taken_for';

/** 15 random bytes are exactly 20 base64url characters, no padding. */
export function newBackupId(): string {
  return `bk_${randomBytes(15).toString('base64url')}`;
}

function toBackup(r: BackupRow): Backup {
  return {
    id: r.id,
    conversationId: r.conversation_id,
    key: r.redis_key,
    existed: r.existed,
    value: r.value,
    checksum: r.checksum,
    // bigint arrives as a string; Redis TTLs in ms stay far below 2^53.
    ttlMs: r.ttl_ms === null ? null : Number(r.ttl_ms),
    takenAt: r.taken_at,
    actor: r.actor,
    reason: r.reason,
    requestId: r.request_id,
    takenFor: r.taken_for,
  };
}

export function createBackupStore(pool: pg.Pool, schema: string): BackupStore {
  const table = `${quoteIdent(schema)}.backups`;

  return {
    async create(b: NewBackup): Promise<Backup> {
      // A Buffer parameter is sent as binary bytea, so every byte (NUL, invalid UTF-8) survives.
      const res = await pool.query<BackupRow>(
        `INSERT INTO ${table} (id, conversation_id, redis_key, existed, value, checksum, ttl_ms, actor, reason, request_id, taken_for)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         RETURNING ${COLUMNS}`,
        [
          newBackupId(),
          b.conversationId,
          b.key,
          b.existed,
          b.value,
          b.checksum,
          b.ttlMs,
          b.actor,
          b.reason,
          b.requestId,
          b.takenFor,
        ],
      );
      const row = res.rows[0];
      if (!row) throw new Error('INSERT … RETURNING returned no row');
      return toBackup(row);
    },

    async get(id: string): Promise<Backup | null> {
      const res = await pool.query<BackupRow>(`SELECT ${COLUMNS} FROM ${table} WHERE id = $1`, [id]);
      const row = res.rows[0];
      return row ? toBackup(row) : null;
    },

    async listForConversation(conversationId: string, limit: number): Promise<Backup[]> {
      // id breaks ties between backups taken in one transaction (same now()), so pages are stable.
      const res = await pool.query<BackupRow>(
        `SELECT ${COLUMNS} FROM ${table} WHERE conversation_id = $1 ORDER BY taken_at DESC, id DESC LIMIT $2`,
        [conversationId, Math.max(0, Math.floor(limit))],
      );
      return res.rows.map(toBackup);
    },
  };
}
