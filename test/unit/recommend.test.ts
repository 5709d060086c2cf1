import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { recommendSource } from '../../src/recovery/recommend.js';
import type { TierName, TierReport } from '../../src/recovery/types.js';
import { makeConversation, type TierSpec, tierReports } from '../helpers/conversations.js';

const ID = 'c-7f3a9e';

function fixture(name: string): Buffer {
  return readFileSync(new URL(`../fixtures/conversations/${name}`, import.meta.url));
}

const tiers = (spec: Record<TierName, TierSpec>): Record<TierName, TierReport> => tierReports(ID, spec);

describe('recommendSource', () => {
  it.each<{ title: string; spec: Record<TierName, TierSpec>; source: TierName | null; reason: string }>([
    {
      title: 'restores from the most complete tier when Redis is missing',
      spec: { redis: 'missing', postgres: 8, s3: 6 },
      source: 'postgres',
      reason: 'Redis is missing; Postgres has a valid copy with 8 steps (S3 has 6).',
    },
    {
      title: 'keeps Redis when it is ahead of the other tiers',
      spec: { redis: 12, postgres: 10, s3: 'missing' },
      source: 'redis',
      reason:
        'Redis is valid and the most complete (12 steps) — no restore needed (Postgres has 10; S3 is missing).',
    },
    {
      title: 'says so when all tiers hold the same content',
      spec: { redis: 8, postgres: 8, s3: 8 },
      source: 'redis',
      reason: 'Redis, Postgres and S3 hold the same content (8 steps) — no restore needed.',
    },
    {
      title: 'restores Redis when it is valid but behind',
      spec: { redis: 4, postgres: 6, s3: 6 },
      source: 'postgres',
      reason: 'Redis is valid but behind (4 steps); Postgres has a valid copy with 6 steps (S3 agrees).',
    },
    {
      title: 'carries on when a tier is unreachable',
      spec: { redis: 'missing', postgres: { unreachable: 'timeout' }, s3: 6 },
      source: 's3',
      reason: 'Redis is missing; S3 has a valid copy with 6 steps (Postgres is unreachable).',
    },
  ])('$title', ({ spec, source, reason }) => {
    expect(recommendSource(tiers(spec))).toEqual({ source, reason });
  });

  it('restores over a corrupted Redis copy and names what is wrong with it', () => {
    const corrupt = { json: fixture('id-mismatch.json') };
    expect(recommendSource(tiers({ redis: corrupt, postgres: 8, s3: 8 }))).toEqual({
      source: 'postgres',
      reason: 'Redis is corrupted (id_mismatch); Postgres has a valid copy with 8 steps (S3 agrees).',
    });
  });

  it('lists several problems of a corrupted copy by code', () => {
    const r = recommendSource(
      tiers({ redis: { json: fixture('many-problems.json') }, postgres: 3, s3: 'missing' }),
    );
    expect(r.reason).toBe(
      'Redis is corrupted (id_mismatch, status_invalid, step_gap, …); Postgres has a valid copy with 3 steps (S3 is missing).',
    );
  });

  it('says which tiers agree with Redis when not all do', () => {
    expect(recommendSource(tiers({ redis: 8, postgres: 8, s3: 6 })).reason).toBe(
      'Redis is valid and the most complete (8 steps) — no restore needed (Postgres agrees; S3 has 6).',
    );
  });

  it('gives no source when nothing is valid, and says why for each tier', () => {
    const r = recommendSource(
      tiers({
        redis: { unreachable: 'connect ECONNREFUSED 127.0.0.1:6379' },
        postgres: 'missing',
        s3: { json: fixture('step-gap.json') },
      }),
    );
    expect(r).toEqual({
      source: null,
      reason:
        'No tier has a valid copy: redis unreachable (connect ECONNREFUSED 127.0.0.1:6379), postgres missing, s3 invalid (step_gap). Export what exists and investigate.',
    });
  });

  it('an id no tier holds: check the id, not "export what exists"', () => {
    const r = recommendSource(tiers({ redis: 'missing', postgres: 'missing', s3: 'missing' }));
    expect(r).toEqual({
      source: null,
      reason:
        'No tier holds this id: redis missing, postgres missing, s3 missing. Check the id; `list <first characters>*` shows the ids Redis holds.',
    });
  });

  it('nothing found while a tier is silent: inspect again once it answers', () => {
    const r = recommendSource(
      tiers({ redis: { unreachable: 'no answer within 2000 ms' }, postgres: 'missing', s3: 'missing' }),
    );
    expect(r.reason).toBe(
      'No tier holds a readable copy: redis unreachable (no answer within 2000 ms), postgres missing, s3 missing. Inspect again once Redis answers.',
    );
    expect(r.reason).not.toMatch(/Export/);
  });

  it('warns that an unreachable Redis must come back before a restore', () => {
    const r = recommendSource(
      tiers({ redis: { unreachable: 'no answer within 2000 ms' }, postgres: 8, s3: 8 }),
    );
    expect(r).toEqual({
      source: 'postgres',
      reason:
        'Redis is unreachable (no answer within 2000 ms); Postgres has a valid copy with 8 steps (S3 agrees). Redis must be reachable before a restore can run.',
    });
  });

  it('never picks an invalid copy, however many steps it has', () => {
    const r = recommendSource(
      tiers({ redis: 'missing', postgres: { json: fixture('step-gap.json') }, s3: 3 }),
    );
    expect(r).toEqual({
      source: 's3',
      reason: 'Redis is missing; S3 has a valid copy with 3 steps (Postgres is invalid (step_gap)).',
    });
  });

  it('prefers more steps over a newer copy', () => {
    const older7 = makeConversation(ID, 7);
    const newer6 = makeConversation(ID, 6, { updated_at: '2026-01-01T00:00:00.000Z' });
    const r = recommendSource(tiers({ redis: 'missing', postgres: { json: newer6 }, s3: { json: older7 } }));
    expect(r.source).toBe('s3');
  });

  it('breaks a tie on steps by the newest copy', () => {
    const newer = makeConversation(ID, 6, { status: 'completed', updated_at: '2026-01-01T00:00:00.000Z' });
    const r = recommendSource(tiers({ redis: 6, postgres: 6, s3: { json: newer } }));
    expect(r).toEqual({
      source: 's3',
      reason:
        'Redis is valid but older (6 steps, last step 2025-12-13T10:00:20.000Z, updated 2025-12-13T10:00:21.000Z); S3 has a valid copy with 6 steps (Postgres has 6 steps but different content).',
    });
  });

  it('compares times by instant, not by text', () => {
    // 10:30+01:00 is 09:30Z: older than 2025-12-13T10:00:21Z, though it sorts later as text.
    const older = makeConversation(ID, 6, { updated_at: '2025-12-13T10:30:00+01:00' });
    const r = recommendSource(tiers({ redis: 'missing', postgres: { json: older }, s3: 6 }));
    expect(r.source).toBe('s3');
  });

  it('breaks a full tie by tier order: redis, then postgres, then s3', () => {
    expect(recommendSource(tiers({ redis: 'missing', postgres: 5, s3: 5 })).source).toBe('postgres');
    const different = makeConversation(ID, 5, { zeus_version: '9.9.9' });
    expect(recommendSource(tiers({ redis: { json: different }, postgres: 5, s3: 5 })).reason).toBe(
      'Redis is valid and the most complete (5 steps) — no restore needed (Postgres has 5 steps but different content; S3 has 5 steps but different content).',
    );
  });

  it('clips a long unreachable reason', () => {
    const reason = `getaddrinfo ENOTFOUND ${'x'.repeat(200)}\n    at GetAddrInfoReqWrap`;
    const r = recommendSource(tiers({ redis: { unreachable: reason }, postgres: 'missing', s3: 'missing' }));
    expect(r.source).toBeNull();
    expect(r.reason.length).toBeLessThan(200);
    expect(r.reason).not.toContain('\n');
  });
});
