import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockText } from '../../sandbox/slack/local-slack.js';
import { cli } from '../helpers/cli.js';
import { makeConversation } from '../helpers/conversations.js';
import { eventually, type Harness, startHarness } from './bot-harness.js';

/**
 * A conversation's lock seen from Slack and the CLI: who holds it, for which request, since
 * when, and a holder that stopped renewing shown as gone. The lock rows are written as a running
 * (or killed) restore leaves them.
 */

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => h?.stop());

/** A lock row as executeRestore writes it; `leaseMs` < 0 = its lease ran out that long ago. */
async function lockHeld(id: string, holder: string, leaseMs: number): Promise<void> {
  await h.stack.db.pool.query(
    `INSERT INTO zeus_recover.locks (conversation_id, holder, token, acquired_at, expires_at)
     VALUES ($1, $2, 'e2e-token', now() - interval '2 minutes', now() + $3 * interval '1 millisecond')`,
    [id, holder, leaseMs],
  );
}

async function inspectedInThread(id: string): Promise<string> {
  await h.slash(`inspect ${id}`);
  const report = await h.slack.waitFor(
    () => h.thread(id).find((m) => m.text.startsWith('Inspect')),
    10_000,
    `inspect report for ${id}`,
  );
  return blockText(report.blocks).join('\n');
}

describe('locks you can see', () => {
  it('inspect shows who holds the lock, for which request and since when (Slack and CLI)', async () => {
    const id = 'c-lock-held';
    await h.stack.seed('redis', id, makeConversation(id, 3));
    await lockHeld(id, 'slack:UCAROL1 (request rq_11111111-2222-3333-4444-555555555555)', 5 * 60_000);
    const text = await inspectedInThread(id);
    expect(text).toMatch(
      /🔒 \*Locked\* by <@UCAROL1> for request `rq_11111111-2222-3333-4444-555555555555` since \d\d:\d\d UTC \(lease renewed until/,
    );
    expect(text).toMatch(/wait for its outcome in this thread/);
    const r = await cli(['inspect', id], h.stack.env);
    expect(r.stdout).toMatch(
      /Lock: held by slack:UCAROL1 for request rq_11111111-2222-3333-4444-555555555555 since \d{4}-\d\d-\d\dT/,
    );
    const json = await cli(['inspect', id, '--json'], h.stack.env);
    expect(JSON.parse(json.stdout).lock).toMatchObject({
      holder: 'slack:UCAROL1',
      requestId: 'rq_11111111-2222-3333-4444-555555555555',
      gone: false,
    });
  });

  it('a lock whose holder stopped renewing is shown as "holder gone since …"', async () => {
    const id = 'c-lock-gone';
    await h.stack.seed('redis', id, makeConversation(id, 3));
    await lockHeld(id, 'cli:dave', -30_000);
    const text = await inspectedInThread(id);
    expect(text).toMatch(
      /⚠️ \*Lock left behind\* by dave \(CLI\), taken .*: \*holder gone since \d\d:\d\d:\d\d UTC\*/,
    );
    expect(text).not.toMatch(/🔒/);
    const r = await cli(['inspect', id], h.stack.env);
    expect(r.stdout).toMatch(/Lock: left behind by cli:dave .*holder gone since \d{4}-/);
  });

  it('a free conversation shows no lock line', async () => {
    const id = 'c-lock-free';
    await h.stack.seed('redis', id, makeConversation(id, 3));
    expect(await inspectedInThread(id)).not.toMatch(/Lock/);
  });

  it('an approved restore meeting a live lock is refused with its holder, request and times, in the thread', async () => {
    const id = 'c-lock-refused';
    await h.stack.seed('redis', id, makeConversation(id, 2));
    await h.stack.seed('postgres', id, makeConversation(id, 6));
    const res = await h.slash(`restore ${id} --from postgres --reason INC-8 lost steps`);
    expect(res.status).toBe(200);
    const approval = await h.slack.waitFor(() => h.approvalMessage(id), 10_000, `approval for ${id}`);
    await lockHeld(id, 'slack:UCAROL1 (replay, request rq_99999999-2222-3333-4444-555555555555)', 5 * 60_000);
    await h.click('request_approve', approval.requestId, 'U_BOB', approval.ts);
    await eventually(
      async () => h.transcript(id).some((l) => /already in progress/.test(l)),
      'refusal in the thread',
      20_000,
    ).catch((err: Error) => {
      throw new Error(`${err.message}\n${h.transcript(id).join('\n')}`);
    });
    const said = h.transcript(id).find((l) => /already in progress/.test(l)) ?? '';
    expect(said).toMatch(
      /locked by slack:UCAROL1 for request rq_99999999-2222-3333-4444-555555555555 since \S+ \(lease renewed until \S+\)/,
    );
    // Nothing was written.
    const bytes = await h.stack.redis.client.get(h.stack.redis.key(id));
    expect(bytes).toBe(makeConversation(id, 2));
  });

  it('unlock from the CLI breaks a stuck lock, audited and told in the thread; with no lock it breaks nothing', async () => {
    const id = 'c-lock-break';
    await h.stack.seed('redis', id, makeConversation(id, 3));
    await inspectedInThread(id);
    await lockHeld(id, 'slack:UCAROL1 (request rq_77777777-2222-3333-4444-555555555555)', -60_000);
    const refused = await cli(['unlock', id], h.stack.env);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/unlock breaks a conversation's lock: add --yes and --reason/);
    const r = await cli(['unlock', id, '--yes', '--reason', 'INC-12 holder pod gone'], h.stack.env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(
      /Lock on c-lock-break broken \(it was held by slack:UCAROL1 for request rq_77777777-2222-3333-4444-555555555555 since /,
    );
    const { rows } = await h.stack.db.pool.query(
      'SELECT 1 FROM zeus_recover.locks WHERE conversation_id = $1',
      [id],
    );
    expect(rows).toHaveLength(0);
    const audit = await h.stack.db.pool.query<{ action: string; data: string }>(
      `SELECT action, data::text AS data FROM zeus_recover.audit_log WHERE conversation_id = $1 AND action = 'lock.broken'`,
      [id],
    );
    expect(audit.rows).toHaveLength(1);
    expect(JSON.parse(audit.rows[0]?.data ?? '{}')).toMatchObject({
      reason: 'INC-12 holder pod gone',
      lock: { holder: 'slack:UCAROL1', gone: true },
    });
    await h.slack
      .waitFor(
        () =>
          h
            .transcript(id)
            .find((l) => /Lock on .c-lock-break. broken.*holder was gone.*INC-12 holder pod gone/.test(l)),
        15_000,
        'thread: lock broken',
      )
      .catch((err: Error) => {
        throw new Error(`${err.message}\n${h.transcript(id).join('\n')}`);
      });
    const again = await cli(['unlock', id, '--yes', '--reason', 'INC-12 again'], h.stack.env);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/is not locked/);
  });
});
