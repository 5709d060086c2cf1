import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConversation } from '../helpers/conversations.js';
import { eventually, type Harness, startHarness } from './bot-harness.js';

/**
 * A replica at its limits, made so on purpose and not by timing: Zeus's table is locked, so
 * every inspect parks on its Postgres read holding one of the two connections commands may use.
 * Then a command admitted at the door waits for a connection and is told "busy", one more is
 * refused at the door in its ack, both are counted, and an approval still runs to the end on the
 * connections kept in reserve. Nothing is timed.
 */
let h: Harness;

beforeAll(async () => {
  h = await startHarness({
    PG_POOL_SIZE: '4',
    PG_POOL_RESERVE: '2',
    PG_POOL_WAIT_MS: '5000',
    COMMAND_CONCURRENCY: '3',
    COMMAND_QUEUE: '0',
    // The parked reads wait on a lock, which is not "still working": keep them parked.
    POSTGRES_TIMEOUT_MS: '60000',
  });
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

const text = (body: unknown) => String((body as { text?: unknown } | null)?.text ?? '');

async function parkedReads(): Promise<number> {
  const { rows } = await h.stack.db.pool.query<{ n: string }>(
    `SELECT count(*) AS n FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = 'zeus-recover' AND wait_event_type = 'Lock'`,
  );
  return Number(rows[0]?.n ?? 0);
}

describe('a replica at its limits', () => {
  it('answers busy (never unreachable), counts it, and an approval still executes', async () => {
    const parked = 'c-parked';
    const restored = 'c-approved-under-load';
    await h.stack.seed('postgres', parked, makeConversation(parked, 3));
    await h.stack.seed('redis', restored, makeConversation(restored, 1));
    await h.stack.seed('s3', restored, makeConversation(restored, 6));
    const request = await h.slash(`restore ${restored} --from s3 --reason INC-7 load`);
    expect(request.status).toBe(200);
    const approval = await h.slack.waitFor(() => h.approvalMessage(restored), 10_000, 'approval message');

    const locker = await h.stack.db.pool.connect();
    try {
      await locker.query('BEGIN');
      await locker.query('LOCK TABLE conversations IN ACCESS EXCLUSIVE MODE');
      // One inspect parks on its read, holding a connection; the next two are admitted at the
      // door, but at most one of them finds a connection (thread delivery may hold the other).
      const parkedInspect = await h.slash(`inspect ${parked}`);
      await eventually(async () => (await parkedReads()) >= 1, 'an inspect parked on the lock');
      const admitted = [await h.slash(`inspect ${parked}`), await h.slash(`inspect ${parked}`)];
      for (const a of admitted) expect(text(a.json)).toMatch(/Working on/);
      // The door is full now: refused in the ack itself, before any work.
      const refused = await h.slash(`inspect ${parked}`);
      expect(refused.status).toBe(200);
      expect(text(refused.json)).toMatch(/busy/i);
      expect(text(refused.json)).toMatch(/try again in a few seconds/i);

      // Approve is never refused for load: it and the restore it starts use the reserve.
      const click = await h.click('request_approve', approval.requestId, 'U_BOB', approval.ts);
      expect(click.status).toBe(200);
      await eventually(async () => {
        const { rows } = await h.stack.db.pool.query<{ state: string }>(
          'SELECT state FROM zeus_recover.requests WHERE id = $1',
          [approval.requestId],
        );
        return rows[0]?.state === 'succeeded';
      }, 'the approved restore to succeed while commands are refused');
      expect(await h.stack.redis.client.get(h.stack.redis.key(restored))).toBe(makeConversation(restored, 6));
      expect(
        h.slack
          .responses(click.responseId)
          .map((r) => text(r.body))
          .join(' '),
      ).not.toMatch(/busy/i);

      // An admitted command that found no connection was told so: busy, not unreachable.
      const told = await h.slack.waitFor(
        () => admitted.map((a) => h.slack.responses(a.responseId)[0]).find(Boolean),
        15_000,
        'an admitted command told busy',
      );
      expect(text(told.body)).toMatch(/busy/i);
      expect(text(told.body)).toMatch(/try again in a few seconds/i);
      expect(text(told.body)).not.toMatch(/unreachable|unexpected|timeout exceeded/i);
      expect(h.slack.responses(parkedInspect.responseId)).toEqual([]);
    } finally {
      await locker.query('ROLLBACK');
      locker.release();
    }

    // Once the lock goes, the parked inspect finishes and reports Postgres as found.
    await eventually(async () => {
      const { rows } = await h.stack.db.pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM zeus_recover.audit_log
          WHERE action = 'inspect.reported' AND conversation_id = $1
            AND (data::jsonb)->'report'->'tiers'->'postgres'->>'status' = 'found'`,
        [parked],
      );
      return Number(rows[0]?.n) >= 1;
    }, 'the parked inspect to report Postgres found');

    const metrics = await (await fetch(`${h.url()}/metrics`)).text();
    // The admitted command, and background work (thread delivery, the sweeper) that met the same
    // full pool and will try again by itself.
    const poolShed = /^zeus_recover_shed_total\{where="pool",reason="wait_timeout"\} (\d+)$/m.exec(metrics);
    expect(Number(poolShed?.[1])).toBeGreaterThanOrEqual(1);
    expect(metrics).toMatch(/^zeus_recover_shed_total\{where="command",reason="queue_full"\} 1$/m);
  }, 90_000);
});
