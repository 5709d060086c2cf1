import { describe, expect, it } from 'vitest';
import { checkMessageLimits } from '../../../sandbox/slack/block-kit.js';
import {
  approvalMessageView,
  renderAuditEntry,
  restoreResultView,
  restoreUnknownView,
  toPlainText,
} from '../../../src/views/index.js';
import { BACKUP_ID, ID, NOW, request, restoreResult, restoreUnknown } from './fixtures.js';

const BEFORE = `sha256:${'77aa'.repeat(16)}`;
const AFTER = `sha256:${'c0ffee'.repeat(10)}c0ff`;
const APPROVED = [{ userId: 'U0APPROVE', at: '2025-12-13T03:12:00.000Z' }];

describe('a restore whose outcome is unknown', () => {
  it('says so first, names what Redis held, what each checksum means and the backup', () => {
    const msg = restoreUnknownView(
      restoreUnknown({
        before: BEFORE,
        after: AFTER,
        observedUnreadable: true,
        detail: 'Redis could not be read back after 6 tries (connection refused).',
      }),
    );
    const text = toPlainText(msg);
    expect(text.split('\n')[0]).toBe(
      `❓ Restore of \`${ID}\` from \`postgres\`: outcome unknown — check before doing anything else`,
    );
    expect(text).toContain(`/zeus-recover inspect ${ID}`);
    expect(text).toMatch(
      /`c0ffeec0ffee` in Redis means the restore landed; `77aa77aa77aa` means nothing was written/,
    );
    expect(text).toContain('could not be read');
    expect(text).toContain(`/zeus-recover undo ${BACKUP_ID}`);
    expect(msg.text).toMatch(/outcome unknown/);
    expect(checkMessageLimits(msg)).toEqual([]);
  });

  it('keeps a hostile detail inert and within Slack limits', () => {
    const msg = restoreUnknownView(
      restoreUnknown({
        before: null,
        after: AFTER,
        observed: 'sha256:9911',
        detail: `<!channel> *bold* ${'x'.repeat(20_000)}`,
      }),
    );
    expect(JSON.stringify(msg)).not.toContain('<!channel>');
    expect(checkMessageLimits(msg)).toEqual([]);
  });

  it('the approval message turns into "Outcome unknown" with what to check, and no buttons', () => {
    const req = request({
      state: 'unknown',
      approvals: APPROVED,
      result: { code: 'outcome_unknown', detail: 'Redis holds sha256:9911, neither …', backupId: BACKUP_ID },
    });
    const msg = approvalMessageView(req, { approverHint: '<@U0APPROVE>', now: NOW });
    const text = toPlainText(msg);
    expect(text).toMatch(/^# Outcome unknown: restore/);
    expect(text).toContain('❓ Outcome unknown — approved by @U0APPROVE');
    expect(text).toContain(`Check with \`/zeus-recover inspect ${ID}\` before anything else`);
    expect(text).toContain(BACKUP_ID);
    expect(JSON.stringify(msg.blocks)).not.toContain('request_approve');
    expect(checkMessageLimits(msg)).toEqual([]);
  });

  it('a write Redis acknowledged but that could not be read back says so, live and from the audit row', () => {
    const live = toPlainText(restoreResultView(restoreResult({ validation: null, verified: false })));
    expect(live).toContain('could not be read back (Redis acknowledged the write)');
    const fromAudit = renderAuditEntry({
      seq: 7,
      at: NOW,
      actor: 'slack:U0REQUEST',
      action: 'restore.succeeded',
      conversationId: ID,
      requestId: null,
      data: {
        source: 'postgres',
        backupId: BACKUP_ID,
        before: BEFORE,
        after: AFTER,
        ttlMs: null,
        valid: null,
        verified: false,
      },
    });
    expect(fromAudit).not.toBeNull();
    expect(toPlainText(fromAudit ?? { text: '', blocks: [] })).toContain(
      'could not be read back (Redis acknowledged the write)',
    );
  });
});
