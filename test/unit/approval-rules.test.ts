import { describe, expect, it } from 'vitest';
import {
  type CheckApproverInput,
  checkApprover,
  checkCanCancel,
  checkCanDeny,
  type RefusalReason,
  type RuleCheck,
} from '../../src/approval/rules.js';
import type { RecoveryRequest } from '../../src/approval/types.js';
import type { RestorePlan } from '../../src/recovery/plan.js';
import { approverHint, describeState, refusalText } from '../../src/views/approval-refusals.js';
import { errorView } from '../../src/views/errors.js';
import { formatTime } from '../../src/views/format.js';

const plan: RestorePlan = {
  conversationId: 'c-1',
  source: { kind: 'tier', tier: 'postgres' },
  sourceLabel: 'postgres',
  target: { exists: true, checksum: 'sha256:aa', bytes: 10, analysis: null },
  current: { exists: true, checksum: 'sha256:bb', bytes: 9, ttlMs: null, analysis: null },
  diff: { added: [], removed: [], changed: [], unchanged: 1, identical: false },
  diffSummary: '',
  warnings: [],
  createdAt: '2025-12-13T10:00:00.000Z',
};

function request(overrides: Partial<RecoveryRequest> = {}): RecoveryRequest {
  return {
    id: 'rq_00000000-0000-4000-8000-000000000001',
    kind: 'restore',
    conversationId: 'c-1',
    channelId: 'C1',
    requester: 'UREQ',
    reason: 'lost steps',
    plan,
    state: 'requested',
    requiredApprovals: 1,
    approvals: [],
    decidedBy: null,
    decidedAt: null,
    denyReason: null,
    createdAt: '2025-12-13T10:00:00.000Z',
    expiresAt: '2025-12-13T10:30:00.000Z',
    result: null,
    ...overrides,
  };
}

function input(overrides: Partial<CheckApproverInput> = {}): CheckApproverInput {
  return {
    request: request(),
    userId: 'UAPP',
    approverUserIds: [],
    groupMembers: null,
    requiredApprovals: 1,
    ...overrides,
  };
}

/** The rules decide (data); the view words the refusal. Together: what the person reads. */
function worded(check: RuleCheck<RefusalReason>) {
  return check.ok ? check : { ok: false, reason: check.reason, message: refusalText(check) };
}

describe('approverHint', () => {
  it('names the group and the listed people, or says anyone but the requester', () => {
    expect(approverHint({ approverUserIds: [] })).toBe('anyone except the requester');
    expect(approverHint({ approverUserIds: [], approverUsergroupId: 'S0SRE' })).toBe(
      'an approver (<!subteam^S0SRE>)',
    );
    expect(approverHint({ approverUserIds: ['U1', 'U2'], approverUsergroupId: 'S0SRE' })).toBe(
      'an approver (<!subteam^S0SRE> or <@U1>, <@U2>)',
    );
    expect(approverHint({ approverUserIds: ['U1', 'U2', 'U3', 'U4', 'U5', 'U6', 'U7'] })).toBe(
      'an approver (<@U1>, <@U2>, <@U3>, <@U4>, <@U5> +2 more)',
    );
  });
});

describe('checkApprover', () => {
  it('with nothing configured, lets anyone but the requester approve', () => {
    expect(checkApprover(input())).toEqual({ ok: true });
    const self = worded(checkApprover(input({ userId: 'UREQ' })));
    expect(self).toEqual({
      ok: false,
      reason: 'self_approval',
      message: 'You asked for this restore, so someone else must approve it. Ask a teammate.',
    });
  });

  it('refuses the requester even when they are an approver, and says whom to ask', () => {
    const r = worded(
      checkApprover(
        input({
          userId: 'UREQ',
          approverUserIds: ['UREQ', 'U2'],
          approverUsergroupId: 'S0SRE',
          groupMembers: new Set(['UREQ']),
        }),
      ),
    );
    expect(r).toMatchObject({ ok: false, reason: 'self_approval' });
    if (!r.ok)
      expect(r.message).toBe(
        'You asked for this restore, so someone else must approve it. Ask someone in <!subteam^S0SRE> or one of <@U2>.',
      );
  });

  it('accepts listed users and group members; refuses others, saying who the approvers are', () => {
    const policy = { approverUserIds: ['U1'], approverUsergroupId: 'S0SRE', groupMembers: new Set(['UGRP']) };
    expect(checkApprover(input({ ...policy, userId: 'U1' }))).toEqual({ ok: true });
    expect(checkApprover(input({ ...policy, userId: 'UGRP' }))).toEqual({ ok: true });
    const r = worded(checkApprover(input({ ...policy, userId: 'UX' })));
    expect(r).toEqual({
      ok: false,
      reason: 'not_approver',
      message:
        'You are not an approver, so you cannot approve this: approvers are listed in APPROVER_USER_IDS (<@U1>) or belong to the <!subteam^S0SRE> group. Ask one of them.',
    });
    expect(checkApprover(input({ approverUserIds: ['U1'], userId: 'UX' }))).toMatchObject({
      reason: 'not_approver',
    });
  });

  it('fails closed when the group could not be read, but still accepts listed users', () => {
    const policy = { approverUserIds: ['U1'], approverUsergroupId: 'S0SRE', groupMembers: null };
    expect(checkApprover(input({ ...policy, userId: 'U1' }))).toEqual({ ok: true });
    const r = worded(checkApprover(input({ ...policy, userId: 'UGRP' })));
    expect(r).toMatchObject({ ok: false, reason: 'group_unavailable' });
    if (!r.ok)
      expect(r.message).toBe(
        'I could not check whether you are in <!subteam^S0SRE>: Slack did not answer. Try again in a minute, or ask one of <@U1>.',
      );
  });

  it('tells someone who already approved how many more are needed', () => {
    const r = worded(
      checkApprover(
        input({
          request: request({
            requiredApprovals: 3,
            approvals: [{ userId: 'UAPP', at: '2025-12-13T10:01:00.000Z' }],
          }),
          requiredApprovals: 3,
        }),
      ),
    );
    expect(r).toMatchObject({ ok: false, reason: 'already_approved' });
    if (!r.ok) expect(r.message).toMatch(/needs 2 more approvals from someone else/);
  });

  it('says which state a closed request is in and who put it there', () => {
    const denied = request({ state: 'denied', decidedBy: 'U9', denyReason: 'wrong tier' });
    const r = worded(checkApprover(input({ request: denied })));
    expect(r).toEqual({
      ok: false,
      reason: 'not_open',
      message: `This restore (${denied.id}) is no longer waiting for approval: denied by <@U9> (wrong tier).`,
    });
  });
});

describe('describeState', () => {
  const approvals = [
    { userId: 'U1', at: '2025-12-13T10:01:00.000Z' },
    { userId: 'U2', at: '2025-12-13T10:02:00.000Z' },
  ];
  it.each([
    [request(), 'waiting for approval (0 of 1), until 2025-12-13 10:30 UTC'],
    [request({ state: 'approved', approvals }), 'approved by <@U1>, <@U2>'],
    [request({ state: 'executing', approvals }), 'approved by <@U1>, <@U2> and running now'],
    [request({ state: 'succeeded', approvals }), 'approved by <@U1>, <@U2> and finished successfully'],
    [request({ state: 'failed', approvals }), 'approved by <@U1>, <@U2> and failed'],
    [request({ state: 'expired' }), 'expired at 2025-12-13 10:30 UTC without enough approvals'],
    [request({ state: 'cancelled', decidedBy: 'UREQ' }), 'cancelled by <@UREQ>'],
    [
      request({ state: 'cancelled', decidedBy: 'system', denyReason: 'preview went stale: Redis changed' }),
      'cancelled: preview went stale: Redis changed',
    ],
  ])('%#', (r, text) => {
    expect(describeState(r)).toBe(text);
  });

  it('escapes reasons, so they cannot ping a channel or hide a link', () => {
    const r = request({
      state: 'denied',
      decidedBy: 'U9',
      denyReason: '<!channel> see <https://evil|docs> & co',
    });
    expect(describeState(r)).toBe(
      'denied by <@U9> (&lt;!channel&gt; see &lt;https://evil|docs&gt; &amp; co)',
    );
  });

  it('reaches the reader escaped once, with the mention live', () => {
    const r = request({ state: 'denied', decidedBy: 'U09DENY', denyReason: '<!channel> R&D &lt;' });
    const shown = errorView({ message: refusalText({ reason: 'not_open', request: r }), mentions: true });
    expect(shown.text).toContain('denied by <@U09DENY> (&lt;!channel&gt; R&amp;D &amp;lt;)');
  });

  it('formats times for Slack and terminals alike', () => {
    expect(formatTime('2025-12-13T10:30:59.999Z')).toBe('2025-12-13 10:30 UTC');
  });
});

describe('checkCanCancel', () => {
  it('lets only the requester cancel, and only while it waits', () => {
    expect(checkCanCancel(request(), 'UREQ')).toEqual({ ok: true });
    expect(worded(checkCanCancel(request(), 'UAPP'))).toEqual({
      ok: false,
      reason: 'not_requester',
      message: 'Only <@UREQ>, who asked for this restore, can cancel it. To stop it, deny it with a reason.',
    });
    expect(checkCanCancel(request({ state: 'approved' }), 'UREQ')).toMatchObject({
      ok: false,
      reason: 'not_open',
    });
  });
});

describe('checkCanDeny', () => {
  it('lets approvers deny (even after approving), points the requester at cancel', () => {
    const policy = { approverUserIds: ['U1'] };
    expect(checkCanDeny(input({ ...policy, userId: 'U1' }))).toEqual({ ok: true });
    const approvedOnce = request({
      requiredApprovals: 2,
      approvals: [{ userId: 'U1', at: '2025-12-13T10:01:00.000Z' }],
    });
    expect(checkCanDeny(input({ ...policy, userId: 'U1', request: approvedOnce }))).toEqual({ ok: true });
    expect(checkCanDeny(input({ ...policy, userId: 'UX' }))).toMatchObject({
      ok: false,
      reason: 'not_approver',
    });
    expect(checkCanDeny(input({ userId: 'UREQ' }))).toMatchObject({ ok: false, reason: 'own_request' });
    expect(checkCanDeny(input({ request: request({ state: 'expired' }) }))).toMatchObject({
      ok: false,
      reason: 'not_open',
    });
  });
});
