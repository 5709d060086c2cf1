import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startZeusStandin, type ZeusStandin } from '../../sandbox/zeus/zeus.js';
import { cli } from '../helpers/cli.js';
import { makeConversation } from '../helpers/conversations.js';
import { type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
let zeus: ZeusStandin;
let env: Record<string, string>;
let n = 0;

beforeAll(async () => {
  [stack, zeus] = await Promise.all([startStack(), startZeusStandin()]);
  env = { ...stack.env, ZEUS_API_URL: zeus.url, ZEUS_API_TOKEN: zeus.token, USER: 'alice' };
});
afterAll(async () => {
  await Promise.all([stack.stop(), zeus.close()]);
});
// The CLI polls every 2 s; a short script keeps these runs quick.
beforeEach(() =>
  zeus.setStatusScript([
    { state: 'running', step: 3, total: 6, message: 'replaying' },
    { state: 'done', step: 6, total: 6, message: 'replay complete' },
  ]),
);

async function seeded(): Promise<string> {
  const id = `c-clirp${++n}`;
  await stack.seed('redis', id, makeConversation(id, 6, { checkpoint: 4 }));
  return id;
}

const postsFor = (id: string) =>
  zeus
    .replayCalls()
    .filter((c) => (c.json as { conversation_id?: string } | undefined)?.conversation_id === id);

async function auditActions(id: string): Promise<Array<{ actor: string; action: string }>> {
  const { rows } = await stack.db.pool.query<{ actor: string; action: string }>(
    'SELECT actor, action FROM zeus_recover.audit_log WHERE conversation_id = $1 ORDER BY seq',
    [id],
  );
  return rows;
}

describe('zeus-recover replay', () => {
  it('needs ZEUS_API_URL: exit 2 with what to set', async () => {
    const id = await seeded();
    const r = await cli(['replay', id, '--from-step', '4', '--yes', '--reason', 'INC-1'], stack.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('replay needs ZEUS_API_URL and ZEUS_API_TOKEN');
  });

  it('needs --yes, --reason and --from-step', async () => {
    const id = await seeded();
    const [noYes, noStep] = await Promise.all([
      cli(['replay', id, '--from-step', '4'], env),
      cli(['replay', id, '--yes', '--reason', 'x'], env),
    ]);
    expect(noYes.code).toBe(2);
    expect(noYes.stderr).toContain('--yes and --reason');
    expect(noStep.code).toBe(2);
    expect(noStep.stderr).toContain('--from-step');
    expect(postsFor(id)).toHaveLength(0);
  });

  it('refuses a step outside 1..n or not a whole number with exit 2, sending and auditing nothing', async () => {
    const id = await seeded();
    const bad = ['7', '0', '2.5', 'abc'];
    const runs = await Promise.all(
      bad.map((step) => cli(['replay', id, '--from-step', step, '--yes', '--reason', 'x'], env)),
    );
    runs.forEach((r, i) => {
      expect(r.code, bad[i]).toBe(2);
    });
    expect(runs[0]?.stderr).toContain(`Step 7 is outside 1..6 for ${id}.`);
    expect(runs[0]?.stderr).toContain('Pick a step between 1 and 6; the checkpoint is 4.');
    expect(runs[2]?.stderr).toContain('--from-step must be a whole number');
    expect(postsFor(id)).toHaveLength(0);
    expect(await auditActions(id)).toEqual([]);
  });

  it('--json: exit 0 when Zeus finishes; POSTed once with the printed request id as Idempotency-Key', async () => {
    const id = await seeded();
    const r = await cli(
      ['replay', id, '--from-step', '5', '--yes', '--reason', 'INC-2 stuck', '--json'],
      env,
    );
    expect(r.code, r.stderr).toBe(0);
    const result = JSON.parse(r.stdout);
    expect(result).toMatchObject({
      conversationId: id,
      fromStep: 5,
      outcome: 'done',
      ambiguous: false,
      requestId: expect.stringMatching(/^rq_[0-9a-f-]{36}$/),
      lastStatus: { state: 'done', step: 6, total: 6 },
    });
    const posts = postsFor(id);
    expect(posts).toHaveLength(1);
    expect(posts[0]?.json).toEqual({ conversation_id: id, from_step: 5 });
    expect(posts[0]?.headers['idempotency-key']).toBe(result.requestId);
    const audit = await auditActions(id);
    expect(audit.map((a) => a.action)).toEqual(['replay.started', 'replay.succeeded']);
    expect(audit[0]?.actor).toMatch(/^cli:/);
  });

  it('prints the plan, a line per status change and the result', async () => {
    const id = await seeded();
    const r = await cli(['replay', id, '--from-step', '2', '--yes', '--reason', 'INC-3'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toMatch(new RegExp(`Replay ${id} from step 2 \\(request rq_`));
    expect(r.stderr).toContain('Zeus will re-run 5 of 6 steps');
    expect(r.stderr).toContain('Warning: Step 2 is before the checkpoint (4)');
    expect(r.stderr).toMatch(/STEP\s+ROLE\s+TS/);
    expect(r.stderr).toMatch(/\n2\s+assistant\s+2025-12-13T10:00:04.000Z/);
    expect(r.stderr).toContain('Zeus: running, step 3/6 — replaying');
    expect(r.stderr).toContain('Zeus: done, step 6/6 — replay complete');
    expect(r.stdout).toContain(`Replayed ${id} from step 2.`);
  });

  it('stops following after REPLAY_TIMEOUT_SECONDS and says Zeus may still finish (exit 1)', async () => {
    const id = await seeded();
    const stalled = await startZeusStandin();
    try {
      stalled.neverFinish();
      const r = await cli(['replay', id, '--from-step', '4', '--yes', '--reason', 'INC-5', '--json'], {
        ...env,
        ZEUS_API_URL: stalled.url,
        ZEUS_API_TOKEN: stalled.token,
        REPLAY_POLL_MS: '100',
        REPLAY_TIMEOUT_SECONDS: '1',
      });
      expect(r.code).toBe(1);
      expect(JSON.parse(r.stdout)).toMatchObject({ outcome: 'timed_out' });
      expect(stalled.replayCalls()).toHaveLength(1);
    } finally {
      await stalled.close();
    }
  });

  it('exit 1 when Zeus reports the replay failed', async () => {
    const id = await seeded();
    zeus.failReplay('tool call failed at step 5');
    const r = await cli(['replay', id, '--from-step', '4', '--yes', '--reason', 'INC-4'], env);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('FAILED');
    expect(r.stdout).toContain('tool call failed at step 5');
    expect(r.stdout).toContain(`zeus-recover validate ${id}`);
  });

  it('a wrong token: exit 1, the hint names ZEUS_API_TOKEN, the token is never printed', async () => {
    const id = await seeded();
    const token = 'wrong-token-5f4e3d2c1b';
    const r = await cli(['replay', id, '--from-step', '4', '--yes', '--reason', 'INC-5', '--json'], {
      ...env,
      ZEUS_API_TOKEN: token,
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('ZEUS_API_TOKEN');
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { code: 'zeus_api_error' } });
    expect(r.stdout + r.stderr).not.toContain(token);
  });

  it("validate shows Zeus's status", async () => {
    const id = await seeded();
    const r = await cli(['validate', id], env);
    expect(r.stdout).toContain('Zeus: idle');
    const j = await cli(['validate', id, '--json'], env);
    expect(JSON.parse(j.stdout).zeus).toEqual({ state: 'idle', step: null, total: null, message: null });
  });
});
