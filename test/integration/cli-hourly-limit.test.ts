import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { blastRadiusStatus } from '../../src/store/blast-radius.js';
import { cli } from '../helpers/cli.js';
import { makeConversation } from '../helpers/conversations.js';
import { type Stack, startStack } from '../helpers/stack.js';

/**
 * MAX_DESTRUCTIVE_PER_HOUR is per workspace (docs/approval-policies.md): the CLI, run as users
 * run it, counts in the same rolling hour as Slack's requests and is refused past the limit with
 * the count, exit 1, audited, nothing written.
 */
let stack: Stack;
let env: Record<string, string>;

beforeAll(async () => {
  stack = await startStack();
  env = { ...stack.env, MAX_DESTRUCTIVE_PER_HOUR: '2' };
});
afterAll(async () => stack?.stop());

const restore = (id: string) =>
  cli(['restore', id, '--from', 'postgres', '--yes', '--reason', 'INC-12 Slack is down'], env);

describe('the hourly limit from the CLI', () => {
  it('counts CLI restores in the window and refuses the one past the limit, audited', async () => {
    for (const id of ['c-clilim-1', 'c-clilim-2', 'c-clilim-3']) {
      await stack.seed('postgres', id, makeConversation(id, 3));
    }
    expect((await restore('c-clilim-1')).code).toBe(0);
    expect((await restore('c-clilim-2')).code).toBe(0);
    // The bot (App Home, its own limit) sees them in the same window.
    const status = await blastRadiusStatus(stack.db.pool, 'zeus_recover', {
      maxPerHour: 2,
      breakerFailures: null,
    });
    expect(status.hourly.used).toBe(2);
    expect(status.hourly.freesAt).not.toBeNull();

    const third = await restore('c-clilim-3');
    expect(third.code).toBe(1);
    expect(third.stderr).toContain('2 destructive requests were opened in the last hour; the limit is 2.');
    expect(third.stderr).toMatch(/A slot frees at \d{4}-\d\d-\d\dT/);
    expect(await stack.redis.client.exists(stack.redis.key('c-clilim-3'))).toBe(0);

    const bulk = await cli(
      [
        'bulk-restore',
        '--from',
        'postgres',
        '--since',
        '1h',
        '--match',
        'c-clilim-*',
        '--yes',
        '--reason',
        'INC-12',
      ],
      env,
    );
    expect(bulk.code).toBe(1);
    expect(bulk.stderr).toContain('the limit is 2');
    const { rows: jobs } = await stack.db.pool.query('SELECT 1 FROM zeus_recover.bulk_jobs');
    expect(jobs).toHaveLength(0);

    const { rows } = await stack.db.pool.query<{
      actor: string;
      conversation_id: string | null;
      kind: string;
    }>(
      `SELECT actor, conversation_id, (data::jsonb)->>'kind' AS kind FROM zeus_recover.audit_log
        WHERE action = 'policy.refused' AND (data::jsonb)->>'rule' = 'hourly_limit' ORDER BY seq`,
    );
    expect(rows).toEqual([
      { actor: expect.stringMatching(/^cli:/), conversation_id: 'c-clilim-3', kind: 'restore' },
      { actor: expect.stringMatching(/^cli:/), conversation_id: null, kind: 'bulk-restore' },
    ]);
  }, 60_000);
});
