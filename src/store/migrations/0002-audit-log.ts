import type { Migration } from './migration.js';

/**
 * The hash-chained, append-only audit log (src/store/audit.ts) and the head row that pins its end.
 */
export const migration0002: Migration = {
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
};
