import type pg from 'pg';
import { BULK_MIGRATIONS } from './bulk-schema.js';
import { DELIVERY_MIGRATIONS } from './delivery-schema.js';
import { REQUEST_MIGRATIONS } from './requests-schema.js';
import { quoteIdent, withTransaction } from './sql.js';

export { quoteIdent, withTransaction } from './sql.js';

/**
 * The bot's own schema, built by numbered migrations that ship inside the build (TS strings,
 * not .sql files that a bundler or `files` list could forget). Append new migrations at the
 * end with the next number; never edit or renumber one that has shipped.
 */

export interface Migration {
  /** `NNNN_name`; applied in this order, recorded in `schema_migrations`. */
  id: string;
  /** `s` is the already-quoted schema name. */
  sql: (s: string) => string;
}

const CORE_MIGRATIONS: readonly Migration[] = [
  {
    id: '0001_backups',
    sql: (s) => `
      CREATE TABLE ${s}.backups (
        id text PRIMARY KEY CHECK (id ~ '^bk_[A-Za-z0-9_-]{20}$'),
        conversation_id text NOT NULL,
        redis_key text NOT NULL,
        existed boolean NOT NULL,
        value bytea,
        checksum text,
        ttl_ms bigint,
        taken_at timestamptz NOT NULL DEFAULT now(),
        actor text NOT NULL,
        reason text NOT NULL,
        request_id text,
        taken_for text NOT NULL,
        -- undo deletes the key when it did not exist, and rewrites these bytes when it did
        CONSTRAINT backups_value_iff_existed CHECK (existed = (value IS NOT NULL))
      );
      CREATE INDEX backups_conversation_taken_at_idx ON ${s}.backups (conversation_id, taken_at DESC);
    `,
  },
  {
    id: '0002_audit_log',
    sql: (s) => `
      CREATE TABLE ${s}.audit_log (
        seq bigint PRIMARY KEY CHECK (seq > 0),
        -- (3): the hash covers a JS Date (ms); finer digits would be editable without notice
        at timestamptz(3) NOT NULL,
        actor text NOT NULL,
        action text NOT NULL,
        conversation_id text,
        request_id text,
        -- text, not jsonb: jsonb reorders keys, and these are the exact bytes that were hashed
        data text NOT NULL,
        prev_hash text NOT NULL CHECK (prev_hash ~ '^[0-9a-f]{64}$'),
        hash text NOT NULL CHECK (hash ~ '^[0-9a-f]{64}$')
      );
      CREATE INDEX audit_log_conversation_idx ON ${s}.audit_log (conversation_id, seq);

      -- One row, moved in the same transaction as every append: without it, deleting the
      -- last rows would leave a shorter chain that still verifies.
      CREATE TABLE ${s}.audit_head (
        id boolean PRIMARY KEY DEFAULT true CHECK (id),
        seq bigint NOT NULL,
        hash text NOT NULL
      );
      INSERT INTO ${s}.audit_head (id, seq, hash) VALUES (true, 0, repeat('0', 64));

      CREATE FUNCTION ${s}.audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
          USING ERRCODE = 'insufficient_privilege';
      END
      $fn$;
      CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON ${s}.audit_log
        FOR EACH ROW EXECUTE FUNCTION ${s}.audit_log_refuse_change();
      CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON ${s}.audit_log
        FOR EACH STATEMENT EXECUTE FUNCTION ${s}.audit_log_refuse_change();

      -- The head may only step forward by one, onto a row that exists: catches a buggy
      -- writer early; a superuser who disables it is still caught by verify().
      CREATE FUNCTION ${s}.audit_head_guard() RETURNS trigger LANGUAGE plpgsql AS $fn$
      BEGIN
        IF TG_OP <> 'UPDATE' THEN
          RAISE EXCEPTION 'audit_head: % refused', TG_OP USING ERRCODE = 'insufficient_privilege';
        END IF;
        IF NEW.seq <> OLD.seq + 1 OR NOT EXISTS (
          SELECT 1 FROM ${s}.audit_log WHERE seq = NEW.seq AND hash = NEW.hash
        ) THEN
          RAISE EXCEPTION 'audit_head may only advance to the row just appended'
            USING ERRCODE = 'insufficient_privilege';
        END IF;
        RETURN NEW;
      END
      $fn$;
      CREATE TRIGGER audit_head_guard BEFORE UPDATE OR DELETE ON ${s}.audit_head
        FOR EACH ROW EXECUTE FUNCTION ${s}.audit_head_guard();
      CREATE TRIGGER audit_head_no_truncate BEFORE TRUNCATE ON ${s}.audit_head
        FOR EACH STATEMENT EXECUTE FUNCTION ${s}.audit_log_refuse_change();
    `,
  },
  {
    id: '0003_locks',
    sql: (s) => `
      CREATE TABLE ${s}.locks (
        conversation_id text PRIMARY KEY,
        holder text NOT NULL,
        token text NOT NULL,
        acquired_at timestamptz NOT NULL,
        expires_at timestamptz NOT NULL
      );
    `,
  },
];

// By number, not by file: a later step of one area may come after another area's steps.
export const MIGRATIONS: readonly Migration[] = [
  ...CORE_MIGRATIONS,
  ...REQUEST_MIGRATIONS,
  ...DELIVERY_MIGRATIONS,
  ...BULK_MIGRATIONS,
].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

/** First key of the two-int advisory lock: "ZR" + 1, so other apps' locks rarely collide. */
const MIGRATION_LOCK_CLASS = 0x5a5201;

/**
 * Applies every migration not yet recorded, in order, in one transaction. Replicas starting
 * together queue on the advisory lock; the second then finds nothing left to do.
 */
export async function migrate(pool: pg.Pool, schema: string): Promise<{ applied: string[] }> {
  const s = quoteIdent(schema);
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1, hashtext($2))', [MIGRATION_LOCK_CLASS, schema]);
    // Postgres checks CREATE-on-database before IF NOT EXISTS, so a bot whose DBA created the
    // schema for it (and granted nothing more) would fail on a bare CREATE SCHEMA IF NOT EXISTS.
    const found = await client.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
    if (found.rowCount === 0) await client.query(`CREATE SCHEMA IF NOT EXISTS ${s}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${s}.schema_migrations (
         id text PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const done = await client.query<{ id: string }>(`SELECT id FROM ${s}.schema_migrations`);
    const already = new Set(done.rows.map((r) => r.id));
    const applied: string[] = [];
    for (const m of MIGRATIONS) {
      if (already.has(m.id)) continue;
      await client.query(m.sql(s));
      await client.query(`INSERT INTO ${s}.schema_migrations (id) VALUES ($1)`, [m.id]);
      applied.push(m.id);
    }
    return { applied };
  });
}
