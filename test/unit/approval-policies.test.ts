import { describe, expect, it } from 'vitest';
import {
  assignGroup,
  BREAK_GLASS_MIN_REASON,
  checkBreaker,
  checkBreakGlass,
  checkHourly,
  checkResetApprover,
  checkReview,
  checkStepUp,
  missingGroups,
  windowFreesAt,
} from '../../src/approval/policies.js';
import { loadConfig } from '../../src/config.js';

const groups = ['S1', 'S2'];
const membership = new Map<string, ReadonlySet<string> | null>([
  ['S1', new Set(['U_CAROL', 'U_ERIN', 'U_BOTH'])],
  ['S2', new Set(['U_FRANK', 'U_BOTH'])],
]);

describe('approvers from distinct groups', () => {
  it('counts the first approval for the approver’s group and names the group still missing', () => {
    expect(assignGroup(groups, membership, [], 'U_CAROL')).toEqual({
      ok: true,
      groupId: 'S1',
      missing: ['S2'],
    });
  });

  it('refuses a second approval from a group that already has one, and says which group is missing', () => {
    expect(assignGroup(groups, membership, ['S1'], 'U_ERIN')).toEqual({
      ok: false,
      reason: 'group_taken',
      taken: ['S1'],
      missing: ['S2'],
    });
    expect(assignGroup(groups, membership, ['S1'], 'U_FRANK')).toEqual({
      ok: true,
      groupId: 'S2',
      missing: [],
    });
  });

  it('gives a member of both groups the group still free', () => {
    expect(assignGroup(groups, membership, ['S1'], 'U_BOTH')).toMatchObject({ ok: true, groupId: 'S2' });
    expect(assignGroup(groups, membership, [], 'U_BOTH')).toMatchObject({ ok: true, groupId: 'S1' });
  });

  it('refuses outsiders, and names the groups Slack did not answer for (fail closed)', () => {
    const half = new Map([
      ['S1', new Set(['U_CAROL'])],
      ['S2', null],
    ]);
    expect(assignGroup(groups, half, [], 'U_FRANK')).toEqual({
      ok: false,
      reason: 'not_in_group',
      groups,
      unavailable: ['S2'],
    });
  });

  it('lists missing groups in configured order, ignoring approvals without a group', () => {
    expect(missingGroups(['S1', 'S2', 'S3'], [null, 'S2'])).toEqual(['S1', 'S3']);
  });
});

describe('step-up confirmation', () => {
  it('needs the exact conversation id; spaces around it do not matter, case does', () => {
    expect(checkStepUp('c-Abc', '  c-Abc ')).toEqual({ ok: true });
    expect(checkStepUp('c-Abc', 'c-abc')).toEqual({ ok: false, reason: 'mismatch', expected: 'c-Abc' });
    expect(checkStepUp('c-Abc', '   ')).toEqual({ ok: false, reason: 'empty', expected: 'c-Abc' });
  });

  it('for a bulk restore, needs the count, with thousands separators allowed', () => {
    expect(checkStepUp(1204, '1,204')).toEqual({ ok: true });
    expect(checkStepUp(1204, '1 204')).toEqual({ ok: true });
    expect(checkStepUp(1204, '1205')).toMatchObject({ ok: false, reason: 'mismatch' });
    expect(checkStepUp(3, 'three')).toMatchObject({ ok: false, reason: 'mismatch' });
  });
});

describe('blast radius', () => {
  it('refuses once the hour holds the maximum, and never without a limit', () => {
    expect(checkHourly(null, 10_000)).toEqual({ ok: true });
    expect(checkHourly(3, 2)).toEqual({ ok: true });
    expect(checkHourly(3, 3)).toEqual({ ok: false, reason: 'hourly_limit', used: 3, max: 3 });
  });

  it('frees the window an hour after the request that has to age out', () => {
    const times = ['2026-11-30T06:00:00.000Z', '2026-11-30T06:10:00.000Z', '2026-11-30T06:20:00.000Z'];
    expect(windowFreesAt(times, 3)).toBe('2026-11-30T07:00:00.000Z');
    expect(windowFreesAt(times, 2)).toBe('2026-11-30T07:10:00.000Z');
    expect(windowFreesAt(times, 4)).toBeNull();
    expect(windowFreesAt(times, null)).toBeNull();
  });

  it('opens the breaker at the threshold of failures in a row', () => {
    expect(checkBreaker(null, 99)).toEqual({ ok: true });
    expect(checkBreaker(3, 2)).toEqual({ ok: true });
    expect(checkBreaker(3, 3)).toEqual({
      ok: false,
      reason: 'breaker_open',
      failuresInARow: 3,
      threshold: 3,
    });
  });

  it('a breaker reset needs a second person', () => {
    expect(checkResetApprover('U_ALICE', 'U_ALICE').ok).toBe(false);
    expect(checkResetApprover('U_ALICE', 'U_BOB').ok).toBe(true);
  });
});

describe('break-glass', () => {
  const base = { enabled: true, requester: 'U_ALICE', userId: 'U_ALICE' };
  const long = 'primary approvers are all paged out';

  it('is off unless enabled, and only for the requester', () => {
    expect(checkBreakGlass({ ...base, enabled: false, reason: long })).toEqual({ ok: false, reason: 'off' });
    expect(checkBreakGlass({ ...base, userId: 'U_BOB', reason: long })).toEqual({
      ok: false,
      reason: 'not_requester',
    });
  });

  it(`needs a reason of at least ${BREAK_GLASS_MIN_REASON} characters, not counting padding`, () => {
    expect(checkBreakGlass({ ...base, reason: `   ${'x'.repeat(19)}      ` })).toEqual({
      ok: false,
      reason: 'short_reason',
      length: 19,
      min: 20,
    });
    expect(checkBreakGlass({ ...base, reason: 'x'.repeat(20) })).toEqual({
      ok: true,
      reason: 'x'.repeat(20),
    });
    expect(checkBreakGlass({ ...base, reason: `${'🔥'.repeat(10)}` })).toMatchObject({
      ok: false,
      length: 10,
    });
  });

  it('is marked reviewed only by someone else, and only while flagged', () => {
    expect(checkReview({ requester: 'U_ALICE', needsReview: true }, 'U_ALICE')).toEqual({
      ok: false,
      reason: 'own_request',
    });
    expect(checkReview({ requester: 'U_ALICE', needsReview: false }, 'U_BOB')).toEqual({
      ok: false,
      reason: 'not_flagged',
    });
    expect(checkReview({ requester: 'U_ALICE', needsReview: true }, 'U_BOB')).toEqual({ ok: true });
  });
});

describe('policy configuration', () => {
  const env = { DATABASE_URL: 'postgres://x@h/db', REDIS_URL: 'redis://h:6379' };
  it('reads the policies, off by default', () => {
    const p = loadConfig(env).policy;
    expect(p).toMatchObject({
      approverGroups: [],
      stepUpOperations: [],
      maxDestructivePerHour: null,
      breakerFailures: null,
      breakGlass: false,
    });
    const on = loadConfig({
      ...env,
      APPROVER_GROUPS: 'S1,S2',
      REQUIRED_APPROVALS: '2',
      STEP_UP_OPERATIONS: 'restore, bulk-restore',
      MAX_DESTRUCTIVE_PER_HOUR: '5',
      BREAKER_FAILURES: '3',
      BREAK_GLASS: 'on',
    }).policy;
    expect(on).toMatchObject({
      approverGroups: ['S1', 'S2'],
      stepUpOperations: ['restore', 'bulk-restore'],
      maxDestructivePerHour: 5,
      breakerFailures: 3,
      breakGlass: true,
    });
  });

  it('refuses what cannot work, saying what to change', () => {
    expect(() => loadConfig({ ...env, APPROVER_GROUPS: 'S1', REQUIRED_APPROVALS: '2' })).toThrow(
      /cannot give REQUIRED_APPROVALS=2/,
    );
    expect(() => loadConfig({ ...env, APPROVER_GROUPS: 'S1', APPROVER_USER_IDS: 'U1' })).toThrow(
      /set only APPROVER_GROUPS/,
    );
    expect(() => loadConfig({ ...env, STEP_UP_OPERATIONS: 'restore,explode' })).toThrow(/STEP_UP_OPERATIONS/);
    expect(() => loadConfig({ ...env, BREAK_GLASS: 'yes' })).toThrow(/BREAK_GLASS: must be on or off/);
    expect(() => loadConfig({ ...env, APPROVER_GROUPS: 'eng' })).toThrow(/APPROVER_GROUPS/);
  });
});
