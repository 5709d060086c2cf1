import { describe, expect, it } from 'vitest';
import { checkMessageLimits } from '../../../sandbox/slack/block-kit.js';
import { AUDIT_ACTIONS, type AuditAction, type AuditData } from '../../../src/audit-vocabulary.js';
import {
  type AuditEntryInput,
  approvalUpdateForEntry,
  renderAuditEntry,
  type SlackMessage,
  toPlainText,
} from '../../../src/views/index.js';
import {
  BACKUP_ID,
  diffReport,
  ID,
  inspectSummary,
  NOW,
  REQUEST_ID,
  replayAmbiguous,
  replayFailedEarly,
  replayFinish,
  replayRequest,
  replayStarted,
  request,
  validationReport,
} from './fixtures.js';

const APPROVED = [{ userId: 'U0APPROVE', at: '2025-12-13T03:12:00.000Z' }];

/** A well-formed `data` for every action, as the writers of the audit log append it (typed by the vocabulary). */
const DATA: { [A in AuditAction]: AuditData<A> } = {
  'command.received': { command: `/zeus-recover inspect ${ID}` },
  'inspect.reported': { report: inspectSummary() },
  'validate.reported': { report: validationReport() },
  'diff.reported': { report: diffReport() },
  'request.created': {
    request: request(),
    inspect: inspectSummary(),
    approverHint: '<!subteam^S0APPROVE|@zeus-approvers>',
  },
  'request.approved': { request: request({ state: 'approved', approvals: APPROVED }) },
  'request.denied': {
    request: request({
      state: 'denied',
      decidedBy: 'U0APPROVE',
      decidedAt: NOW.toISOString(),
      denyReason: 'Zeus is still writing',
    }),
  },
  'request.cancelled': {
    request: request({ state: 'cancelled', decidedBy: 'U0REQUEST', decidedAt: NOW.toISOString() }),
  },
  'request.expired': { request: request({ state: 'expired' }) },
  'request.break_glass': {
    request: request({
      state: 'approved',
      breakGlassReason: 'every other approver is on a plane',
      needsReview: true,
    }),
    reason: 'every other approver is on a plane',
    notify: '<!subteam^S0APPROVE|@zeus-approvers>',
  },
  'request.reviewed': {
    request: request({
      state: 'succeeded',
      breakGlassReason: 'x'.repeat(20),
      needsReview: false,
      reviewedBy: 'U0APPROVE',
    }),
  },
  'policy.refused': {
    rule: 'hourly_limit',
    kind: 'restore',
    used: 5,
    max: 5,
    freesAt: '2025-12-13T04:00:00.000Z',
    failuresInARow: null,
    threshold: null,
  },
  'breaker.reset_requested': {
    resetId: 'br_1',
    requester: 'U0REQ',
    reason: 'the Redis proxy config is fixed',
    failuresInARow: 3,
    state: 'requested',
  },
  'breaker.reset_approved': {
    resetId: 'br_1',
    requester: 'U0REQ',
    reason: 'the Redis proxy config is fixed',
    approvedBy: 'U0APPROVE',
  },
  'request.expiring': {
    request: request(),
    approverHint: '<!subteam^S0APPROVE|@zeus-approvers>',
  },
  'request.renewed': {
    request: request({ state: 'expired' }),
    renewedAs: 'rq_renewed',
    changed: 'Redis changed since the expired request: 77aa → 9911.',
  },
  'request.stale': {
    request: request({ state: 'failed' }),
    detail: 'Redis changed since the preview (`77aa…` → `9911…`)',
  },
  'request.settled': {
    request: request({ state: 'succeeded', approvals: APPROVED }),
    outcome: 'succeeded',
    reached: 'write',
    observed: 'sha256:c0ffee',
    before: 'sha256:77aa',
    after: 'sha256:c0ffee',
    backupId: BACKUP_ID,
    leaseExpiredAt: NOW.toISOString(),
    detail: 'Redis holds the new value (sha256:c0ffee): the write landed.',
  },
  'lock.broken': {
    lock: {
      holder: 'slack:U0REQUEST',
      requestId: 'rq_01HV3',
      since: '2025-12-13T03:00:00.000Z',
      expiresAt: '2025-12-13T03:05:00.000Z',
      gone: true,
    },
    reason: 'INC-12 holder pod gone',
  },
  'lock.not_broken': {
    lock: {
      holder: 'slack:U0REQUEST',
      requestId: 'rq_01HV3',
      since: '2025-12-13T03:00:00.000Z',
      expiresAt: '2025-12-13T03:05:00.000Z',
      gone: true,
    },
    now: null,
    reason: 'INC-12 holder pod gone',
    error: 'The lock on c-7f3a9e was released since it was looked at; there was nothing to break.',
  },
  'restore.started': {
    source: 'postgres',
    backupId: BACKUP_ID,
    before: 'sha256:77aa',
    after: 'sha256:c0ffee',
    reason: 'failover',
  },
  'restore.succeeded': {
    source: 'postgres',
    backupId: BACKUP_ID,
    before: 'sha256:77aa',
    after: 'sha256:c0ffee',
    ttlMs: 3_600_000,
    valid: true,
  },
  'restore.failed': {
    source: 'postgres',
    backupId: null,
    code: 'conflict',
    error: 'Redis changed since the preview.',
  },
  'restore.unknown': {
    source: 'postgres',
    backupId: BACKUP_ID,
    before: 'sha256:77aa',
    after: 'sha256:c0ffee',
    observed: 'sha256:9911',
    observedUnreadable: false,
    code: 'outcome_unknown',
    detail: 'Redis holds sha256:9911, neither the previous value nor the new one.',
  },
  'replay.started': replayStarted(),
  'replay.ambiguous': replayAmbiguous(),
  // Terminal replay rows carry the workflow's request snapshot too; the thread view ignores it.
  'replay.succeeded': { ...replayFinish('done'), request: replayRequest({ state: 'succeeded' }) },
  'replay.failed': { ...replayFinish('failed'), request: replayRequest({ state: 'failed' }) },
  'replay.timed_out': { ...replayFinish('timed_out'), request: replayRequest({ state: 'failed' }) },
  'replay.unknown': { ...replayFinish('unknown'), request: replayRequest({ state: 'failed' }) },
  'export.uploaded': {
    tier: 's3',
    filename: `${ID}-s3-20251213T031200Z.json`,
    bytes: 2048,
    checksum: `sha256:${'ab'.repeat(32)}`,
  },
  'export.refused': {
    tier: 'redis',
    bytes: 9_000_000,
    limit: 5_242_880,
    cli: `zeus-recover export ${ID} --tier redis --out ${ID}.json`,
  },
  'bulk.started': {
    jobId: 'bj_1',
    reason: 'failover',
    selection: { prefix: 'c-' },
    total: 10,
    chunks: 1,
    groups: { restore: 10 },
    overwrite: false,
    maxRate: null,
  },
  'bulk.cancel_requested': { jobId: 'bj_1', reason: 'wrong prefix', state: 'cancelling' },
  'bulk.resumed': { jobId: 'bj_1', reason: 'retry', chunks: 1 },
  'bulk.chunk': { jobId: 'bj_1', chunk: 0, counts: { restored: 10 } },
  'bulk.chunk_failed': { jobId: 'bj_1', chunk: 0, error: 'Redis unreachable' },
  'bulk.finished': {
    jobId: 'bj_1',
    state: 'succeeded',
    counts: { restored: 10, identical: 0, newer: 0, changed: 0, invalid: 0, failed: 0 },
  },
  'bulk.orphaned': { jobId: 'bj_1', state: 'failed', unfinished: 2, error: 'no live worker' },
  'bulk.requested': {
    jobId: 'bj_1',
    reason: 'failover',
    requester: 'slack:U0APPROVE',
    selection: { since: '2025-12-13T02:00:00.000Z', until: null, status: null, match: null },
    overwrite: false,
    maxRate: null,
    total: 10,
    bytes: 81920,
    toRestore: 4,
    bytesToRestore: 32768,
    groups: { absent: 2, identical: 2, older: 2, newer: 2, invalid: 2 },
    samples: { absent: ['c-1', 'c-2'], identical: [], older: [], newer: [], invalid: [] },
    invalidReasons: {},
    memory: {
      usedBytes: 1000,
      maxBytes: 0,
      policies: ['noeviction'],
      bytesToWrite: 33000,
      headroomBytes: null,
    },
    requiredApprovals: 1,
    expiresAt: '2025-12-13T03:41:00.000Z',
    approverHint: 'anyone except the requester',
  },
  'bulk.approved': { jobId: 'bj_1', total: 10, approvedBy: ['slack:U0APPROVE'] },
  'bulk.denied': { jobId: 'bj_1', reason: 'wrong window' },
  'bulk.break_glass': {
    jobId: 'bj_1',
    total: 1204,
    requester: 'U0ALICE',
    reason: 'whole Redis lost at 3 a.m., no approver answers',
    decidedAt: '2025-12-13T03:40:00.000Z',
    notify: '<@U0BOB>',
  },
  'bulk.reviewed': { jobId: 'bj_1', total: 1204, requester: 'U0ALICE' },
  'bulk.expired': { jobId: 'bj_1' },
  'bulk.expiring': {
    jobId: 'bj_1',
    requester: 'U0REQUEST',
    expiresAt: '2025-12-13T03:41:00.000Z',
    approverHint: '<@U0APPROVE>',
  },
  'bulk.reported': {
    jobId: 'bj_1',
    state: 'succeeded',
    total: 10,
    counts: { restored: 4, identical: 2, newer: 2, changed: 0, invalid: 2, failed: 0 },
    failureCount: 2,
    failures: [
      { conversationId: 'c-9', outcome: 'invalid', detail: 'unknown status' },
      { conversationId: 'c-10', outcome: 'invalid', detail: null },
    ],
    file: null,
  },
};

/** What each action's message must show, proving it went to the right view. */
const EXPECT: Record<AuditAction, string> = {
  'command.received': `@U0APPROVE ran \`/zeus-recover inspect ${ID}\``,
  'inspect.reported': '# 🔎 Inspect c-7f3a9e',
  'validate.reported': '# 🩺 Validate c-7f3a9e',
  'diff.reported': '# ↔️ Diff c-7f3a9e: Redis ← postgres',
  'request.created': '# Approval needed: restore c-7f3a9e from postgres',
  'request.approved':
    '✅ @U0APPROVE approved the restore of `c-7f3a9e` from `postgres` at 03:11 UTC — running it now.',
  'request.denied':
    '❌ @U0APPROVE denied the restore of `c-7f3a9e` from `postgres` at 03:11 UTC: Zeus is still writing. Nothing was changed.',
  'request.cancelled': '🚫 @U0APPROVE cancelled the restore',
  'request.expired': '⌛ Expired at 03:41 UTC — nobody approved within 30 min',
  'request.break_glass': 'approved their own restore',
  'request.reviewed': 'reviewed by @U0APPROVE',
  'policy.refused': 'Refused by the hourly limit: 5 of 5',
  'breaker.reset_requested': 'asks to reset the circuit breaker (3 failed restores in a row)',
  'breaker.reset_approved': 'Circuit breaker reset, approved by @U0APPROVE',
  'request.expiring': 'still needs 1 approval',
  'request.renewed':
    'as request `rq_renewed`: its fresh preview, just above, waits for approval again. ⚠️ Redis changed',
  'request.stale':
    '🔄 The preview went stale: Redis changed since the preview (`77aa…` → `9911…`). A fresh preview follows.',
  'request.settled': `✅ The bot stopped during the restore of \`${ID}\` from \`postgres\`, but Redis holds the new value: the restore landed.\nIt was not run again.`,
  'lock.broken':
    '🔓 Lock on `c-7f3a9e` broken by @U0APPROVE — held by @U0REQUEST for request `rq_01HV3` since 03:00 UTC; its holder was gone since 03:05:00 UTC. Reason: INC-12 holder pod gone. Next: inspect `c-7f3a9e` before deciding on a restore.',
  'lock.not_broken':
    '⏹️ Lock on `c-7f3a9e` not broken — the lock was released meanwhile, so there was nothing to break. It had been held by @U0REQUEST for request `rq_01HV3` since 03:00 UTC. Next: inspect `c-7f3a9e`.',
  'restore.started': `▶️ Restoring \`${ID}\` from \`postgres\`…\nBackup \`${BACKUP_ID}\` taken`,
  'restore.succeeded': `✅ Restored \`${ID}\` from \`postgres\``,
  'restore.failed': `❌ Restore of \`${ID}\` from \`postgres\` failed\nRedis changed since the preview.\nWhat to do: Nothing was written.`,
  'restore.unknown': `❓ Restore of \`${ID}\` from \`postgres\`: outcome unknown — check before doing anything else`,
  'replay.started': `▶️ Replaying \`${ID}\` from step 5 (4 steps)…\nZeus: idle`,
  'replay.ambiguous': `⚠️ The request to replay \`${ID}\` from step 5 got no clear answer (timeout after 10000 ms); it was not sent again — Zeus's status says running, step 7/8 — replaying tool call.`,
  'replay.succeeded': `✅ Replayed \`${ID}\` from step 5\nThe replay of ${ID} from step 5 finished at step 8/8.`,
  'replay.failed': `❌ The replay of \`${ID}\` from step 5 failed\nThe replay of ${ID} from step 5 failed at step 7/8: tool timeout.`,
  'replay.timed_out': `⌛ Stopped following the replay of \`${ID}\` from step 5 — Zeus may still be running it`,
  'replay.unknown': `❓ The replay of \`${ID}\` from step 5 has an unknown outcome`,
  'export.uploaded': `exported \`${ID}\` from s3`,
  'export.refused': `zeus-recover export ${ID} --tier redis --out ${ID}.json`,
  // The CLI's bulk jobs have no thread; delivered anyway, each is one line naming it.
  'bulk.started': 'ℹ️ `bulk.started` by @U0APPROVE at 03:11 UTC',
  'bulk.cancel_requested': '🛑 @U0APPROVE cancelled bulk restore `bj_1`: wrong prefix.',
  'bulk.resumed': '▶️ @U0APPROVE resumed bulk restore `bj_1` (1 chunk to go)',
  'bulk.chunk': 'ℹ️ `bulk.chunk` by @U0APPROVE at 03:11 UTC',
  'bulk.chunk_failed': 'ℹ️ `bulk.chunk_failed` by @U0APPROVE at 03:11 UTC',
  'bulk.finished': 'ℹ️ `bulk.finished` by @U0APPROVE at 03:11 UTC',
  'bulk.orphaned': '⚠️ Bulk restore `bj_1` stopped with 2 chunks unfinished and no live worker',
  'bulk.requested': '🚚 @U0APPROVE asks to bulk-restore 10 conversations from Postgres (job `bj_1`)',
  'bulk.approved': '🚚 Restoring — bulk restore `bj_1`: 0/10 (0%)',
  'bulk.denied': '⛔ @U0APPROVE denied bulk restore `bj_1`: wrong window. Nothing was written.',
  'bulk.break_glass': 'approved their own bulk restore of 1204 conversations',
  'bulk.reviewed': '✅ Break-glass bulk restore `bj_1` (1204 conversations) reviewed by',
  'bulk.expired': '⌛ Bulk restore `bj_1` expired without approval.',
  'bulk.expiring': '⏳ Bulk restore `bj_1` expires',
  'bulk.reported': '✅ Finished: bulk restore `bj_1` — 4 restored of 10',
};

function entry(action: string, data: unknown, over: Partial<AuditEntryInput> = {}): AuditEntryInput {
  return {
    seq: 42,
    at: NOW,
    actor: 'slack:U0APPROVE',
    action,
    conversationId: ID,
    requestId: REQUEST_ID,
    data: data as Record<string, unknown>,
    ...over,
  };
}

function rendered(e: AuditEntryInput): SlackMessage {
  const msg = renderAuditEntry(e);
  expect(msg).not.toBeNull();
  if (!msg) throw new Error('null');
  expect(checkMessageLimits(msg)).toEqual([]);
  return msg;
}

describe('renderAuditEntry', () => {
  it.each(AUDIT_ACTIONS)('%s renders its own view', (action) => {
    const plain = toPlainText(rendered(entry(action, DATA[action])));
    expect(plain).toContain(EXPECT[action]);
    expect(plain).not.toContain('could not be shown');
  });

  it('puts the approval buttons on request.created and the undo button on restore.succeeded', () => {
    const created = rendered(entry('request.created', DATA['request.created']));
    expect(created.blocks.some((b) => b.block_id === 'request_actions')).toBe(true);
    const done = rendered(entry('restore.succeeded', DATA['restore.succeeded']));
    expect(JSON.stringify(done.blocks)).toContain('"action_id":"restore_undo"');
  });

  it.each(AUDIT_ACTIONS)('%s with malformed data renders a line saying so', (action) => {
    for (const bad of [
      {},
      null,
      [],
      'text',
      { report: { tiers: 3 } },
      { request: { ...request(), plan: null } },
    ]) {
      const plain = toPlainText(rendered(entry(action, bad)));
      expect(plain).toMatch(
        new RegExp(
          `^⚠️ Audit entry #42 \\(\`${action.replace('.', '\\.')}\`\\) by @U0APPROVE at 03:11 UTC could not be shown in full`,
        ),
      );
      expect(plain).toContain('Audit #42');
    }
  });

  it('renders an unknown action as a generic line, so nothing is silently dropped', () => {
    const msg = rendered(entry('purge.started', { window: '1h' }));
    expect(toPlainText(msg)).toMatchInlineSnapshot(`
      "ℹ️ \`purge.started\` by @U0APPROVE at 03:11 UTC
      Conversation \`c-7f3a9e\`  ·  Request \`rq_8d4a5c2e-6f1b-4c3a-9e7d-2b1f0a9c8d7e\`  ·  Audit #42"
    `);
  });

  it('never throws, whatever the row holds', () => {
    const junk: unknown[] = [
      undefined,
      null,
      0,
      'x',
      [],
      [1],
      { request: 1 },
      { report: [] },
      { command: 5 },
      { source: {} },
    ];
    const weird: Array<Partial<AuditEntryInput>> = [
      {},
      { at: new Date('garbage') },
      { actor: '<!channel>' },
      { action: '<!here>' },
      { conversationId: null, requestId: null },
      { seq: Number.NaN },
      { actor: undefined as unknown as string },
    ];
    for (const action of [...AUDIT_ACTIONS, 'x.y', '']) {
      for (const data of junk) {
        for (const over of weird) {
          const msg = renderAuditEntry(entry(action, data, over));
          expect(msg).not.toBeNull();
          if (msg) {
            expect(checkMessageLimits(msg)).toEqual([]);
            expect(JSON.stringify(msg)).not.toMatch(/<!channel>|<!here>/);
          }
        }
      }
    }
  });

  it('uses the delivery time, when given, for relative times', () => {
    const late = renderAuditEntry(entry('request.created', DATA['request.created']), {
      now: new Date('2025-12-13T03:31:00.000Z'),
    });
    expect(toPlainText(late ?? { blocks: [] })).toContain('Expires at 03:41 UTC, in 10 min.');
  });
});

describe('replay entries', () => {
  it('replay.started shows who started it, why, and Zeus before the POST', () => {
    expect(toPlainText(rendered(entry('replay.started', DATA['replay.started'])))).toMatchInlineSnapshot(`
      "▶️ Replaying \`c-7f3a9e\` from step 5 (4 steps)…
      Zeus: idle
      Started by @U0APPROVE at 03:11 UTC  ·  Reason: Zeus crashed mid-tool-call  ·  steps 5–8 of 8  ·  updated 03:11 UTC"
    `);
  });

  it('replay.started without a status before says Zeus has not answered yet', () => {
    const plain = toPlainText(rendered(entry('replay.started', replayStarted({ statusBefore: null }))));
    expect(plain).toContain('Zeus: no status yet');
  });

  it('replay.failed accepts the early shape too (nothing sent)', () => {
    const plain = toPlainText(rendered(entry('replay.failed', replayFailedEarly())));
    expect(plain).toContain('failed before anything was sent to Zeus');
    expect(plain).not.toContain('could not be shown');
  });

  it('replay outcomes suggest validate after done, and no blind re-run otherwise', () => {
    expect(toPlainText(rendered(entry('replay.succeeded', DATA['replay.succeeded'])))).toContain(
      `Next: \`/zeus-recover validate ${ID}\``,
    );
    for (const action of ['replay.timed_out', 'replay.unknown'] as const) {
      expect(toPlainText(rendered(entry(action, DATA[action])))).toContain(
        'Do not run the replay again blindly',
      );
    }
  });

  it('rejects a terminal row whose outcome does not match its action', () => {
    const plain = toPlainText(rendered(entry('replay.succeeded', replayFinish('failed'))));
    expect(plain).toContain('could not be shown in full');
  });
});

describe('approvalUpdateForEntry', () => {
  it('works for a replay request', () => {
    const denied = replayRequest({ state: 'denied', decidedBy: 'U0APPROVE', decidedAt: NOW.toISOString() });
    const update = approvalUpdateForEntry(entry('request.denied', { request: denied }));
    expect(update).not.toBeNull();
    expect(JSON.stringify(update?.blocks)).not.toContain('"actions"');
    expect(toPlainText(update ?? { blocks: [] })).toContain('# Denied: replay c-7f3a9e from step 5');
    const created = approvalUpdateForEntry(
      entry('request.created', { request: replayRequest(), approverHint: 'an SRE lead' }),
    );
    expect(JSON.stringify(created?.blocks)).toContain('"request_actions"');
  });

  it('gives the approval message as it now stands, without buttons once decided', () => {
    const update = approvalUpdateForEntry(entry('request.denied', DATA['request.denied']));
    expect(update).not.toBeNull();
    expect(JSON.stringify(update?.blocks)).not.toContain('"actions"');
    expect(toPlainText(update ?? { blocks: [] })).toContain(
      '❌ Denied by @U0APPROVE at 03:11 UTC: Zeus is still writing',
    );
  });

  it('keeps the buttons on a partial approval', () => {
    const partial = request({ requiredApprovals: 2, approvals: APPROVED });
    const update = approvalUpdateForEntry(entry('request.approved', { request: partial }), {
      approverHint: 'an SRE lead',
    });
    expect(JSON.stringify(update?.blocks)).toContain('"request_actions"');
    expect(toPlainText(update ?? { blocks: [] })).toContain('Needs 1 more approval from an SRE lead');
  });

  it('is null for other actions and malformed rows', () => {
    expect(approvalUpdateForEntry(entry('inspect.reported', DATA['inspect.reported']))).toBeNull();
    expect(approvalUpdateForEntry(entry('request.denied', {}))).toBeNull();
  });
});
