import { describe, expect, it } from 'vitest';
import { checkMessageLimits } from '../../../sandbox/slack/block-kit.js';
import type { RequestSettledData } from '../../../src/approval/settle-stuck.js';
import { approvalDecidedView } from '../../../src/views/approval.js';
import { toPlainText } from '../../../src/views/index.js';
import { requestSettledView } from '../../../src/views/settled.js';
import { BACKUP_ID, HOSTILE, ID, NOW, REQUEST_ID, replayRequest, request } from './fixtures.js';

function settled(over: Partial<RequestSettledData> = {}): RequestSettledData {
  return {
    request: request({ state: 'failed' }),
    outcome: 'failed',
    reached: 'write',
    observed: 'sha256:77aa',
    before: 'sha256:77aa',
    after: 'sha256:c0ffee',
    backupId: BACKUP_ID,
    leaseExpiredAt: NOW.toISOString(),
    detail: 'Redis still holds the previous value (sha256:77aa): nothing was written.',
    ...over,
  };
}

const plain = (d: RequestSettledData) => {
  const msg = requestSettledView(d, { now: NOW });
  expect(checkMessageLimits(msg)).toEqual([]);
  return toPlainText(msg);
};

describe('the thread reply for a settled request', () => {
  it.each([
    ['not_started', 'failed', 'before it started: nothing ran, nothing was written', 'ask again'],
    ['before_write', 'failed', 'before writing to Redis: nothing was written', 'ask again'],
    ['write', 'failed', 'Redis still holds the previous value, so nothing was written', 'nothing to undo'],
    ['write', 'succeeded', 'Redis holds the new value: the restore landed', `undo ${BACKUP_ID}`],
    ['write', 'unknown', 'the outcome is unknown', `inspect ${ID}\` before asking for anything else`],
  ] as const)(
    '%s → %s says what happened, that it was not run again, and what to do',
    (reached, outcome, what, next) => {
      const text = plain(settled({ reached, outcome, request: request({ state: outcome }) }));
      expect(text).toContain(what);
      expect(text).toContain('It was not run again.');
      expect(text).toContain(next);
      expect(text).toContain(`Request \`${REQUEST_ID}\``);
    },
  );

  it('a replay that may have reached Zeus: unknown, check Zeus before replaying again', () => {
    const text = plain(
      settled({
        request: replayRequest({ state: 'unknown' }),
        outcome: 'unknown',
        reached: 'sent',
        before: null,
        after: null,
        observed: null,
        backupId: null,
      }),
    );
    expect(text).toContain('whether Zeus ran it is not known here');
    expect(text).toContain(`check Zeus's status with \`/zeus-recover validate ${ID}\``);
    expect(text).not.toContain('undo');
  });

  it('shows what the settler read as text, never as markup', () => {
    const msg = requestSettledView(settled({ detail: HOSTILE }), { now: NOW });
    expect(JSON.stringify(msg)).not.toMatch(/<!channel>|<@U0BADBAD>/);
  });

  it('turns the approval message into the outcome, with no buttons', () => {
    const msg = approvalDecidedView(
      request({
        state: 'failed',
        result: { error: 'The run stopped before it wrote to Redis, so nothing was written.' },
      }),
      { approverHint: 'an approver', now: NOW },
    );
    expect(msg.text).toMatch(/^Failed: .*nothing was written/);
    expect(JSON.stringify(msg.blocks)).not.toContain('request_approve');
  });
});
