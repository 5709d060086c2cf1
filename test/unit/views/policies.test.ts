import { describe, expect, it } from 'vitest';
import { checkMessageLimits, checkModalLimits } from '../../../sandbox/slack/block-kit.js';
import { blockText } from '../../../sandbox/slack/local-slack.js';
import { assignGroup, checkBreakGlass, checkStepUp } from '../../../src/approval/policies.js';
import { approvalMessageView } from '../../../src/views/approval.js';
import {
  alreadyReviewedText,
  breakerOpenText,
  breakerResetApprovedView,
  breakerResetRequestView,
  breakGlassModal,
  breakGlassRefusalText,
  breakGlassView,
  bulkBreakGlassView,
  groupProgressText,
  groupRefusalText,
  hourlyLimitText,
  stepUpErrorText,
  stepUpModal,
} from '../../../src/views/policies.js';
import { HOSTILE, HUGE_REASON, request } from './fixtures.js';

const now = new Date('2025-12-13T03:30:00.000Z');
const manyGroups = Array.from({ length: 12 }, (_, i) => `S0GROUP${i}`);

describe('approval policy views', () => {
  it('the forms stay within Slack limits with hostile and huge input', () => {
    const operation = `restore ${HOSTILE}${HUGE_REASON}`;
    expect(
      checkModalLimits(stepUpModal({ id: `rq_${'9'.repeat(100)}`, operation, what: 'request' })),
    ).toEqual([]);
    expect(checkModalLimits(stepUpModal({ id: 'bj_x', operation, what: 'bulk' }))).toEqual([]);
    expect(checkModalLimits(breakGlassModal(`rq_${'9'.repeat(100)}`, operation, 20))).toEqual([]);
  });

  it('the thread messages stay within limits, and user text is escaped', () => {
    const req = request({
      state: 'approved',
      reason: HUGE_REASON,
      breakGlassReason: HOSTILE + HUGE_REASON,
      needsReview: true,
      approverGroups: manyGroups,
    });
    const notice = breakGlassView(
      { request: req, reason: HOSTILE + HUGE_REASON, notify: `an approver (${'<@U0BOB>, '.repeat(400)})` },
      now,
    );
    expect(checkMessageLimits(notice)).toEqual([]);
    expect(JSON.stringify(notice.blocks)).not.toContain('<!channel>');
    const reset = breakerResetRequestView({
      resetId: 'br_1',
      requester: 'U0ALICE',
      reason: HOSTILE + HUGE_REASON,
      failuresInARow: 3,
      state: 'requested',
    });
    expect(checkMessageLimits(reset)).toEqual([]);
    expect(JSON.stringify(reset.blocks)).not.toContain('<!channel>');
    expect(
      checkMessageLimits(
        breakerResetApprovedView({
          resetId: 'br_1',
          requester: 'U0A',
          reason: HUGE_REASON,
          approvedBy: 'U0B',
        }),
      ),
    ).toEqual([]);
    expect(checkMessageLimits(approvalMessageView(req, { approverHint: 'x', now }))).toEqual([]);
  });

  it('a reviewed break-glass notice has no Mark reviewed button: who reviewed it and when instead', () => {
    const req = request({ state: 'succeeded', breakGlassReason: HUGE_REASON, needsReview: true });
    const data = {
      request: req,
      reason: HOSTILE + HUGE_REASON,
      notify: `an approver (${'<@U0BOB>, '.repeat(400)})`,
    };
    const reviewed = { by: 'U0BOB', at: '2025-12-13T03:41:07.512Z' };
    const bulk = {
      jobId: 'bj_1',
      total: 10_000,
      requester: 'U0ALICE',
      reason: HOSTILE + HUGE_REASON,
      decidedAt: '2025-12-13T03:20:00.000Z',
      notify: data.notify,
    };
    for (const [before, after] of [
      [breakGlassView(data, now), breakGlassView(data, now, reviewed)],
      [bulkBreakGlassView(bulk, now), bulkBreakGlassView(bulk, now, reviewed)],
    ] as const) {
      expect(JSON.stringify(before.blocks)).toContain('request_mark_reviewed');
      expect(JSON.stringify(after.blocks)).not.toContain('request_mark_reviewed');
      const shown = blockText(after.blocks).join(' ');
      expect(shown).toContain('Reviewed by <@U0BOB> at 03:41:07 UTC');
      expect(shown).not.toContain('please review it');
      expect(after.text).toMatch(/reviewed by <@U0BOB>$/);
      expect(checkMessageLimits(after)).toEqual([]);
      expect(JSON.stringify(after.blocks)).not.toContain('<!channel>');
    }
    expect(alreadyReviewedText('request', 'U0BOB', new Date(reviewed.at), now)).toBe(
      'Already reviewed by <@U0BOB> at 03:41:07 UTC: this break-glass request is no longer flagged. Nothing was done.',
    );
    expect(alreadyReviewedText('bulk restore', 'U0BOB', null, now)).toBe(
      'Already reviewed by <@U0BOB>: this break-glass bulk restore is no longer flagged. Nothing was done.',
    );
  });

  it('the approval message says which groups have their approval and which is missing', () => {
    const req = request({
      approverGroups: ['S0ONCALL', 'S0DBA'],
      requiredApprovals: 2,
      approvals: [{ userId: 'U0CAROL', at: '2025-12-13T03:12:00.000Z', groupId: 'S0ONCALL' }],
    });
    expect(groupProgressText(req)).toBe(
      '👥 Counted for <!subteam^S0ONCALL> by <@U0CAROL>. Still missing: an approval from a member of <!subteam^S0DBA>.',
    );
    expect(groupProgressText(request())).toBeNull();
  });

  it('refusals say what happened and what to do next', () => {
    const members = new Map([
      ['S0ONCALL', new Set(['U0CAROL', 'U0ERIN'])],
      ['S0DBA', new Set(['U0FRANK'])],
    ]);
    const taken = assignGroup(['S0ONCALL', 'S0DBA'], members, ['S0ONCALL'], 'U0ERIN');
    if (taken.ok) throw new Error('expected a refusal');
    expect(groupRefusalText(taken)).toBe(
      'Your approval does not count: <!subteam^S0ONCALL> already has its approval, and this request needs one from each group. Still missing: a member of <!subteam^S0DBA> — ask one of them to approve.',
    );
    const outsider = assignGroup(['S0ONCALL', 'S0DBA'], members, [], 'U0MALLORY');
    if (outsider.ok) throw new Error('expected a refusal');
    expect(groupRefusalText(outsider)).toMatch(/you are in none of them\. Ask someone in/);

    const wrong = checkStepUp('c-1', 'c-2');
    if (wrong.ok) throw new Error('expected a refusal');
    expect(stepUpErrorText(wrong, 'request')).toBe(
      'That is not the conversation id of this request (c-1), so your approval was not counted. Check you are approving the request you mean.',
    );
    const short = checkBreakGlass({ enabled: true, requester: 'U1', userId: 'U1', reason: 'asleep' });
    if (short.ok) throw new Error('expected a refusal');
    expect(breakGlassRefusalText(short)).toBe(
      'Say more: a break-glass reason needs at least 20 characters (this one has 6). Nothing was approved.',
    );
    expect(hourlyLimitText(5, 5, '2025-12-13T04:10:00.000Z', now).message).toBe(
      'Not opened: 5 destructive requests were opened in the last hour, and the limit is 5 (MAX_DESTRUCTIVE_PER_HOUR). The next slot frees at 04:10 UTC (in 40 min).',
    );
    expect(breakerOpenText(3, 3).hint).toMatch(/breaker-reset --reason/);
  });
});
