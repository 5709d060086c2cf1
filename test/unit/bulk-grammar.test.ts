import { describe, expect, it } from 'vitest';
import { checkBulkApprove, checkBulkDeny, checkBulkStop } from '../../src/approval/bulk-rules.js';
import { parseCommand } from '../../src/commands/parse-command.js';
import type { BulkRequest } from '../../src/store/bulk-requests.js';

const opts = { idPattern: /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/ };
const JOB = 'bj_AAAAAAAAAAAAAAAAAAAA';

describe('the bulk grammar', () => {
  it.each([
    [
      'bulk-restore --from postgres --since 1h --reason redis lost it',
      {
        kind: 'bulk-restore',
        selection: { since: '1h', until: undefined, status: undefined, match: undefined },
        overwrite: false,
        maxRate: null,
        reason: 'redis lost it',
      },
    ],
    [
      'bulk-restore --from=postgres --since 2025-12-13T10:00:00Z --until 2025-12-13T11:00:00Z --status active --match c-7f* --overwrite --max-rate 500 --reason "INC-42"',
      {
        kind: 'bulk-restore',
        selection: {
          since: '2025-12-13T10:00:00Z',
          until: '2025-12-13T11:00:00Z',
          status: 'active',
          match: 'c-7f*',
        },
        overwrite: true,
        maxRate: 500,
        reason: 'INC-42',
      },
    ],
    [`job ${JOB}`, { kind: 'job', jobId: JOB }],
    ['jobs', { kind: 'jobs' }],
    [`resume ${JOB} --reason go on`, { kind: 'resume', jobId: JOB, reason: 'go on' }],
  ])('%s', (text, expected) => {
    expect(parseCommand(text, opts)).toEqual(expected);
  });

  it.each([
    ['bulk-restore --since 1h --reason x', /needs `--from postgres`/],
    ['bulk-restore --from s3 --since 1h --reason x', /reads only from postgres/],
    ['bulk-restore --from postgres --reason x', /needs `--since`/],
    ['bulk-restore --from postgres --since 1h', /needs `--reason`/],
    ['bulk-restore --from postgres --since 1h --max-rate 0 --reason x', /--max-rate/],
    ['bulk-restore --from postgres --since 1h --tier s3 --reason x', /has no `--tier`/],
    ['bulk-restore c-1 --from postgres --since 1h --reason x', /takes only flags/],
    ['job', /needs a job id/],
    ['job bj_short', /not a bulk job id/],
    [`resume ${JOB}`, /needs `--reason`/],
    ['jobs extra', /takes nothing/],
  ])('%s is refused', (text, message) => {
    const parsed = parseCommand(text, opts);
    expect(parsed.kind).toBe('error');
    if (parsed.kind === 'error') expect(parsed.message).toMatch(message);
  });
});

describe('who may decide on a bulk job', () => {
  const policy = { approverUserIds: ['U_BOB'], approverUsergroupId: undefined, groupMembers: null };
  const job = (state: BulkRequest['state']) => ({
    state,
    requester: 'U_ALICE',
    approvals: [] as BulkRequest['approvals'],
    requiredApprovals: 1,
  });

  it('approve and deny: an approver other than the requester, while it waits', () => {
    expect(checkBulkApprove({ ...policy, job: job('pending'), userId: 'U_BOB' })).toEqual({ ok: true });
    expect(checkBulkApprove({ ...policy, job: job('pending'), userId: 'U_ALICE' })).toMatchObject({
      reason: 'self_approval',
    });
    expect(checkBulkApprove({ ...policy, job: job('pending'), userId: 'U_CAROL' })).toMatchObject({
      reason: 'not_approver',
    });
    expect(checkBulkApprove({ ...policy, job: job('running'), userId: 'U_BOB' })).toMatchObject({
      reason: 'not_open',
    });
    expect(checkBulkDeny({ ...policy, job: job('pending'), userId: 'U_ALICE' })).toMatchObject({
      reason: 'own_request',
    });
  });

  it('cancel while it waits: the requester only; once running: the requester or an approver', () => {
    expect(checkBulkStop({ ...policy, job: job('pending'), userId: 'U_ALICE' })).toEqual({ ok: true });
    expect(checkBulkStop({ ...policy, job: job('pending'), userId: 'U_BOB' })).toMatchObject({
      reason: 'not_requester',
    });
    expect(checkBulkStop({ ...policy, job: job('running'), userId: 'U_ALICE' })).toEqual({ ok: true });
    expect(checkBulkStop({ ...policy, job: job('running'), userId: 'U_BOB' })).toEqual({ ok: true });
    expect(checkBulkStop({ ...policy, job: job('running'), userId: 'U_CAROL' })).toMatchObject({
      reason: 'not_allowed',
    });
  });
});
