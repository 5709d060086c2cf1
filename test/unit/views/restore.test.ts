import { describe, expect, it } from 'vitest';
import {
  RESTORE_ACTIONS_BLOCK_ID,
  restoreFailedView,
  restoreProgressView,
  restoreResultView,
  toPlainText,
} from '../../../src/views/index.js';
import { analysis, BACKUP_ID, ID, NOW, request, restoreResult } from './fixtures.js';

const APPROVED = [{ userId: 'U0APPROVE', at: '2025-12-13T03:12:00.000Z' }];

describe('restoreResultView', () => {
  it('reads as a person sees it', () => {
    const msg = restoreResultView(restoreResult(), {
      request: request({ state: 'succeeded', approvals: APPROVED }),
    });
    expect(msg.text).toBe(
      `✅ Restored \`${ID}\` from \`postgres\`. Backup \`${BACKUP_ID}\`; undo with the button or \`/zeus-recover undo ${BACKUP_ID} --reason &lt;why&gt;\`.`,
    );
    expect(toPlainText(msg)).toMatchInlineSnapshot(`
      "✅ Restored \`c-7f3a9e\` from \`postgres\`
      +4 steps added, 1 changed, 9 unchanged
      Before
      \`77aa77aa77aa\`
      After
      \`c0ffeec0ffee\`
      Backup
      \`bk_Q2x9LmP4vT7rN1sK8wYz\`
      TTL
      6 h
      Read-back
      ✅ valid, 14 steps
      Requested by
      @U0REQUEST
      Approved by
      @U0APPROVE
      Undo puts back exactly what Redis held before: the button asks for a reason, then one approval (or type \`/zeus-recover undo bk_Q2x9LmP4vT7rN1sK8wYz --reason <why>\`).
      [Undo this restore]"
    `);
  });

  it('has one Undo button carrying only the backup id', () => {
    const msg = restoreResultView(restoreResult());
    const actions = msg.blocks.filter((b) => b.type === 'actions');
    expect(actions).toHaveLength(1);
    expect(actions[0]?.block_id).toBe(RESTORE_ACTIONS_BLOCK_ID);
    expect(actions[0]?.type === 'actions' && actions[0].elements).toEqual([
      {
        type: 'button',
        action_id: 'restore_undo',
        text: { type: 'plain_text', text: 'Undo this restore', emoji: true },
        value: BACKUP_ID,
      },
    ]);
  });

  it('warns when the copy read back is not valid', () => {
    const msg = restoreResultView(restoreResult({ validation: analysis({ valid: false }) }));
    const plain = toPlainText(msg);
    expect(plain).toContain('⚠️ Restored `c-7f3a9e` from `postgres`, but the copy read back is NOT valid');
    expect(plain).toContain('⚠️ not valid, 12 steps');
    expect(plain).toContain('/zeus-recover validate c-7f3a9e');
  });

  it('replaces the used Undo button by who undid it, to the second', () => {
    const msg = restoreResultView(restoreResult(), {
      undone: { by: 'U0REQUEST', at: '2025-12-13T03:20:07.000Z', requestId: 'rq_undo' },
      now: NOW,
    });
    expect(JSON.stringify(msg.blocks)).not.toContain('restore_undo');
    expect(toPlainText(msg)).toContain('↩️ Undone by @U0REQUEST at 03:20:07 UTC');
    expect(msg.text).not.toContain('undo with');
  });

  it('says so when an undo removed the key', () => {
    const msg = restoreResultView(
      restoreResult({ after: null, validation: null, source: `backup:${BACKUP_ID}` }),
    );
    expect(toPlainText(msg)).toContain('Removed `c-7f3a9e` from Redis');
    expect(toPlainText(msg)).toContain('Read-back\nkey removed');
  });
});

describe('restoreProgressView', () => {
  it('names the backup already taken', () => {
    const msg = restoreProgressView({
      conversationId: ID,
      source: 'postgres',
      backupId: BACKUP_ID,
      before: 'sha256:77aa77aa77aa77aa',
      after: 'sha256:c0ffeec0ffee',
      actor: 'slack:U0APPROVE',
      reason: 'failover <!here>',
    });
    expect(toPlainText(msg)).toMatchInlineSnapshot(`
      "▶️ Restoring \`c-7f3a9e\` from \`postgres\`…
      Backup \`bk_Q2x9LmP4vT7rN1sK8wYz\` taken of \`77aa77aa77aa\`; writing \`c0ffeec0ffee\`.
      By @U0APPROVE  ·  Reason: failover <!here>"
    `);
    expect(JSON.stringify(msg)).not.toContain('<!here>');
  });
});

describe('restoreFailedView', () => {
  it('says what failed, what to do, and where the old value is', () => {
    const msg = restoreFailedView(
      { message: 'Redis changed since the preview.', hint: 'Make a fresh preview.', code: 'conflict' },
      { request: request(), backupId: BACKUP_ID },
    );
    expect(msg.text).toBe('Restore of c-7f3a9e from postgres failed: Redis changed since the preview.');
    expect(toPlainText(msg)).toMatchInlineSnapshot(`
      "❌ Restore of \`c-7f3a9e\` from \`postgres\` failed
      Redis changed since the preview.
      What to do: Make a fresh preview.
      What Redis held before is kept in backup \`bk_Q2x9LmP4vT7rN1sK8wYz\`; \`/zeus-recover inspect c-7f3a9e\` shows what it holds now.  ·  Error code \`conflict\`"
    `);
  });

  it('falls back to a hint by error code (audit rows keep no hint)', () => {
    const plain = toPlainText(
      restoreFailedView({ message: 'Stale.', code: 'stale_preview' }, { conversationId: ID }),
    );
    expect(plain).toContain('What to do: Nothing was written. Make a fresh preview and decide on that.');
  });
});
