import { describe, expect, it } from 'vitest';
import { checkHomeLimits, checkMessageLimits } from '../../../sandbox/slack/block-kit.js';
import { blockText } from '../../../sandbox/slack/local-slack.js';
import type { RecoveryRequest } from '../../../src/approval/types.js';
import type { UnlockPlan } from '../../../src/recovery/unlock.js';
import { approvalMessageView } from '../../../src/views/approval.js';
import { homeView } from '../../../src/views/home.js';
import { requestSettledView } from '../../../src/views/settled.js';
import { HOSTILE, ID, NOW, request } from './fixtures.js';

const hint = 'an approver (<@U0BOB>)';

function unlockPlan(over: Partial<UnlockPlan['lock']> = {}): UnlockPlan {
  return {
    conversationId: ID,
    lock: {
      holder: 'slack:U0CAROL',
      requestId: 'rq_11111111-2222-3333-4444-555555555555',
      since: '2025-12-13T03:00:00.000Z',
      expiresAt: '2025-12-13T03:05:00.000Z',
      gone: true,
      ...over,
    },
    token: 'lease-token-never-shown',
    createdAt: '2025-12-13T03:10:30.000Z',
  };
}

function unlock(over: Partial<RecoveryRequest> = {}): RecoveryRequest {
  return request({ kind: 'unlock', plan: unlockPlan(), reason: 'INC-12 holder pod hangs', ...over });
}

const text = (view: { blocks: unknown[] }) => blockText(view.blocks).join('\n');

describe('an unlock request (break-glass)', () => {
  it('shows who holds the lock, since when, for which request, and that its holder is gone; never the lease', () => {
    const view = approvalMessageView(unlock(), { approverHint: hint, now: NOW });
    const t = text(view);
    expect(t).toContain('Approval needed: unlock c-7f3a9e (break-glass)');
    expect(t).toContain(
      '*Lock held by* <@U0CAROL> for request `rq_11111111-2222-3333-4444-555555555555` since 03:00 UTC',
    );
    expect(t).toContain('⚠️ *Holder gone* since 03:05:00 UTC');
    expect(t).toContain('only if this same lease still holds it');
    expect(JSON.stringify(view)).not.toContain('lease-token-never-shown');
    expect(checkMessageLimits(view)).toEqual([]);
  });

  it('says a live holder stops at its next renewal', () => {
    const req = unlock({ plan: unlockPlan({ gone: false, holder: `cli:${HOSTILE}` }) });
    const view = approvalMessageView(req, { approverHint: hint, now: NOW });
    expect(text(view)).toContain('🔒 *Holder still renewing*');
    expect(checkMessageLimits(view)).toEqual([]);
  });

  it('once run, the card says the lock was broken, or why nothing was', () => {
    const approvals = [{ userId: 'U0BOB', at: '2025-12-13T03:10:50.000Z' }];
    const done = approvalMessageView(unlock({ state: 'succeeded', approvals }), {
      approverHint: hint,
      now: NOW,
    });
    expect(text(done)).toContain('🔓 Lock broken — approved by <@U0BOB>');
    const none = approvalMessageView(
      unlock({
        state: 'failed',
        approvals,
        result: {
          error: 'The lock on c-7f3a9e was released since it was looked at; there was nothing to break.',
        },
      }),
      { approverHint: hint, now: NOW },
    );
    expect(text(none)).toContain('⏹️ Nothing broken — approved by <@U0BOB>');
    expect(text(none)).toContain('released since it was looked at');
  });

  it("is listed in App Home's open requests", () => {
    const view = homeView({
      viewer: 'U0BOB',
      now: NOW,
      open: [{ request: unlock({ requester: 'U0ALICE' }), link: null, mayApprove: true }],
      moreOpen: false,
      bulk: [],
      recent: [],
      limits: null,
      approverHint: hint,
    });
    expect(text(view)).toContain('the unlock of `c-7f3a9e`');
    expect(checkHomeLimits(view)).toEqual([]);
  });

  it('settled after a crash, it speaks of the lock, not of Redis', () => {
    const settled = (outcome: 'succeeded' | 'failed' | 'unknown') =>
      text(
        requestSettledView(
          {
            request: unlock({ state: outcome }),
            outcome,
            reached: 'write',
            observed: null,
            before: null,
            after: null,
            backupId: null,
            leaseExpiredAt: null,
            detail: 'From the audit log.',
          },
          { now: NOW },
        ),
      );
    expect(settled('unknown')).toContain('*whether it broke the lock is not known*');
    expect(settled('unknown')).toContain('whether the lock is still held');
    expect(settled('unknown')).not.toContain('Redis');
    expect(settled('succeeded')).toContain('*broken the lock*');
    expect(settled('failed')).toContain('*nothing was broken*');
  });
});
