import { describe, expect, it } from 'vitest';
import { checkMessageLimits } from '../../../sandbox/slack/block-kit.js';
import type { RecoveryRequest, RequestState } from '../../../src/approval/types.js';
import {
  approvalDecidedView,
  approvalRequestView,
  decisionReplyView,
  type KnownBlock,
  REQUEST_ACTIONS_BLOCK_ID,
  replayAmbiguousView,
  replayOutcomeView,
  replayProgressView,
  type SlackMessage,
  toPlainText,
  validationView,
} from '../../../src/views/index.js';
import { zeusStepsNote } from '../../../src/views/replay.js';
import {
  HOSTILE,
  HUGE_DETAIL,
  hugeReplayRequest,
  ID,
  LONG_ID,
  NOW,
  REQUEST_ID,
  replayAmbiguous,
  replayFailedEarly,
  replayFinish,
  replayPlan,
  replayRequest,
  validationReport,
  zeusRunning,
} from './fixtures.js';

const ctx = { approverHint: 'someone in <!subteam^S0APPROVE|@zeus-approvers>', now: NOW };
const APPROVED = [{ userId: 'U0APPROVE', at: '2025-12-13T03:12:00.000Z' }];
const actionsOf = (blocks: KnownBlock[]) => blocks.filter((b) => b.type === 'actions');
const LATER = new Date('2025-12-13T03:14:00.000Z');

function withinLimits(msg: SlackMessage): SlackMessage {
  expect(checkMessageLimits(msg)).toEqual([]);
  return msg;
}

/** Untrusted text must never become a ping, a mention or a disguised link. */
function pingsNobody(msg: SlackMessage): void {
  const all = JSON.stringify(msg);
  expect(all).not.toContain('<!channel>');
  expect(all).not.toContain('<@U0BADBAD>');
  expect(all).not.toContain('<https://evil');
}

describe('approval message for a replay', () => {
  it('reads as a person sees it', () => {
    const msg = withinLimits(approvalRequestView(replayRequest(), ctx));
    expect(msg.text).toBe(
      'Approval needed: replay c-7f3a9e from step 5 — requested by <@U0REQUEST>, expires at 03:41 UTC. Reason: Zeus crashed mid-tool-call at step 5; the tool result never landed.',
    );
    expect(toPlainText(msg)).toMatchInlineSnapshot(`
      "# Approval needed: replay c-7f3a9e from step 5
      Requested by
      @U0REQUEST
      Conversation
      \`c-7f3a9e\`
      Replay from
      step 5 of 8
      Requested at
      03:11 UTC
      Reason
      >Zeus crashed mid-tool-call at step 5; the tool result never landed.
      ⚠️ Step 5 is before the checkpoint (6): step 5 was already checkpointed and will be re-run.
      Zeus will run again: steps 5–8 of 8 (4 steps) · checkpoint at step 6
      • 5 · assistant · 02:05:04 UTC
      • 6 · tool · 02:06:04 UTC
      • 7 · assistant · 02:07:04 UTC
      • 8 · tool · 02:08:04 UTC
      Bound to Redis \`77aa77aa77aa\`: if the conversation changes before the replay starts, nothing is sent to Zeus.
      ⏳ Expires at 03:41 UTC, in 30 min.
      Needs 1 approval from someone in @zeus-approvers (not the requester).
      [Approve] (primary) [Deny] (danger) [Cancel request]
      Request \`rq_8d4a5c2e-6f1b-4c3a-9e7d-2b1f0a9c8d7e\`"
    `);
  });

  it('offers Approve (with a confirm), Deny and Cancel, carrying only the request id', () => {
    const msg = approvalRequestView(replayRequest(), ctx);
    const actions = actionsOf(msg.blocks);
    expect(actions).toHaveLength(1);
    const block = actions[0];
    expect(block?.block_id).toBe(REQUEST_ACTIONS_BLOCK_ID);
    const [approve, deny, cancel, ...rest] = block?.type === 'actions' ? block.elements : [];
    expect(rest).toEqual([]);
    expect(approve).toMatchObject({ action_id: 'request_approve', style: 'primary', value: REQUEST_ID });
    expect(approve).toHaveProperty('confirm.title.text', 'Approve: replay c-7f3a9e from step 5?');
    expect(approve).toHaveProperty(
      'confirm.text.text',
      'Zeus runs steps 5–8 of c-7f3a9e again (4 steps). This changes the live conversation. Steps before the checkpoint run again too.',
    );
    expect(deny).toMatchObject({ action_id: 'request_deny', style: 'danger', value: REQUEST_ID });
    expect(cancel).toMatchObject({ action_id: 'request_cancel', value: REQUEST_ID });
  });

  it('shows 15 steps of 1000 then how many more, keeps every warning visible, and pings nobody', () => {
    const msg = withinLimits(approvalRequestView(hugeReplayRequest(), ctx));
    pingsNobody(msg);
    const plain = toPlainText(msg);
    expect(plain).toContain(
      'Zeus will run again: steps 1–1000 of 1000 (1,000 steps) · checkpoint at step 999',
    );
    expect(plain).toContain('…and 985 more steps');
    expect(plain).toContain('…and 195 more warnings');
    expect(plain).toContain('Bound to Redis `77aa77aa77aa`');
    expect(actionsOf(msg.blocks)).toHaveLength(1);
  });

  it('lists a one-step replay without a range and without a checkpoint warning', () => {
    const plan = replayPlan({ fromStep: 8, checkpoint: null, warnings: [] });
    const msg = approvalRequestView(replayRequest({ plan }), ctx);
    const plain = toPlainText(msg);
    expect(plain).toContain('Zeus will run again: step 8 of 8 (1 step) · no checkpoint');
    expect(plain).not.toContain('⚠️');
    expect(msg.blocks.find((b) => b.type === 'actions')).toHaveProperty(
      'elements.0.confirm.text.text',
      'Zeus runs step 8 of c-7f3a9e again (1 step). This changes the live conversation.',
    );
  });

  it('shows the reason and step roles literally', () => {
    const plan = replayPlan({ steps: [{ step: 5, role: HOSTILE, ts: null, hash: 'sha256:00' }] });
    const msg = approvalRequestView(
      replayRequest({ reason: `${HOSTILE}\n✅ Approved by <@U0BOSS>`, plan }),
      ctx,
    );
    pingsNobody(msg);
    expect(JSON.stringify(msg)).not.toContain('<@U0BOSS>');
    expect(toPlainText(msg)).toContain('• 5 · <!channel> <@U0BADBAD>');
  });
});

describe('decided replay requests', () => {
  const decided = (over: Partial<RecoveryRequest>) =>
    approvalDecidedView(
      replayRequest({
        approvals: APPROVED,
        decidedBy: 'U0APPROVE',
        decidedAt: '2025-12-13T03:12:00.000Z',
        ...over,
      }),
      ctx,
    );

  const rows: Array<[RequestState, Partial<RecoveryRequest>, string, string]> = [
    [
      'approved',
      {},
      '# Approved: replay c-7f3a9e from step 5',
      '✅ Approved by @U0APPROVE at 03:12 UTC — starting now',
    ],
    ['executing', {}, '# Executing: replay', '▶️ Executing… (approved by @U0APPROVE at 03:12 UTC)'],
    [
      'succeeded',
      { result: { outcome: 'done', detail: replayFinish('done').detail, replayId: 'rp_42' } },
      '# Done: replay c-7f3a9e from step 5',
      '✅ Done — approved by @U0APPROVE at 03:12 UTC. The replay of c-7f3a9e from step 5 finished at step 8/8. Replay `rp_42`. Next: `/zeus-recover validate c-7f3a9e`',
    ],
    [
      'failed',
      { result: { outcome: 'failed', detail: 'Zeus said <!channel> no', replayId: null } },
      '# Failed: replay',
      '❌ Failed: Zeus said <!channel> no',
    ],
    [
      'failed',
      { result: { outcome: 'timed_out', detail: 'Still running after 10 min.' } },
      '# Failed: replay',
      "⌛ Stopped following it — approved by @U0APPROVE at 03:12 UTC. Still running after 10 min. Check Zeus's status with `/zeus-recover validate c-7f3a9e` before running it again.",
    ],
    [
      'failed',
      { result: { outcome: 'unknown', detail: 'No answer.' } },
      '# Failed: replay',
      '❓ Outcome unknown — approved by @U0APPROVE at 03:12 UTC. No answer.',
    ],
    ['failed', { result: null }, '# Failed: replay', '❌ Failed'],
    [
      'denied',
      { denyReason: 'Zeus is still running <!here>' },
      '# Denied: replay',
      '❌ Denied by @U0APPROVE at 03:12 UTC: Zeus is still running <!here>',
    ],
    [
      'expired',
      { approvals: [] },
      '# Expired: replay',
      '⌛ Expired at 03:41 UTC — nobody approved within 30 min; ask again with `/zeus-recover replay c-7f3a9e --from-step 5 --reason <why>`',
    ],
    [
      'cancelled',
      { decidedBy: 'U0REQUEST' },
      '# Cancelled: replay',
      '🚫 Cancelled by @U0REQUEST at 03:12 UTC',
    ],
  ];
  it.each(rows)('%s: no buttons, the outcome instead', (state, over, title, expected) => {
    const msg = withinLimits(decided({ state, ...over }));
    // The decision buttons are gone; an expired request offers only Renew (a fresh request).
    const ids = [...JSON.stringify(msg.blocks).matchAll(/"action_id":"([a-z_]+)"/g)].map((m) => m[1]);
    expect(ids).toEqual(state === 'expired' ? ['request_renew'] : []);
    const plain = toPlainText(msg);
    expect(plain.startsWith(title)).toBe(true);
    expect(plain).toContain(expected);
    expect(JSON.stringify(msg)).not.toMatch(/<!here>|<!channel>/);
  });

  it('stays within limits with a 10k-character detail', () => {
    for (const outcome of ['done', 'failed', 'timed_out', 'unknown']) {
      const msg = withinLimits(
        approvalDecidedView(
          hugeReplayRequest({
            state: outcome === 'done' ? 'succeeded' : 'failed',
            result: { outcome, detail: HUGE_DETAIL },
          }),
          ctx,
        ),
      );
      pingsNobody(msg);
    }
  });

  it('tells the stale story without a source', () => {
    const msg = decisionReplyView({ kind: 'stale', request: replayRequest(), detail: null }, { now: NOW });
    expect(toPlainText(msg).split('\n')[0]).toBe(
      '🔄 The preview went stale: Redis changed since the preview at 03:10 UTC. A fresh preview follows. Nothing was changed.',
    );
    const approved = decisionReplyView(
      { kind: 'approved', request: replayRequest({ approvals: APPROVED }), by: 'U0APPROVE', at: NOW },
      { now: NOW },
    );
    expect(toPlainText(approved)).toContain('approved the replay of `c-7f3a9e` from step 5 at 03:11 UTC');
  });
});

describe('replayProgressView', () => {
  const base = {
    conversationId: ID,
    fromStep: 5,
    steps: 4,
    stepCount: 8,
    actor: 'slack:U0APPROVE',
    status: zeusRunning,
    startedAt: NOW,
    now: LATER,
  };

  it('reads as a person sees it while Zeus runs', () => {
    const msg = withinLimits(replayProgressView(base));
    expect(toPlainText(msg)).toMatchInlineSnapshot(`
      "▶️ Replaying \`c-7f3a9e\` from step 5 (4 steps)…
      Zeus: running, step 7/8 — replaying tool call
      Started by @U0APPROVE at 03:11 UTC  ·  steps 5–8 of 8  ·  updated 03:14 UTC"
    `);
    expect(msg.text).toBe(
      '▶️ Replaying `c-7f3a9e` from step 5 (4 steps)… Zeus: running, step 7/8 — replaying tool call',
    );
  });

  it('says when Zeus has not answered yet', () => {
    expect(toPlainText(replayProgressView({ ...base, status: null }))).toContain('Zeus: no status yet');
  });

  it.each([
    ['done', '✅ Replayed `c-7f3a9e` from step 5 (4 steps)', 'Next: `/zeus-recover validate c-7f3a9e`'],
    ['failed', '❌ The replay of `c-7f3a9e` from step 5 failed (4 steps)', 'tool timeout'],
    [
      'timed_out',
      '⌛ Stopped following the replay of `c-7f3a9e` from step 5 (4 steps) — Zeus may still finish it',
      'Do not run the replay again blindly',
    ],
    [
      'unknown',
      '❓ The replay of `c-7f3a9e` from step 5 has an unknown outcome (4 steps)',
      'Do not run the replay again blindly',
    ],
  ] as const)('becomes its end with final %s', (outcome, head, more) => {
    const msg = withinLimits(
      replayProgressView({ ...base, final: { outcome, detail: replayFinish(outcome).detail } }),
    );
    const plain = toPlainText(msg);
    expect(plain.split('\n')[0]).toBe(head);
    expect(plain).toContain(replayFinish(outcome).detail);
    expect(plain).toContain(more);
    expect(plain).toContain('updated 03:14 UTC');
  });

  it('stays within limits and pings nobody with hostile, huge input', () => {
    const hostileStatus = { state: HOSTILE, step: 1, total: 1000, message: HUGE_DETAIL };
    for (const final of [undefined, { outcome: 'failed', detail: HUGE_DETAIL } as const]) {
      const msg = withinLimits(
        replayProgressView({
          conversationId: LONG_ID,
          fromStep: 1,
          steps: 1000,
          stepCount: 1000,
          actor: HOSTILE,
          reason: HUGE_DETAIL,
          status: hostileStatus,
          startedAt: 'garbage',
          now: LATER,
          final,
        }),
      );
      pingsNobody(msg);
      expect(msg.text.length).toBeLessThanOrEqual(3000);
    }
  });
});

describe('replayOutcomeView', () => {
  it('reads as a person sees it after a done replay', () => {
    expect(toPlainText(withinLimits(replayOutcomeView(replayFinish('done'), ID)))).toMatchInlineSnapshot(`
      "✅ Replayed \`c-7f3a9e\` from step 5
      The replay of c-7f3a9e from step 5 finished at step 8/8.
      Zeus status
      done, step 8/8
      Replay id
      \`rp_42\`
      Status checks
      6
      Next: \`/zeus-recover validate c-7f3a9e\` — checks the conversation Zeus left behind."
    `);
  });

  it('does not call a timed-out replay failed, and says not to re-run it blindly', () => {
    expect(
      toPlainText(withinLimits(replayOutcomeView(replayFinish('timed_out'), ID))),
    ).toMatchInlineSnapshot(`
      "⌛ Stopped following the replay of \`c-7f3a9e\` from step 5 — Zeus may still be running it
      The replay of c-7f3a9e from step 5 had not finished after 10 min (last status: running, step 7/8); stopped following it, but Zeus may still finish it.
      Zeus status
      running, step 7/8 — replaying tool call
      Replay id
      \`rp_42\`
      Status checks
      6
      Check Zeus's status with \`/zeus-recover validate c-7f3a9e\` before doing anything else. Do not run the replay again blindly: Zeus may have taken it, and a second replay would run the steps twice."
    `);
  });

  it('says nothing reached Zeus when an early failure was not sent', () => {
    const plain = toPlainText(replayOutcomeView(replayFailedEarly(), ID));
    expect(plain).toContain(
      '❌ The replay of `c-7f3a9e` from step 5 failed before anything was sent to Zeus',
    );
    expect(plain).toContain('Error code\n`stale`');
    expect(plain).toContain('ask again with `/zeus-recover replay c-7f3a9e --from-step 5`');
  });

  it('warns that an early failure after sending may have reached Zeus', () => {
    const plain = toPlainText(replayOutcomeView(replayFailedEarly({ sent: true, code: 'zeus_api' }), ID));
    expect(plain).toContain('The request may have reached Zeus.');
    expect(plain).toContain('Do not run the replay again blindly');
  });

  it('notes an ambiguous POST that was not re-sent', () => {
    expect(toPlainText(replayOutcomeView(replayFinish('unknown'), ID))).toContain(
      'The replay request got no clear answer from Zeus; it was not sent again.',
    );
  });

  it('stays within limits and pings nobody with a 10k-character detail and hostile status', () => {
    const status = { state: HOSTILE, step: null, total: null, message: HUGE_DETAIL };
    for (const d of [
      replayFinish('done', { detail: HUGE_DETAIL, status, replayId: HUGE_DETAIL }),
      replayFinish('failed', { detail: HUGE_DETAIL, status }),
      replayFinish('timed_out', { detail: HUGE_DETAIL, status }),
      replayFinish('unknown', { detail: HUGE_DETAIL, status }),
      replayFailedEarly({ error: HUGE_DETAIL, code: HUGE_DETAIL }),
    ]) {
      const msg = withinLimits(replayOutcomeView(d, LONG_ID));
      pingsNobody(msg);
      expect(msg.text.length).toBeLessThanOrEqual(3000);
    }
  });
});

describe('replayAmbiguousView', () => {
  it('reads as a person sees it', () => {
    expect(toPlainText(withinLimits(replayAmbiguousView(replayAmbiguous(), ID)))).toMatchInlineSnapshot(`
      "⚠️ The request to replay \`c-7f3a9e\` from step 5 got no clear answer (timeout after 10000 ms); it was not sent again — Zeus's status says running, step 7/8 — replaying tool call.
      Before sending, Zeus said idle  ·  The outcome follows from Zeus's status."
    `);
  });

  it('says when the status could not be read either', () => {
    const plain = toPlainText(
      replayAmbiguousView(
        replayAmbiguous({ status: null, statusBefore: null, statusError: 'connection refused' }),
        ID,
      ),
    );
    expect(plain).toContain("Zeus's status could not be read either (connection refused).");
    expect(plain).not.toContain('Before sending');
  });

  it('stays within limits and pings nobody with hostile, huge input', () => {
    const status = { state: HOSTILE, step: 3, total: null, message: HUGE_DETAIL };
    for (const d of [
      replayAmbiguous({ error: HUGE_DETAIL, status, statusBefore: status }),
      replayAmbiguous({ error: HUGE_DETAIL, status: null, statusError: HUGE_DETAIL }),
    ]) {
      const msg = withinLimits(replayAmbiguousView(d, LONG_ID));
      pingsNobody(msg);
    }
  });
});

describe('validationView with Zeus status', () => {
  it("shows Zeus's status escaped, or why it could not be read", () => {
    const running = validationView(
      validationReport({ zeus: { state: 'running', step: 7, total: 8, message: HOSTILE } }),
      { now: NOW },
    );
    pingsNobody(running);
    expect(toPlainText(running)).toContain('Zeus: running, step 7/8 — <!channel>');
    const down = validationView(validationReport({ zeus: { error: 'timeout <!here>' } }), { now: NOW });
    expect(toPlainText(down)).toContain('Zeus: status could not be read (timeout <!here>)');
    expect(JSON.stringify(down)).not.toContain('<!here>');
    expect(toPlainText(validationView(validationReport(), { now: NOW }))).not.toContain('Zeus:');
  });
});

describe('Zeus step numbers beside the conversation steps', () => {
  it('explains in words when Zeus counts its run differently from the conversation', () => {
    expect(zeusStepsNote({ total: 7 }, 6)).toBe(
      "Zeus counts 7 steps in its own run; the conversation has 6 — Zeus numbers its work, not the conversation's steps.",
    );
    expect(zeusStepsNote({ total: 6 }, 6)).toBeNull();
    expect(zeusStepsNote({ total: null }, 6)).toBeNull();
  });

  it('says so in the progress message once the replay ends', () => {
    const text = toPlainText(
      replayProgressView({
        conversationId: ID,
        fromStep: 4,
        steps: 3,
        stepCount: 6,
        actor: 'U0REQUEST',
        status: { state: 'done', step: 7, total: 7, message: 'replay complete' },
        startedAt: NOW,
        now: NOW,
        final: { outcome: 'done', detail: 'finished at step 7/7' },
      }),
    );
    expect(text).toContain('Zeus counts 7 steps in its own run; the conversation has 6');
  });
});
