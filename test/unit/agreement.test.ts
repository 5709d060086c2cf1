import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { crossTierAgreement } from '../../src/recovery/agreement.js';
import type { TierName, TierReport } from '../../src/recovery/types.js';
import { makeConversation, type TierSpec, tierReports } from '../helpers/conversations.js';

const ID = 'c-7f3a9e';

const tiers = (spec: Record<TierName, TierSpec>): Record<TierName, TierReport> => tierReports(ID, spec);

describe('crossTierAgreement', () => {
  it('groups copies by content, whatever Postgres did to the formatting', () => {
    const t = tiers({ redis: 8, postgres: 8, s3: 6 });
    const a = crossTierAgreement(t);
    expect(a.groups).toEqual([
      { tiers: ['redis', 'postgres'], contentHash: t.redis.analysis?.contentHash, stepCount: 8 },
      { tiers: ['s3'], contentHash: t.s3.analysis?.contentHash, stepCount: 6 },
    ]);
    expect(a.ahead).toEqual([
      { tier: 'redis', byStepsOver: 's3', steps: 2 },
      { tier: 'postgres', byStepsOver: 's3', steps: 2 },
    ]);
    expect(a.summary).toBe('redis and postgres agree (8 steps); s3 is 2 steps behind');
  });

  it('says when all three agree', () => {
    const a = crossTierAgreement(tiers({ redis: 8, postgres: 8, s3: 8 }));
    expect(a.groups).toHaveLength(1);
    expect(a.ahead).toEqual([]);
    expect(a.summary).toBe('redis, postgres and s3 agree (8 steps)');
  });

  it('tells who is behind whom when Redis lags', () => {
    const a = crossTierAgreement(tiers({ redis: 4, postgres: 8, s3: 7 }));
    expect(a.ahead).toEqual([
      { tier: 'postgres', byStepsOver: 'redis', steps: 4 },
      { tier: 'postgres', byStepsOver: 's3', steps: 1 },
      { tier: 's3', byStepsOver: 'redis', steps: 3 },
    ]);
    expect(a.summary).toBe('postgres has 8 steps; redis is 4 steps behind; s3 is 1 step behind');
  });

  it('groups two lagging tiers that agree with each other', () => {
    expect(crossTierAgreement(tiers({ redis: 10, postgres: 8, s3: 8 })).summary).toBe(
      'redis has 10 steps; postgres and s3 agree, 2 steps behind',
    );
  });

  it('tells a different copy with the same number of steps apart', () => {
    const t = tiers({
      redis: 8,
      postgres: { json: makeConversation(ID, 8, { status: 'failed' }) },
      s3: 'missing',
    });
    const a = crossTierAgreement(t);
    expect(a.ahead).toEqual([]);
    expect(a.summary).toBe(
      'redis has 8 steps; postgres differs with the same number of steps (8); s3 is missing',
    );
  });

  it('mentions missing, unreachable and unparseable tiers', () => {
    const corrupt = readFileSync(
      new URL('../fixtures/conversations/corrupt-truncated.json', import.meta.url),
    );
    expect(crossTierAgreement(tiers({ redis: 8, postgres: 8, s3: { json: corrupt } })).summary).toBe(
      'redis and postgres agree (8 steps); s3 is unparseable',
    );
    expect(crossTierAgreement(tiers({ redis: 'missing', postgres: 8, s3: 'unreachable' })).summary).toBe(
      'only postgres has a copy (8 steps); redis is missing; s3 is unreachable',
    );
  });

  it('compares copies without readable steps by content only', () => {
    const array = readFileSync(new URL('../fixtures/conversations/array.json', import.meta.url));
    const a = crossTierAgreement(tiers({ redis: { json: array }, postgres: 3, s3: 'missing' }));
    expect(a.groups.map((g) => g.stepCount)).toEqual([null, 3]);
    expect(a.ahead).toEqual([]);
    expect(a.summary).toBe('postgres has 3 steps; redis differs (no readable steps); s3 is missing');
  });

  it('still groups identical invalid copies: agreement is not validity', () => {
    const gap = readFileSync(new URL('../fixtures/conversations/step-gap.json', import.meta.url));
    expect(
      crossTierAgreement(tiers({ redis: { json: gap }, postgres: { json: gap }, s3: 'missing' })).summary,
    ).toBe('redis and postgres agree (5 steps); s3 is missing');
  });

  it('says when no tier has a readable copy', () => {
    expect(crossTierAgreement(tiers({ redis: 'missing', postgres: 'unreachable', s3: 'missing' }))).toEqual({
      groups: [],
      ahead: [],
      summary: 'no tier has a readable copy (redis is missing, postgres is unreachable, s3 is missing)',
    });
  });
});
