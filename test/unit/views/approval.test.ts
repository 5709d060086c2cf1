import { describe, expect, it } from 'vitest';
import type { RecoveryRequest, RequestState } from '../../../src/approval/types.js';
import { ACTION_IDS } from '../../../src/slack-ids.js';
import {
  approvalDecidedView,
  approvalRequestView,
  decisionReplyView,
  type KnownBlock,
  REQUEST_ACTIONS_BLOCK_ID,
  toPlainText,
} from '../../../src/views/index.js';
import {
  BACKUP_ID,
  HOSTILE,
  ID,
  inspectSummary,
  NOW,
  plan,
  REQUEST_ID,
  replayRequest,
  request,
} from './fixtures.js';

const ctx = { approverHint: 'someone in <!subteam^S0APPROVE|@zeus-approvers>', now: NOW };
const actionsOf = (blocks: KnownBlock[]) => blocks.filter((b) => b.type === 'actions');
const buttons = (blocks: KnownBlock[]) => {
  const actions = actionsOf(blocks)[0];
  return actions?.type === 'actions' ? actions.elements : [];
};
const APPROVED = [{ userId: 'U0APPROVE', at: '2025-12-13T03:12:00.000Z' }];

describe('approvalRequestView', () => {
  it('reads as a person sees it', () => {
    const msg = approvalRequestView(request(), { ...ctx, inspect: inspectSummary() });
    expect(msg.text).toBe(
      'Approval needed: restore c-7f3a9e from postgres — requested by <@U0REQUEST>, expires at 03:41 UTC. Reason: Redis lost steps 9–11 after the failover; Postgres has all 14.',
    );
    expect(toPlainText(msg)).toMatchInlineSnapshot(`
      "# Approval needed: restore c-7f3a9e from postgres
      Requested by
      @U0REQUEST
      Conversation
      \`c-7f3a9e\`
      Source
      \`postgres\`
      Requested at
      03:11 UTC
      Reason
      >Redis lost steps 9–11 after the failover; Postgres has all 14.
      Redis now: 9 steps · \`77aa77aa77aa\` · 4.2 KB · ⚠️ not valid · TTL 6 h
      Will hold: 14 steps · \`c0ffeec0ffee\` · 4.9 KB
      Change: +4 steps added, 1 changed, 9 unchanged
      Redis ⚠️ 9 steps  ·  PostgreSQL ✅ 14 steps  ·  S3 🔌 unreachable
      ⏳ Expires at 03:41 UTC, in 30 min.
      Needs 1 approval from someone in @zeus-approvers (not the requester).
      [Approve] (primary) [Deny] (danger) [Cancel request]
      Request \`rq_8d4a5c2e-6f1b-4c3a-9e7d-2b1f0a9c8d7e\`"
    `);
  });

  it('offers Approve (with a confirm), Deny and Cancel, carrying only the request id', () => {
    const msg = approvalRequestView(request(), ctx);
    const actions = actionsOf(msg.blocks);
    expect(actions).toHaveLength(1);
    expect(actions[0]?.block_id).toBe(REQUEST_ACTIONS_BLOCK_ID);
    const [approve, deny, cancel] = buttons(msg.blocks);
    expect(approve).toMatchObject({ action_id: 'request_approve', style: 'primary', value: REQUEST_ID });
    expect(approve).toHaveProperty('confirm.confirm.text', 'Approve');
    expect(approve).toHaveProperty('confirm.text.type', 'plain_text');
    expect(deny).toMatchObject({ action_id: 'request_deny', style: 'danger', value: REQUEST_ID });
    expect(cancel).toMatchObject({ action_id: 'request_cancel', value: REQUEST_ID });
    expect(cancel).not.toHaveProperty('style');
    for (const b of buttons(msg.blocks)) {
      expect(ACTION_IDS).toContain(b.action_id);
      // Never who asked or who may approve: the actor comes from Slack's signed payload.
      expect(JSON.stringify(b)).not.toContain('U0REQUEST');
    }
  });

  it('shows the reason literally, quoted, and pings nobody', () => {
    const msg = approvalRequestView(request({ reason: `${HOSTILE}\n✅ Approved by <@U0BOSS>` }), ctx);
    const all = JSON.stringify(msg);
    expect(all).not.toContain('<!channel>');
    expect(all).not.toContain('<@U0BOSS>');
    expect(toPlainText(msg)).toContain('>✅ Approved by <@U0BOSS>');
  });

  it('names the operation for undo and replay', () => {
    const undo = request({
      kind: 'undo',
      plan: plan({ source: { kind: 'backup', backupId: BACKUP_ID }, sourceLabel: `backup:${BACKUP_ID}` }),
    });
    expect(toPlainText(approvalRequestView(undo, ctx).blocks)).toMatch(
      `# Approval needed: undo ${BACKUP_ID} on ${ID}`,
    );
    const replay = approvalRequestView(replayRequest(), ctx);
    expect(toPlainText(replay.blocks)).toMatch(`# Approval needed: replay ${ID} from step 5`);
    expect(toPlainText(replay.blocks)).not.toContain('Will hold');
  });

  it('keeps the buttons on a partial approval and says who approved so far', () => {
    const msg = approvalRequestView(request({ requiredApprovals: 2, approvals: APPROVED }), ctx);
    expect(actionsOf(msg.blocks)).toHaveLength(1);
    const plain = toPlainText(msg);
    expect(plain).toContain('Approved so far by @U0APPROVE (1 of 2).');
    expect(plain).toContain('Needs 1 more approval from someone in @zeus-approvers (not the requester).');
  });

  it('drops the buttons once the expiry has passed, even before the state says so', () => {
    const msg = approvalRequestView(request(), { ...ctx, now: new Date('2025-12-13T03:45:00.000Z') });
    expect(actionsOf(msg.blocks)).toHaveLength(0);
    expect(toPlainText(msg)).toContain('⌛ Expired at 03:41 UTC — nobody approved within 30 min');
  });
});

describe('the Done card: what Redis holds now, beside what it held before', () => {
  const done = (result: Record<string, unknown>) =>
    toPlainText(
      approvalDecidedView(request({ state: 'succeeded', approvals: APPROVED, result }), {
        ...ctx,
        now: new Date('2025-12-13T03:13:00.000Z'),
      }),
    );

  it('says "Redis now" only for what the restore left there, never the stale preview', () => {
    const after = plan().target.checksum;
    const text = done({ backupId: BACKUP_ID, after, valid: true });
    expect(text).toContain('Redis before: 9 steps · `77aa77aa77aa` · 4.2 KB · ⚠️ not valid · TTL 6 h');
    expect(text).toContain('Redis now: 14 steps · `c0ffeec0ffee` · 4.9 KB · ✅ valid');
    expect(text).not.toContain('Will hold');
  });

  it('says so when Redis holds something else than the copy planned', () => {
    const text = done({ backupId: BACKUP_ID, after: 'sha256:dddddddddddddddd', valid: true });
    expect(text).toContain('Redis now: `dddddddddddd` · ✅ valid (not the copy planned');
  });

  it('keeps "Redis now" and "Will hold" while the request waits', () => {
    const text = toPlainText(approvalRequestView(request(), ctx));
    expect(text).toContain('Redis now: 9 steps');
    expect(text).toContain('Will hold: 14 steps');
  });
});

describe('approvalDecidedView', () => {
  const decided = (over: Partial<RecoveryRequest>) =>
    approvalDecidedView(
      request({
        approvals: APPROVED,
        decidedBy: 'U0APPROVE',
        decidedAt: '2025-12-13T03:12:00.000Z',
        ...over,
      }),
      ctx,
    );

  const rows: Array<[RequestState, Partial<RecoveryRequest>, string, string]> = [
    ['approved', {}, '# Approved: restore', '✅ Approved by @U0APPROVE at 03:12 UTC — starting now'],
    ['executing', {}, '# Executing: restore', '▶️ Executing… (approved by @U0APPROVE at 03:12 UTC)'],
    [
      'succeeded',
      { result: { backupId: BACKUP_ID } },
      '# Done: restore',
      '✅ Done — approved by @U0APPROVE at 03:12 UTC. To undo it, use Undo on the result in the thread.',
    ],
    ['failed', { result: { error: 'Redis changed' } }, '# Failed: restore', '❌ Failed: Redis changed'],
    [
      'denied',
      { denyReason: 'Zeus is still writing <!here>' },
      '# Denied: restore',
      '❌ Denied by @U0APPROVE at 03:12 UTC: Zeus is still writing <!here>',
    ],
    [
      'expired',
      { approvals: [] },
      '# Expired: restore',
      '⌛ Expired at 03:41 UTC — nobody approved within 30 min; ask again with `/zeus-recover restore c-7f3a9e --from postgres --reason <why>`',
    ],
    [
      'cancelled',
      { decidedBy: 'U0REQUEST' },
      '# Cancelled: restore',
      '🚫 Cancelled by @U0REQUEST at 03:12 UTC',
    ],
    [
      // Cancelled by the bot: the card says why, not only who.
      'cancelled',
      { decidedBy: 'system', denyReason: 'preview went stale: Redis changed since the preview' },
      '# Cancelled: restore',
      '🚫 Cancelled by the bot at 03:12 UTC: preview went stale: Redis changed since the preview',
    ],
  ];
  it.each(rows)('%s: the buttons are replaced by the outcome', (state, over, title, line) => {
    const msg = decided({ state, ...over });
    // The decision buttons are gone; an expired request offers only Renew (a fresh request).
    const ids = [...JSON.stringify(msg.blocks).matchAll(/"action_id":"([a-z_]+)"/g)].map((m) => m[1]);
    expect(ids).toEqual(state === 'expired' ? ['request_renew'] : []);
    const plain = toPlainText(msg);
    expect(plain.startsWith(title)).toBe(true);
    expect(plain).toContain(line);
    expect(plain).not.toContain('Needs 1 approval');
    expect(JSON.stringify(msg)).not.toContain('<!here>');
  });

  it('reads as a person sees it when denied', () => {
    expect(
      toPlainText(decided({ state: 'denied', denyReason: 'Zeus is still writing' }).blocks.slice(-2)),
    ).toMatchInlineSnapshot(`
      "❌ Denied by @U0APPROVE at 03:12 UTC: Zeus is still writing
      Request \`rq_8d4a5c2e-6f1b-4c3a-9e7d-2b1f0a9c8d7e\`"
    `);
  });
});

describe('decisionReplyView', () => {
  it.each([
    [
      { kind: 'approved', request: request({ approvals: APPROVED }), by: 'slack:U0APPROVE', at: NOW },
      '✅ @U0APPROVE approved the restore of `c-7f3a9e` from `postgres` at 03:11 UTC — running it now.',
    ],
    [
      { kind: 'approved', request: request({ requiredApprovals: 2 }), by: 'U0APPROVE', at: NOW },
      '👍 @U0APPROVE approved the restore of `c-7f3a9e` from `postgres` at 03:11 UTC (1 of 2) — needs 1 more approval.',
    ],
    [
      { kind: 'denied', request: request(), by: 'U0APPROVE', at: NOW, reason: '<!channel> not now' },
      // The requester is mentioned: the deny form promises the reason is shown to them.
      '❌ @U0APPROVE denied the restore of `c-7f3a9e` from `postgres` at 03:11 UTC: <!channel> not now. Nothing was changed. @U0REQUEST, ask again once that is settled.',
    ],
    [
      { kind: 'cancelled', request: request(), by: 'U0REQUEST', at: NOW },
      '🚫 @U0REQUEST cancelled the restore of `c-7f3a9e` from `postgres` at 03:11 UTC. Nothing was changed.',
    ],
    [
      { kind: 'cancelled', request: request(), by: 'U0REQUEST', at: NOW, reason: 'Redis came back' },
      '🚫 @U0REQUEST cancelled the restore of `c-7f3a9e` from `postgres` at 03:11 UTC: Redis came back. Nothing was changed.',
    ],
    [
      { kind: 'expired', request: request() },
      '⌛ Expired at 03:41 UTC — nobody approved within 30 min; ask again with `/zeus-recover restore c-7f3a9e --from postgres --reason <why>`. Nothing was changed.',
    ],
    [
      { kind: 'stale', request: request(), detail: null },
      '🔄 The preview went stale: Redis or the source changed since the preview at 03:10 UTC. A fresh preview follows. Nothing was changed.',
    ],
    [
      { kind: 'stale', request: request(), detail: 'The s3 copy changed (`aa` → `bb`)' },
      '🔄 The preview went stale: The s3 copy changed (`aa` → `bb`). A fresh preview follows. Nothing was changed.',
    ],
    [
      // No fresh plan could be made: the thread must not promise one.
      {
        kind: 'stale',
        request: request(),
        detail: 'Redis already holds exactly this copy of c-7f3a9e (sha256:ab12).',
        refreshed: false,
      },
      '🔄 The preview went stale: Redis already holds exactly this copy of c-7f3a9e (sha256:ab12). No fresh preview: there is nothing to approve now. Nothing was changed. `/zeus-recover inspect c-7f3a9e` shows where it stands.',
    ],
  ] as const)('%# renders its sentence', (event, expected) => {
    const msg = decisionReplyView(event, { now: NOW });
    expect(toPlainText(msg).split('\n')[0]).toBe(expected);
    expect(JSON.stringify(msg)).not.toContain('<!channel>');
  });
});
