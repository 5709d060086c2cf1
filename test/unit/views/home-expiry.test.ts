import { describe, expect, it } from 'vitest';
import { checkHomeLimits, checkMessageLimits } from '../../../sandbox/slack/block-kit.js';
import { blockText } from '../../../sandbox/slack/local-slack.js';
import { approvalDecidedView } from '../../../src/views/approval.js';
import {
  bulkExpiryWarningView,
  expiryWarningView,
  renewalChangeWarning,
  renewedView,
} from '../../../src/views/expiry.js';
import { type HomeData, type HomeLimits, homeView } from '../../../src/views/home.js';
import { HOSTILE, hugeRequest, LONG_ID, NOW, request } from './fixtures.js';

const hint = 'an approver (<@U0BOB> or <!subteam^S0APPROVE|@zeus-approvers>)';
const hugeHint = `the on-call <!subteam^S0APPROVE|@zeus-approvers> <!channel> ${HOSTILE} `.repeat(200);

const limits = (
  over: Partial<HomeLimits['hourly']> = {},
  breaker: Partial<HomeLimits['breaker']> = {},
): HomeLimits => ({
  hourly: { max: 10, used: 3, freesAt: null, ...over },
  breaker: { threshold: 3, failuresInARow: 1, open: false, resetPending: null, ...breaker },
});

function home(over: Partial<HomeData> = {}): HomeData {
  return {
    viewer: 'U0BOB',
    now: NOW,
    open: [
      {
        request: request({ requester: 'U0ALICE' }),
        link: 'https://zeus.slack.com/archives/C1/p1',
        mayApprove: true,
      },
    ],
    moreOpen: false,
    bulk: [],
    recent: [],
    limits: limits(),
    approverHint: hint,
    ...over,
  };
}

const text = (view: { blocks: unknown[] }) => blockText(view.blocks).join('\n');

describe('App Home view', () => {
  it('shows what the viewer may approve apart from what others wait for', () => {
    const mine = request({ id: 'rq_mine', conversationId: 'c-mine', requester: 'U0ALICE' });
    const theirs = request({ id: 'rq_theirs', conversationId: 'c-theirs', requester: 'U0BOB' });
    const view = homeView(
      home({
        open: [
          { request: mine, link: null, mayApprove: true },
          { request: theirs, link: null, mayApprove: false },
        ],
      }),
    );
    const [forYou] = blockText(view.blocks).filter((t) => t.startsWith('*For you to approve*'));
    expect(forYou).toContain('`c-mine`');
    expect(forYou).not.toContain('`c-theirs`');
    expect(text(view)).toContain('*Open requests* (2)');
    expect(text(view)).toContain('_thread not posted yet_');
    expect(checkHomeLimits(view)).toEqual([]);
  });

  it('names the approver groups still missing (APPROVER_GROUPS)', () => {
    const view = homeView(
      home({
        open: [
          {
            request: request({ requester: 'U0ALICE', requiredApprovals: 2 }),
            link: null,
            mayApprove: false,
            missingGroups: ['S0DBA', 'S0SRE'],
          },
        ],
      }),
    );
    expect(text(view)).toContain(
      'waits for 2 approvals from a member of <!subteam^S0DBA> and of <!subteam^S0SRE>',
    );
    expect(text(view)).toContain('Nothing waits for your approval.');
  });

  it('says the hourly limit is reached and when it frees, and that the breaker is open with its pending reset', () => {
    const view = homeView(
      home({
        limits: limits(
          { used: 10, freesAt: '2025-12-13T03:40:00.000Z' },
          { open: true, failuresInARow: 3, resetPending: { id: 'br_1', requester: 'U0DAVE', reason: 'x' } },
        ),
      }),
    );
    expect(text(view)).toContain('*10 of 10* — limit reached, the next slot frees in 29 min (03:40 UTC)');
    expect(text(view)).toContain('🛑 *Circuit breaker open*: 3 failed restores in a row');
    expect(text(view)).toContain('A reset asked by <@U0DAVE> waits for approval (`br_1`)');
    expect(text(homeView(home({ limits: null })))).toContain('could not be read just now');
  });

  it('stays within the Home tab limits with huge and hostile input', () => {
    const huge = hugeRequest({ conversationId: LONG_ID, requester: 'U0ALICE' });
    const many = Array.from({ length: 40 }, () => ({
      request: huge,
      link: `https://x/${'y'.repeat(3000)}`,
      mayApprove: true,
    }));
    const job = {
      job: {
        jobId: `bj_${'z'.repeat(20)}`,
        state: 'pending',
        total: 1e9,
        requester: HOSTILE,
        expiresAt: NOW.toISOString(),
      },
      done: 5e8,
      failed: 12345,
      updatedAt: NOW.toISOString(),
      link: 'javascript:alert(1)',
      mayApprove: true,
    };
    const view = homeView(
      home({
        open: many,
        moreOpen: true,
        recent: many,
        bulk: Array.from({ length: 40 }, () => job),
        approverHint: hugeHint,
      }),
    );
    expect(checkHomeLimits(view)).toEqual([]);
    // Only http(s) links become links; a hostile "link" is not one.
    expect(JSON.stringify(view)).not.toContain('javascript:');
    expect(JSON.stringify(view)).not.toContain('<!channel>');
  });
});

describe('expiry warning and renewal views', () => {
  it('mention the requester and the approvers, and stay within message limits with hostile input', () => {
    const warning = expiryWarningView(request({ requester: 'U0ALICE' }), hint, NOW);
    expect(warning.text).toContain(
      '<@U0ALICE>, an approver (<@U0BOB> or <!subteam^S0APPROVE|@zeus-approvers>)',
    );
    expect(warning.text).toContain('expires in 30 min');
    const huge = expiryWarningView(hugeRequest({ conversationId: LONG_ID }), hugeHint, NOW);
    expect(checkMessageLimits(huge)).toEqual([]);
    expect(JSON.stringify(huge)).not.toContain('<!channel>');
    const bulk = bulkExpiryWarningView(
      { jobId: 'bj_1', requester: 'U0ALICE', expiresAt: '2025-12-13T03:15:00.000Z', approverHint: hugeHint },
      NOW,
    );
    expect(checkMessageLimits(bulk)).toEqual([]);
    expect(bulk.text).toContain('expires in 4 min');
  });

  it('renewal: the change is said only when Redis changed, and the expired card offers Renew', () => {
    expect(renewalChangeWarning('abc', 'abc')).toBeNull();
    expect(renewalChangeWarning('aaaaaaaaaaaaaaaa', null)).toBe(
      'Redis changed since the expired request: aaaaaaaaaaaa → absent. Look at the preview again before approving.',
    );
    const note = renewedView(
      { request: hugeRequest(), renewedAs: 'rq_new', changed: HOSTILE.repeat(100) },
      'slack:U0DAVE',
    );
    expect(checkMessageLimits(note)).toEqual([]);
    const expired = approvalDecidedView(request({ state: 'expired' }), { approverHint: hint, now: NOW });
    expect(blockText(expired.blocks)).toContain('[Renew]');
    expect(checkMessageLimits(expired)).toEqual([]);
    // Renewed once: the card names the new request instead of offering Renew again.
    const renewed = approvalDecidedView(
      request({ state: 'expired', result: { renewedBy: 'U0DAVE', renewedAs: 'rq_new' } }),
      { approverHint: hint, now: NOW },
    );
    expect(blockText(renewed.blocks)).not.toContain('[Renew]');
    expect(blockText(renewed.blocks).join('\n')).toContain('🔁 Renewed as `rq_new`');
    const renewing = approvalDecidedView(request({ state: 'expired', result: { renewedBy: 'U0DAVE' } }), {
      approverHint: hint,
      now: NOW,
    });
    expect(blockText(renewing.blocks)).not.toContain('[Renew]');
    // Past its time but not yet closed by the sweep: no Renew (it would be refused).
    const pastDue = approvalDecidedView(request({ expiresAt: '2025-12-13T03:00:00.000Z' }), {
      approverHint: hint,
      now: NOW,
    });
    expect(blockText(pastDue.blocks)).not.toContain('[Renew]');
  });
});
