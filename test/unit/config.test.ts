import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { ErrorCode, RecoveryError } from '../../src/errors.js';

const base = { REDIS_URL: 'redis://127.0.0.1:6379', DATABASE_URL: 'postgres://u@h/db' };

function problems(env: Record<string, string>, profile: 'cli' | 'slack' = 'cli'): string[] {
  try {
    loadConfig(env, profile);
  } catch (err) {
    expect(err).toBeInstanceOf(RecoveryError);
    expect((err as RecoveryError).code).toBe(ErrorCode.Config);
    return (err as RecoveryError).details.problems as string[];
  }
  return [];
}

describe('loadConfig', () => {
  it('applies the documented defaults', () => {
    const c = loadConfig(base);
    expect(c.redis.keyPrefix).toBe('zeus:conversation:');
    expect(c.s3).toMatchObject({ bucket: 'kosmos-conversations', prefix: 'archive/', forcePathStyle: false });
    expect(c.policy).toMatchObject({
      incidentChannelPattern: '^inc-',
      requestTtlMinutes: 30,
      requiredApprovals: 1,
      restoreTtlPolicy: 'keep',
    });
    expect(c.postgres.botSchema).toBe('zeus_recover');
    expect(c.slack.port).toBe(3000);
  });

  it('leaves commands their connections beside the bulk chunk workers', () => {
    expect(
      problems({ ...base, PG_POOL_SIZE: '6', PG_POOL_RESERVE: '2', BULK_WORKERS: '2' }).join('\n'),
    ).toMatch(
      /BULK_WORKERS: 2 chunk workers take up to 4 of the 4 connections .* set BULK_WORKERS to at most 1 \(0: this replica works no chunks\) or PG_POOL_SIZE to at least 8/,
    );
    expect(problems({ ...base, PG_POOL_SIZE: '6', PG_POOL_RESERVE: '2', BULK_WORKERS: '1' })).toEqual([]);
    expect(loadConfig(base).policy.bulkProgressIntervalMs).toBe(5000);
  });

  it('works no bulk chunks on a pool too small for one when BULK_WORKERS is not set, and says why', () => {
    expect(loadConfig(base).load).toMatchObject({ bulkWorkers: 1, bulkWorkersNote: undefined });
    const small = loadConfig({ ...base, PG_POOL_SIZE: '4', PG_POOL_RESERVE: '2' }).load;
    expect(small.bulkWorkers).toBe(0);
    expect(small.bulkWorkersNote).toMatch(
      /BULK_WORKERS not set and PG_POOL_SIZE=4 with PG_POOL_RESERVE=2 has no room for a chunk worker: .* set PG_POOL_SIZE to at least 6 for one/,
    );
    // Set on purpose, it is the operator's to fix.
    expect(
      problems({ ...base, PG_POOL_SIZE: '4', PG_POOL_RESERVE: '2', BULK_WORKERS: '1' }).join('\n'),
    ).toMatch(/set BULK_WORKERS to at most 0 .* or PG_POOL_SIZE to at least 6/);
    expect(
      loadConfig({ ...base, PG_POOL_SIZE: '4', PG_POOL_RESERVE: '2', BULK_WORKERS: '0' }).load,
    ).toMatchObject({
      bulkWorkers: 0,
      bulkWorkersNote: undefined,
    });
  });

  it('lists every problem at once, with what to set', () => {
    const found = problems(
      { REDIS_URL: 'http://x', PORT: 'abc', REQUEST_TTL_MINUTES: '0', APPROVER_USERGROUP_ID: 'x' },
      'slack',
    );
    expect(found.join('\n')).toMatch(/DATABASE_URL: not set — set it to/);
    expect(found.join('\n')).toMatch(/SLACK_BOT_TOKEN: not set/);
    expect(found.join('\n')).toMatch(/SLACK_SIGNING_SECRET: not set/);
    expect(found.join('\n')).toMatch(/REDIS_URL: must be a URL/);
    expect(found.join('\n')).toMatch(/PORT: must be a whole number/);
    expect(found.join('\n')).toMatch(/REQUEST_TTL_MINUTES: must be at least 1/);
    expect(found.join('\n')).toMatch(/APPROVER_USERGROUP_ID/);
    expect(found.length).toBeGreaterThanOrEqual(7);
  });

  it('never echoes values (secrets)', () => {
    try {
      loadConfig(
        { ...base, SLACK_BOT_TOKEN: 'not-a-bot-token-SECRET123', ZEUS_API_URL: 'https://zeus' },
        'slack',
      );
    } catch (err) {
      expect(String((err as Error).message)).not.toContain('SECRET123');
      expect(String((err as Error).message)).toMatch(/ZEUS_API_TOKEN: not set/);
      return;
    }
    throw new Error('expected a configuration error');
  });

  it('defaults S3-compatible settings on when an endpoint is set, and reads lists', () => {
    const c = loadConfig({ ...base, S3_ENDPOINT: 'http://minio:9000', APPROVER_USER_IDS: 'U1, U2 U3' });
    expect(c.s3).toMatchObject({ forcePathStyle: true, checksumWhenRequired: true });
    expect(c.policy.approverUserIds).toEqual(['U1', 'U2', 'U3']);
  });

  it('refuses both Redis modes at once and neither', () => {
    expect(problems({ ...base, REDIS_CLUSTER_NODES: 'a:1,b:2' }).join()).toMatch(/both set/);
    expect(problems({ DATABASE_URL: base.DATABASE_URL }).join()).toMatch(/REDIS_URL: not set/);
  });
});
