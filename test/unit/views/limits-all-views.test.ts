import { describe, expect, it } from 'vitest';
import { checkMessageLimits, checkModalLimits } from '../../../sandbox/slack/block-kit.js';
import { inspectJson } from '../../../src/recovery/summary.js';
import {
  approvalDecidedView,
  approvalRequestView,
  commandEchoView,
  decisionReplyView,
  denyReasonModal,
  diffView,
  errorView,
  FALLBACK_TEXT_MAX,
  helpView,
  inspectView,
  notIncidentChannelView,
  operationReasonModal,
  recoveryModal,
  replayAmbiguousView,
  replayOutcomeView,
  replayProgressView,
  restoreFailedView,
  restoreProgressView,
  restoreResultView,
  type SlackMessage,
  threadRootView,
  usageError,
  validationView,
} from '../../../src/views/index.js';
import { postedNote, workingNote } from '../../../src/views/working.js';
import {
  BACKUP_ID,
  diffReport,
  HOSTILE,
  HUGE_DETAIL,
  HUGE_REASON,
  hugeDiffReport,
  hugeInspectReport,
  hugeReplayRequest,
  hugeRequest,
  hugeValidationReport,
  ID,
  inspectSummary,
  LONG_ID,
  NOW,
  replayAmbiguous,
  replayFailedEarly,
  replayFinish,
  replayRequest,
  request,
  restoreResult,
  VIEW_STATES,
  validationReport,
  zeusRunning,
} from './fixtures.js';

const hint = 'someone in <!subteam^S0APPROVE|@zeus-approvers>';
/** Config-built, so approver mentions stay live; anything else in it is still escaped. */
const hugeHint =
  'the on-call <!subteam^S0APPROVE|@zeus-approvers> <!channel> <https://evil.example|x> '.repeat(200);
const STATES = VIEW_STATES;

const normal: Record<string, () => SlackMessage> = {
  help: () => helpView(),
  usageError: () => usageError('`inspct` is not a command.', '/zeus-recover inspect c-1'),
  error: () =>
    errorView({ message: 'Redis is unreachable: timeout.', hint: 'Try again.', code: 'tier_unreachable' }),
  notIncident: () => notIncidentChannelView('^inc-'),
  threadRoot: () => threadRootView(ID),
  commandEcho: () => commandEchoView('U0REQUEST', `/zeus-recover inspect ${ID}`),
  clickEcho: () => commandEchoView('U0REQUEST', `/zeus-recover undo ${ID}`, 'Undo this restore'),
  working: () => workingNote(`inspect ${ID}`),
  posted: () =>
    postedNote(
      `Inspected ${ID}; the report is in the incident thread.`,
      'https://x.slack.com/archives/C1/p1',
    ),
  inspect: () => inspectView(inspectSummary(), { now: NOW }),
  validate: () => validationView(validationReport(), { now: NOW }),
  diff: () => diffView(diffReport(), { now: NOW }),
  approval: () => approvalRequestView(request(), { inspect: inspectSummary(), approverHint: hint, now: NOW }),
  ...Object.fromEntries(
    STATES.map((state) => [
      `decided:${state}`,
      () =>
        approvalDecidedView(
          request({
            state,
            approvals: [{ userId: 'U0APPROVE', at: '2025-12-13T03:12:00.000Z' }],
            decidedBy: 'U0APPROVE',
            decidedAt: '2025-12-13T03:12:00.000Z',
            denyReason: 'Zeus is still writing',
            result: { backupId: BACKUP_ID, error: 'Redis changed' },
          }),
          { approverHint: hint, now: NOW },
        ),
    ]),
  ),
  replayApproval: () => approvalRequestView(replayRequest(), { approverHint: hint, now: NOW }),
  ...Object.fromEntries(
    STATES.map((state) => [
      `replayDecided:${state}`,
      () =>
        approvalDecidedView(
          replayRequest({
            state,
            approvals: [{ userId: 'U0APPROVE', at: '2025-12-13T03:12:00.000Z' }],
            decidedBy: 'U0APPROVE',
            decidedAt: '2025-12-13T03:12:00.000Z',
            result: { outcome: state === 'succeeded' ? 'done' : 'failed', detail: 'x', replayId: 'rp_1' },
          }),
          { approverHint: hint, now: NOW },
        ),
    ]),
  ),
  replayProgress: () =>
    replayProgressView({
      conversationId: ID,
      fromStep: 5,
      steps: 4,
      stepCount: 8,
      actor: 'slack:U0APPROVE',
      status: zeusRunning,
      startedAt: NOW,
      now: NOW,
    }),
  replayProgressFinal: () =>
    replayProgressView({
      conversationId: ID,
      fromStep: 5,
      steps: 4,
      stepCount: 8,
      actor: 'slack:U0APPROVE',
      status: { state: 'done', step: 8, total: 8, message: null },
      startedAt: NOW,
      now: NOW,
      final: { outcome: 'done', detail: replayFinish('done').detail },
    }),
  replayDone: () => replayOutcomeView(replayFinish('done'), ID),
  replayFailed: () => replayOutcomeView(replayFinish('failed'), ID),
  replayFailedEarly: () => replayOutcomeView(replayFailedEarly(), ID),
  replayTimedOut: () => replayOutcomeView(replayFinish('timed_out'), ID),
  replayUnknown: () => replayOutcomeView(replayFinish('unknown'), ID),
  replayAmbiguous: () => replayAmbiguousView(replayAmbiguous(), ID),
  replyApproved: () =>
    decisionReplyView({ kind: 'approved', request: request(), by: 'slack:U0APPROVE', at: NOW }, { now: NOW }),
  replyDenied: () =>
    decisionReplyView(
      { kind: 'denied', request: request(), by: 'U0APPROVE', at: NOW, reason: 'no' },
      { now: NOW },
    ),
  replyCancelled: () =>
    decisionReplyView({ kind: 'cancelled', request: request(), by: 'U0REQUEST', at: NOW }, { now: NOW }),
  replyExpired: () =>
    decisionReplyView({ kind: 'expired', request: request({ state: 'expired' }) }, { now: NOW }),
  replyStale: () => decisionReplyView({ kind: 'stale', request: request(), detail: null }, { now: NOW }),
  progress: () =>
    restoreProgressView({
      conversationId: ID,
      source: 'postgres',
      backupId: BACKUP_ID,
      before: 'sha256:aa',
      after: 'sha256:bb',
    }),
  result: () => restoreResultView(restoreResult(), { request: request({ state: 'succeeded' }) }),
  failed: () =>
    restoreFailedView(
      { message: 'Redis changed since the preview.', hint: 'Make a fresh preview.', code: 'conflict' },
      { request: request() },
    ),
};

const hugeReq = hugeRequest({
  approvals: Array.from({ length: 40 }, (_, i) => ({ userId: `U0APPR${i}`, at: '2025-12-13T03:12:00.000Z' })),
  result: { backupId: `bk_${'B'.repeat(64)}`, error: HUGE_REASON },
});

const huge: Record<string, () => SlackMessage> = {
  usageError: () => usageError(HUGE_REASON, HUGE_REASON, HUGE_REASON.replace(/ /g, '\n')),
  error: () => errorView({ message: HUGE_REASON, hint: HUGE_REASON, code: 'x'.repeat(500) }),
  notIncident: () => notIncidentChannelView(`^${'inc-'.repeat(1000)}`),
  threadRoot: () => threadRootView(LONG_ID),
  commandEcho: () =>
    commandEchoView('cli:<!channel>', `/zeus-recover restore ${LONG_ID} --reason ${HUGE_REASON}`),
  clickEcho: () =>
    commandEchoView(HOSTILE, `/zeus-recover restore ${LONG_ID} --reason ${HUGE_REASON}`, HUGE_REASON),
  working: () => workingNote(`restore ${LONG_ID} --reason ${HUGE_REASON}`),
  posted: () => postedNote(HUGE_REASON, `https://x.slack.com/${'p'.repeat(5000)}`),
  inspect: () => inspectView(inspectJson(hugeInspectReport()), { now: NOW }),
  validate: () => validationView(hugeValidationReport(), { now: NOW }),
  diff: () => diffView(hugeDiffReport(), { now: NOW }),
  approval: () =>
    approvalRequestView(hugeRequest(), {
      inspect: inspectJson(hugeInspectReport()),
      approverHint: hugeHint,
      now: NOW,
    }),
  ...Object.fromEntries(
    STATES.map((state) => [
      `decided:${state}`,
      () =>
        approvalDecidedView(
          { ...hugeReq, state, decidedBy: 'U0APPROVE', decidedAt: '2025-12-13T03:12:00.000Z' },
          { approverHint: hint, now: NOW },
        ),
    ]),
  ),
  replayApproval: () => approvalRequestView(hugeReplayRequest(), { approverHint: hugeHint, now: NOW }),
  ...Object.fromEntries(
    STATES.map((state) => [
      `replayDecided:${state}`,
      () =>
        approvalDecidedView(
          hugeReplayRequest({
            state,
            approvals: hugeReq.approvals,
            decidedBy: 'U0APPROVE',
            decidedAt: '2025-12-13T03:12:00.000Z',
            result: { outcome: 'unknown', detail: HUGE_DETAIL, replayId: HUGE_DETAIL },
          }),
          { approverHint: hint, now: NOW },
        ),
    ]),
  ),
  ...Object.fromEntries(
    (['done', 'failed', 'timed_out', 'unknown'] as const).map((outcome) => [
      `replayProgress:${outcome}`,
      () =>
        replayProgressView({
          conversationId: LONG_ID,
          fromStep: 1,
          steps: 1000,
          stepCount: 1000,
          actor: HOSTILE,
          reason: HUGE_DETAIL,
          status: { state: HOSTILE, step: 999, total: 1000, message: HUGE_DETAIL },
          startedAt: NOW,
          now: NOW,
          final: { outcome, detail: HUGE_DETAIL },
        }),
    ]),
  ),
  ...Object.fromEntries(
    (['done', 'failed', 'timed_out', 'unknown'] as const).map((outcome) => [
      `replayOutcome:${outcome}`,
      () =>
        replayOutcomeView(
          replayFinish(outcome, {
            detail: HUGE_DETAIL,
            replayId: HUGE_DETAIL,
            status: { state: HOSTILE, step: 999, total: 1000, message: HUGE_DETAIL },
          }),
          LONG_ID,
        ),
    ]),
  ),
  replayFailedEarly: () =>
    replayOutcomeView(replayFailedEarly({ sent: true, code: HUGE_DETAIL, error: HUGE_DETAIL }), LONG_ID),
  replayAmbiguous: () =>
    replayAmbiguousView(
      replayAmbiguous({
        error: HUGE_DETAIL,
        statusBefore: { state: HOSTILE, step: null, total: null, message: HUGE_DETAIL },
        status: null,
        statusError: HUGE_DETAIL,
      }),
      LONG_ID,
    ),
  replyDenied: () =>
    decisionReplyView(
      { kind: 'denied', request: hugeReq, by: HOSTILE, at: NOW, reason: HUGE_REASON },
      { now: NOW },
    ),
  replyStale: () => decisionReplyView({ kind: 'stale', request: hugeReq, detail: HUGE_REASON }, { now: NOW }),
  replyExpired: () => decisionReplyView({ kind: 'expired', request: hugeReq }, { now: NOW }),
  progress: () =>
    restoreProgressView({
      conversationId: LONG_ID,
      source: HUGE_REASON,
      backupId: `bk_${'B'.repeat(64)}`,
      before: null,
      after: null,
      actor: HOSTILE,
      reason: HUGE_REASON,
    }),
  result: () =>
    restoreResultView(
      restoreResult({
        conversationId: LONG_ID,
        source: `backup:bk_${'B'.repeat(64)}`,
        diffSummary: HUGE_REASON,
      }),
      { request: hugeReq },
    ),
  failed: () =>
    restoreFailedView(
      { message: HUGE_REASON, hint: HUGE_REASON, code: 'conflict' },
      { request: hugeReq, backupId: `bk_${'B'.repeat(64)}` },
    ),
};

/** Every mrkdwn or fallback string a message carries. */
function texts(msg: SlackMessage): string[] {
  const out = [msg.text];
  const walk = (v: unknown): void => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (typeof v === 'object' && v !== null) {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'text' && typeof x === 'string') out.push(x);
        else walk(x);
      }
    }
  };
  walk(msg.blocks);
  return out;
}

describe.each([
  ['normal', normal],
  ['huge', huge],
])('every message view with %s input', (_kind, views) => {
  it.each(Object.keys(views))('%s stays within Slack limits', (name) => {
    const msg = views[name]?.();
    expect(msg).toBeDefined();
    if (!msg) return;
    expect(checkMessageLimits(msg)).toEqual([]);
    expect(msg.text.length).toBeGreaterThan(0);
    expect(msg.text.length).toBeLessThanOrEqual(FALLBACK_TEXT_MAX);
  });

  it.each(Object.keys(views))('%s pings nobody and hides no link', (name) => {
    const msg = views[name]?.();
    if (!msg) return;
    for (const t of texts(msg)) {
      expect(t).not.toContain('<!channel>');
      expect(t).not.toContain('<@U0BADBAD>');
      expect(t).not.toContain('<https://evil');
    }
  });
});

describe('huge inputs say they were cut', () => {
  it('inspect shows 3 findings per tier, then how many more', () => {
    const all = texts(huge.inspect?.() ?? { text: '', blocks: [] }).join('\n');
    expect(all).toContain('…and 497 more findings');
  });

  it('validate shows 8 findings per tier, then how many more', () => {
    const all = texts(huge.validate?.() ?? { text: '', blocks: [] }).join('\n');
    expect(all).toContain('…and 492 more findings');
  });

  it('diff lists 15 per kind, then how many more', () => {
    const all = texts(huge.diff?.() ?? { text: '', blocks: [] }).join('\n');
    expect(all).toContain('…and 985 more steps');
  });

  it('a replay approval lists 15 of 1000 steps, then how many more', () => {
    const all = texts(huge.replayApproval?.() ?? { text: '', blocks: [] }).join('\n');
    expect(all).toContain('…and 985 more steps');
    expect(all).toContain('…and 195 more warnings');
  });

  it('approval warnings say how many more', () => {
    const all = texts(huge.approval?.() ?? { text: '', blocks: [] }).join('\n');
    expect(all).toContain('…and 195 more warnings');
  });
});

describe('modals', () => {
  it('stay within limits with normal and hostile initial values', () => {
    expect(checkModalLimits(recoveryModal({ channelId: 'C0INC1234' }))).toEqual([]);
    const hostile = recoveryModal({
      channelId: 'C0INC1234',
      initial: {
        conversationId: LONG_ID + HOSTILE,
        action: 'restore',
        source: 'backup',
        backupId: HUGE_REASON,
        fromStep: 3,
      },
    });
    expect(checkModalLimits(hostile)).toEqual([]);
    expect(checkModalLimits(denyReasonModal(`rq_${'9'.repeat(125)}`, HUGE_REASON))).toEqual([]);
    expect(
      checkModalLimits(
        operationReasonModal(
          { kind: 'restore', id: LONG_ID + HOSTILE, source: `backup:${LONG_ID}` },
          'x'.repeat(2900),
        ),
      ),
    ).toEqual([]);
  });
});
