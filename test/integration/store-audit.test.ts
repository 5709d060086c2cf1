import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createAuditLog } from '../../src/store/audit.js';
import { auditHash, GENESIS_HASH } from '../../src/store/audit-hash.js';
import { migrate } from '../../src/store/migrate.js';
import type { AuditEvent, AuditLog } from '../../src/store/types.js';
import { useTestDatabase } from '../helpers/store.js';
import { untypedEvent } from '../helpers/untyped-audit.js';

const fixture = useTestDatabase('zr_audit');
let schemas = 0;

/** Each test gets its own schema, so its chain starts at row 1. */
async function freshLog(clock?: () => Date): Promise<{ schema: string; log: AuditLog }> {
  schemas += 1;
  const schema = `zr_audit_${schemas}`;
  await migrate(fixture.db.pool, schema);
  return { schema, log: createAuditLog(fixture.db.pool, schema, clock) };
}

// The log hashes and keeps whatever data it is given; the vocabulary is the writers' business.
function event(i: number): AuditEvent {
  return untypedEvent({
    action: 'restore.started',
    actor: 'slack:U123',
    conversationId: 'c-7f3a9e',
    requestId: `rq_${i}`,
    data: { source: 'postgres', n: i, note: 'a "quoted", value' },
  });
}

async function appendN(log: AuditLog, n: number): Promise<void> {
  for (let i = 1; i <= n; i++) await log.append(event(i));
}

/** Runs SQL the way a superuser tampering with the table would: with triggers off. */
async function asTamperer(sql: string, params: unknown[] = []): Promise<void> {
  const client = await fixture.db.pool.connect();
  try {
    await client.query('SET session_replication_role = replica');
    await client.query(sql, params);
  } finally {
    await client.query('RESET session_replication_role');
    client.release();
  }
}

describe('audit hash', () => {
  it('is a stable, documented format (changing it breaks existing chains)', () => {
    const fields = {
      seq: 1,
      at: '2025-12-13T10:00:00.000Z',
      actor: 'slack:U123',
      action: 'restore.started',
      conversationId: 'c-7f3a9e',
      requestId: null,
      data: '{"source":"postgres"}',
      prevHash: GENESIS_HASH,
    };
    expect(auditHash(fields)).toBe('5eda77e48ab574d8aa9b76509b365202a169b93d94c4a38246d78a5127505483');
    // Field boundaries are unambiguous: moving a character across a boundary changes the hash.
    expect(auditHash({ ...fields, actor: 'slack:U12', action: '3restore.started' })).not.toBe(
      auditHash(fields),
    );
    expect(auditHash({ ...fields, requestId: '' })).not.toBe(auditHash(fields));
  });
});

describe('audit log', () => {
  it('appends a chain that verifies, and reads it back in order', async () => {
    let t = Date.parse('2025-12-13T10:00:00.000Z');
    const { log } = await freshLog(() => {
      t += 1000;
      return new Date(t);
    });
    expect(await log.verify()).toEqual({ ok: true, rows: 0, firstBroken: null });

    const first = await log.append(event(1));
    expect(first).toMatchObject({ seq: 1, prevHash: GENESIS_HASH, ...event(1) });
    expect(first.at.toISOString()).toBe('2025-12-13T10:00:01.000Z');
    expect(first.hash).toMatch(/^[0-9a-f]{64}$/);
    await appendN(log, 4);

    expect(await log.verify()).toEqual({ ok: true, rows: 5, firstBroken: null });
    const all = await log.after(0, 100);
    expect(all.map((e) => e.seq)).toEqual([1, 2, 3, 4, 5]);
    expect(all[0]).toEqual(first);
    for (let i = 1; i < all.length; i++) expect(all[i]?.prevHash).toBe(all[i - 1]?.hash);
    expect((await log.after(2, 2)).map((e) => e.seq)).toEqual([3, 4]);
    expect(await log.after(5, 10)).toEqual([]);
  });

  it('keeps the exact data text it hashed, with unicode, nulls and awkward strings', async () => {
    const { schema, log } = await freshLog();
    const awkward = untypedEvent({
      action: 'request.denied',
      actor: 'cli:zoë',
      conversationId: null,
      requestId: null,
      data: {
        z: 1,
        a: [null, true, 1.5e300],
        s: 'tab\t nul\u0000 emoji 🚑 lone\ud800',
        nested: { b: 2, a: 1 },
      },
    });
    const entry = await log.append(awkward);
    expect((await log.verify()).ok).toBe(true);
    const stored = await fixture.db.pool.query(`SELECT data FROM ${schema}.audit_log WHERE seq = 1`);
    expect(stored.rows[0].data).toBe(JSON.stringify(awkward.data));
    expect((await log.after(0, 1))[0]).toEqual(entry);
  });

  it('refuses UPDATE, DELETE and TRUNCATE through its triggers', async () => {
    const { schema, log } = await freshLog();
    await appendN(log, 2);
    await expect(
      fixture.db.pool.query(`UPDATE ${schema}.audit_log SET data = '{}' WHERE seq = 1`),
    ).rejects.toThrow(/append-only/);
    await expect(fixture.db.pool.query(`DELETE FROM ${schema}.audit_log WHERE seq = 2`)).rejects.toThrow(
      /append-only/,
    );
    await expect(fixture.db.pool.query(`TRUNCATE ${schema}.audit_log`)).rejects.toThrow(/append-only/);
    await expect(fixture.db.pool.query(`UPDATE ${schema}.audit_head SET seq = 1`)).rejects.toThrow(
      /audit_head/,
    );
    await expect(fixture.db.pool.query(`DELETE FROM ${schema}.audit_head`)).rejects.toThrow(/audit_head/);
    expect(await log.verify()).toEqual({ ok: true, rows: 2, firstBroken: null });
  });

  it('detects a row edited with the trigger disabled', async () => {
    const { schema, log } = await freshLog();
    await appendN(log, 5);
    await fixture.db.pool.query(`ALTER TABLE ${schema}.audit_log DISABLE TRIGGER audit_log_append_only`);
    await fixture.db.pool.query(`UPDATE ${schema}.audit_log SET data = '{"source":"s3"}' WHERE seq = 3`);
    await fixture.db.pool.query(`ALTER TABLE ${schema}.audit_log ENABLE TRIGGER audit_log_append_only`);
    expect(await log.verify()).toEqual({
      ok: false,
      rows: 5,
      firstBroken: { seq: 3, problem: 'row 3: hash does not match its contents (edited?)' },
    });
  });

  it('detects an edited timestamp or actor', async () => {
    const { schema, log } = await freshLog();
    await appendN(log, 3);
    // The column keeps milliseconds only, exactly what was hashed: a finer edit cannot even be stored.
    await asTamperer(`UPDATE ${schema}.audit_log SET at = at + interval '1 microsecond' WHERE seq = 2`);
    expect((await log.verify()).ok).toBe(true);
    await asTamperer(`UPDATE ${schema}.audit_log SET at = at + interval '1 millisecond' WHERE seq = 2`);
    expect((await log.verify()).firstBroken?.seq).toBe(2);
    await asTamperer(`UPDATE ${schema}.audit_log SET at = at - interval '1 millisecond' WHERE seq = 2`);
    expect((await log.verify()).ok).toBe(true);
    await asTamperer(`UPDATE ${schema}.audit_log SET actor = 'cli:mallory' WHERE seq = 3`);
    expect((await log.verify()).firstBroken).toEqual({
      seq: 3,
      problem: 'row 3: hash does not match its contents (edited?)',
    });
  });

  it('detects a row rewritten with a recomputed hash, at the next link', async () => {
    const { schema, log } = await freshLog();
    await appendN(log, 4);
    const [row] = await log.after(1, 1);
    if (!row) throw new Error('no row 2');
    const data = '{"source":"forged"}';
    const hash = auditHash({ ...row, at: row.at.toISOString(), data });
    await asTamperer(`UPDATE ${schema}.audit_log SET data = $1, hash = $2 WHERE seq = 2`, [data, hash]);
    const result = await log.verify();
    expect(result.ok).toBe(false);
    expect(result.firstBroken?.seq).toBe(3);
    expect(result.firstBroken?.problem).toMatch(/^row 3: prev_hash does not match the hash of row 2/);
  });

  it('detects a forged row appended with a garbage hash', async () => {
    const { schema, log } = await freshLog();
    await appendN(log, 5);
    await asTamperer(
      `INSERT INTO ${schema}.audit_log VALUES (6, now(), 'cli:mallory', 'restore.succeeded', 'c-1', null, '{}', $1, $2)`,
      ['a'.repeat(64), 'b'.repeat(64)],
    );
    expect(await log.verify()).toMatchObject({ ok: false, rows: 6, firstBroken: { seq: 6 } });
  });

  it('detects a well-forged row appended without the bot, via the head', async () => {
    const { schema, log } = await freshLog();
    await appendN(log, 5);
    const [last] = await log.after(4, 1);
    if (!last) throw new Error('no row 5');
    const at = new Date().toISOString();
    const forged = {
      seq: 6,
      at,
      actor: 'cli:mallory',
      action: 'restore.succeeded',
      conversationId: 'c-1',
      requestId: null,
      data: '{}',
      prevHash: last.hash,
    };
    await asTamperer(`INSERT INTO ${schema}.audit_log VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`, [
      ...Object.values(forged),
      auditHash(forged),
    ]);
    expect(await log.verify()).toEqual({
      ok: false,
      rows: 6,
      firstBroken: {
        seq: 6,
        problem: 'the log goes on to row 6 but head says last row is 5 (rows added outside the bot?)',
      },
    });
  });

  it('detects a deleted middle row, naming the gap', async () => {
    const { schema, log } = await freshLog();
    await appendN(log, 7);
    await asTamperer(`DELETE FROM ${schema}.audit_log WHERE seq = 4`);
    expect(await log.verify()).toEqual({
      ok: false,
      rows: 6,
      firstBroken: { seq: 4, problem: 'row 5: seq 4 is missing (deleted?)' },
    });
    await asTamperer(`DELETE FROM ${schema}.audit_log WHERE seq = 5`);
    expect((await log.verify()).firstBroken).toEqual({
      seq: 4,
      problem: 'row 6: seqs 4–5 are missing (deleted?)',
    });
  });

  it('detects a deleted first row', async () => {
    const { schema, log } = await freshLog();
    await appendN(log, 3);
    await asTamperer(`DELETE FROM ${schema}.audit_log WHERE seq = 1`);
    expect((await log.verify()).firstBroken).toEqual({
      seq: 1,
      problem: 'row 2: seq 1 is missing (deleted?)',
    });
  });

  it('detects deleted last rows through the head', async () => {
    const { schema, log } = await freshLog();
    await appendN(log, 5);
    await asTamperer(`DELETE FROM ${schema}.audit_log WHERE seq = 5`);
    expect(await log.verify()).toEqual({
      ok: false,
      rows: 4,
      firstBroken: { seq: 5, problem: 'head says last row is 5 but the log ends at 4 (last rows deleted?)' },
    });
    await asTamperer(`DELETE FROM ${schema}.audit_log`);
    expect((await log.verify()).firstBroken?.problem).toBe(
      'head says last row is 5 but the log ends at 0 (last rows deleted?)',
    );
  });

  it('detects a deleted head and refuses to append without one', async () => {
    const { schema, log } = await freshLog();
    await appendN(log, 2);
    await asTamperer(`DELETE FROM ${schema}.audit_head`);
    expect((await log.verify()).firstBroken?.problem).toMatch(/audit head has 0 rows/);
    await expect(log.append(event(3))).rejects.toMatchObject({ code: 'audit_broken' });
  });

  it('keeps seq contiguous and the chain valid under 20 concurrent appends from two pools', async () => {
    const { schema, log: viaMain } = await freshLog();
    const a = new pg.Pool({ connectionString: fixture.db.url, max: 5 });
    const b = new pg.Pool({ connectionString: fixture.db.url, max: 5 });
    try {
      const logA = createAuditLog(a, schema);
      const logB = createAuditLog(b, schema);
      const entries = await Promise.all(
        Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? logA : logB).append(event(i))),
      );
      expect(entries.map((e) => e.seq).sort((x, y) => x - y)).toEqual(
        Array.from({ length: 20 }, (_, i) => i + 1),
      );
      expect(await viaMain.verify()).toEqual({ ok: true, rows: 20, firstBroken: null });
    } finally {
      await Promise.all([a.end(), b.end()]);
    }
  });

  it('verifies a log longer than one batch', async () => {
    const { schema, log } = await freshLog();
    await appendN(log, 3);
    // Extend the chain in bulk with valid rows, moving the head along, as a long-lived log would be.
    const [last] = await log.after(2, 1);
    if (!last) throw new Error('no row 3');
    let prev = last.hash;
    const rows: unknown[][] = [];
    const at = new Date('2025-12-13T10:00:00.000Z').toISOString();
    for (let seq = 4; seq <= 2_503; seq++) {
      const f = {
        seq,
        at,
        actor: 'system',
        action: 'bulk.step',
        conversationId: null,
        requestId: null,
        data: '{}',
        prevHash: prev,
      };
      prev = auditHash(f);
      rows.push([...Object.values(f), prev]);
    }
    await asTamperer(
      `INSERT INTO ${schema}.audit_log SELECT * FROM jsonb_to_recordset($1::jsonb)
         AS r(seq bigint, at timestamptz, actor text, action text, conversation_id text, request_id text, data text, prev_hash text, hash text)`,
      [
        JSON.stringify(
          rows.map(([seq, at_, actor, action, conversation_id, request_id, data, prev_hash, hash]) => ({
            seq,
            at: at_,
            actor,
            action,
            conversation_id,
            request_id,
            data,
            prev_hash,
            hash,
          })),
        ),
      ],
    );
    await asTamperer(`UPDATE ${schema}.audit_head SET seq = 2503, hash = $1`, [prev]);
    expect(await log.verify()).toEqual({ ok: true, rows: 2503, firstBroken: null });
    await asTamperer(`UPDATE ${schema}.audit_log SET action = 'x' WHERE seq = 2000`);
    expect((await log.verify()).firstBroken).toEqual({
      seq: 2000,
      problem: 'row 2000: hash does not match its contents (edited?)',
    });
  });
});
