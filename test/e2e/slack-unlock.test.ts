import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blockText } from '../../sandbox/slack/local-slack.js';
import { makeConversation } from '../helpers/conversations.js';
import { eventually, type Harness, privateAnswer, startHarness } from './bot-harness.js';

/**
 * `/zeus-recover unlock <id> --reason …` (break-glass) over signed HTTP to the running bot and
 * the local Slack: a request like any destructive one, approved by someone else, that breaks the
 * lock only while the lease it showed still holds it. The lock rows are written as a restore
 * whose owner died (or hangs) leaves them.
 */

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => h?.stop());

const HOLDER_REQUEST = 'rq_77777777-2222-3333-4444-555555555555';

/** A lock row as executeRestore writes it; `leaseMs` < 0 = its lease ran out that long ago. */
async function lockHeld(id: string, token: string, leaseMs: number): Promise<void> {
  await h.stack.db.pool.query(
    `INSERT INTO zeus_recover.locks (conversation_id, holder, token, acquired_at, expires_at)
     VALUES ($1, $2, $3, now() - interval '2 minutes', now() + $4 * interval '1 millisecond')`,
    [id, `slack:UCAROL1 (request ${HOLDER_REQUEST})`, token, leaseMs],
  );
}

async function lockToken(id: string): Promise<string | null> {
  const { rows } = await h.stack.db.pool.query<{ token: string }>(
    'SELECT token FROM zeus_recover.locks WHERE conversation_id = $1',
    [id],
  );
  return rows[0]?.token ?? null;
}

const privately = (responseId: string, what: RegExp) => privateAnswer(h, responseId, what);

/** Files the unlock as U_ALICE and returns its approval message (ts, request id) and its text. */
async function requested(id: string): Promise<{ ts: string; requestId: string; card: string }> {
  const res = await h.slash(`unlock ${id} --reason INC-12 holder pod hangs`);
  expect(res.status).toBe(200);
  await privately(res.responseId, /thread|Approval requested/);
  const approval = await h.slack.waitFor(() => h.approvalMessage(id), 10_000, `unlock request for ${id}`);
  const card = h.thread(id).find((m) => m.ts === approval.ts);
  return { ...approval, card: blockText(card?.blocks ?? null).join('\n') };
}

async function inThread(id: string, what: RegExp, label: string): Promise<string> {
  await eventually(async () => h.transcript(id).some((l) => what.test(l)), label, 20_000).catch(
    (err: Error) => {
      throw new Error(`${err.message}\n${h.transcript(id).join('\n')}`);
    },
  );
  return h.transcript(id).find((l) => what.test(l)) ?? '';
}

async function cardText(id: string, ts: string): Promise<string> {
  const card = h.thread(id).find((m) => m.ts === ts);
  return blockText(card?.blocks ?? null).join('\n');
}

describe('unlock from Slack (break-glass, needs approval)', () => {
  it('shows the holder, refuses self-approval, and breaks the lock once someone else approves', async () => {
    const id = 'c-unlock-slack';
    await h.stack.seed('redis', id, makeConversation(id, 3));
    await lockHeld(id, 'lease-stuck', -60_000);
    const { ts, requestId, card } = await requested(id);
    expect(card).toMatch(
      new RegExp(`Lock held by\\* <@UCAROL1> for request \`${HOLDER_REQUEST}\` since \\d\\d:\\d\\d UTC`),
    );
    expect(card).toMatch(/Holder gone\* since \d\d:\d\d:\d\d UTC/);
    expect(card).toMatch(/only if this same lease still holds it/);

    const self = await h.click('request_approve', requestId, 'U_ALICE', ts);
    expect(self.status).toBe(200);
    await privately(self.responseId, /someone else must approve it/);
    expect(await lockToken(id)).toBe('lease-stuck');

    await h.click('request_approve', requestId, 'U_BOB', ts);
    const told = await inThread(id, /Lock on .c-unlock-slack. broken/, 'thread: lock broken');
    expect(told).toMatch(/approved by (<@)?U_BOB/);
    expect(told).toMatch(/INC-12 holder pod hangs/);
    expect(await lockToken(id)).toBeNull();
    await eventually(
      async () => /🔓 Lock broken — approved by (<@)?U_BOB/.test(await cardText(id, ts)),
      'approval card: lock broken',
      15_000,
    );
    const { rows } = await h.stack.db.pool.query<{ state: string; kind: string }>(
      'SELECT state, kind FROM zeus_recover.requests WHERE id = $1',
      [requestId],
    );
    expect(rows[0]).toEqual({ state: 'succeeded', kind: 'unlock' });
    const audit = await h.stack.db.pool.query<{ data: string }>(
      `SELECT data::text AS data FROM zeus_recover.audit_log WHERE request_id = $1 AND action = 'lock.broken'`,
      [requestId],
    );
    expect(audit.rows).toHaveLength(1);
    expect(JSON.parse(audit.rows[0]?.data ?? '{}')).toMatchObject({
      reason: 'INC-12 holder pod hangs',
      lock: { holder: 'slack:UCAROL1', requestId: HOLDER_REQUEST, gone: true },
    });
  });

  it('a lock released after the request breaks nothing, and the thread says so', async () => {
    const id = 'c-unlock-released';
    await h.stack.seed('redis', id, makeConversation(id, 3));
    await lockHeld(id, 'lease-live', 5 * 60_000);
    const { ts, requestId, card } = await requested(id);
    expect(card).toMatch(/Holder still renewing/);
    // Its holder finishes and releases the lock before anyone approves.
    await h.stack.db.pool.query('DELETE FROM zeus_recover.locks WHERE conversation_id = $1', [id]);
    await h.click('request_approve', requestId, 'U_BOB', ts);
    await inThread(
      id,
      /Lock on .c-unlock-released. not broken — the lock was released meanwhile, so there was nothing to break/,
      'thread: nothing to break',
    );
    await eventually(
      async () => /Nothing broken — approved by (<@)?U_BOB.*released/.test(await cardText(id, ts)),
      'approval card: nothing broken',
      15_000,
    );
    const broken = await h.stack.db.pool.query(
      `SELECT 1 FROM zeus_recover.audit_log WHERE request_id = $1 AND action = 'lock.broken'`,
      [requestId],
    );
    expect(broken.rows).toHaveLength(0);
  });

  it('a lock taken by someone else since is left alone', async () => {
    const id = 'c-unlock-changed';
    await h.stack.seed('redis', id, makeConversation(id, 3));
    await lockHeld(id, 'lease-old', -60_000);
    const { ts, requestId } = await requested(id);
    // A new restore took the lock over (its own lease) before the approval.
    await h.stack.db.pool.query(
      `UPDATE zeus_recover.locks SET token = 'lease-new', holder = 'cli:dave', expires_at = now() + interval '5 minutes'
       WHERE conversation_id = $1`,
      [id],
    );
    await h.click('request_approve', requestId, 'U_BOB', ts);
    await inThread(id, /not broken — it changed hands .*now held by dave \(CLI\)/, 'thread: changed hands');
    expect(await lockToken(id)).toBe('lease-new');
  });

  it('with no lock held the answer is private and no request is filed', async () => {
    const id = 'c-unlock-free';
    await h.stack.seed('redis', id, makeConversation(id, 3));
    const res = await h.slash(`unlock ${id} --reason INC-12 just in case`);
    expect(res.status).toBe(200);
    await privately(res.responseId, /c-unlock-free is not locked/);
    const { rows } = await h.stack.db.pool.query(
      'SELECT 1 FROM zeus_recover.requests WHERE conversation_id = $1',
      [id],
    );
    expect(rows).toHaveLength(0);
    expect(h.root(id)).toBeUndefined();
  });
});
