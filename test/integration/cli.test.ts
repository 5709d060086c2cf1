import { spawn } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, cli, type Run } from '../helpers/cli.js';
import { makeConversation } from '../helpers/conversations.js';
import { startPrivateRedis } from '../helpers/redis-server.js';
import { type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
let dir: string;

beforeAll(async () => {
  stack = await startStack();
  dir = await mkdtemp(join(tmpdir(), 'zr-cli-'));
});
afterAll(async () => stack.stop());

describe('zeus-recover CLI', () => {
  it('prints help with exit 0 and refuses unknown commands with exit 2', async () => {
    const help = await cli(['help'], stack.env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('zeus-recover <command>');
    const bad = await cli(['explode'], stack.env);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('unknown command');
  });

  it('lists every configuration problem at once with exit 2, never printing secrets', async () => {
    const r = await cli(['inspect', 'c-1'], {
      REDIS_URL: 'http://nope',
      PORT: 'abc',
      SLACK_SIGNING_SECRET: 'sekrit-value-123',
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('DATABASE_URL');
    expect(r.stderr).toContain('REDIS_URL');
    expect(r.stderr).toContain('PORT');
    expect(r.stderr).not.toContain('sekrit-value-123');
  });

  it('inspect --json follows the contract', async () => {
    await stack.seed('postgres', 'c-cli1', makeConversation('c-cli1', 4));
    const r = await cli(['inspect', 'c-cli1', '--json'], stack.env);
    expect(r.code).toBe(1); // Redis has no copy: a problem found
    const json = JSON.parse(r.stdout);
    expect(json.conversationId).toBe('c-cli1');
    expect(json.tiers.redis).toMatchObject({
      status: 'missing',
      valid: null,
      steps: null,
      checksum: null,
      bytes: null,
    });
    expect(json.tiers.postgres).toMatchObject({ status: 'found', valid: true, steps: 4 });
    expect(json.tiers.postgres.checksum).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(Array.isArray(json.tiers.s3.problems)).toBe(true);
    expect(json.recommendation).toMatchObject({ source: 'postgres' });
  });

  it('inspect prints a readable table', async () => {
    const r = await cli(['inspect', 'c-cli1'], stack.env);
    expect(r.stdout).toMatch(/TIER\s+STATUS\s+VALID\s+STEPS/);
    expect(r.stdout).toMatch(/postgres\s+✔ found\s+yes\s+4/);
    expect(r.stdout).toContain('zeus-recover restore c-cli1 --from postgres');
  });

  it('refuses hostile ids with exit 2', async () => {
    for (const id of ['*', '../x', 'a b', 'x'.repeat(129)]) {
      const r = await cli(['inspect', id], stack.env);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain('not a valid conversation id');
    }
  });

  it('restore needs --yes and --reason', async () => {
    const r = await cli(['restore', 'c-cli1', '--from', 'postgres'], stack.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--yes and --reason');
    expect(await stack.redis.client.exists(stack.redis.key('c-cli1'))).toBe(0);
  });

  it('restore --json then undo, audited with the OS user', async () => {
    const id = 'c-cli2';
    await stack.seed('redis', id, makeConversation(id, 1));
    await stack.seed('postgres', id, makeConversation(id, 5));
    const r = await cli(
      ['restore', id, '--from', 'postgres', '--yes', '--reason', 'INC-7 lost steps', '--json'],
      {
        ...stack.env,
        USER: 'alice',
      },
    );
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out).toMatchObject({ restored: true, backupId: expect.stringMatching(/^bk_/) });
    expect(out.before).toMatch(/^sha256:/);
    expect(out.after).toMatch(/^sha256:/);
    const { rows } = await stack.db.pool.query<{ s: string }>(
      'SELECT state::text AS s FROM conversations WHERE id=$1',
      [id],
    );
    expect((await stack.redis.client.get(stack.redis.key(id))) ?? '').toBe(rows[0]?.s);

    const u = await cli(['undo', out.backupId, '--yes', '--reason', 'wrong copy'], stack.env);
    expect(u.code).toBe(0);
    expect(u.stdout).toContain('Restored');
    expect(await stack.redis.client.get(stack.redis.key(id))).toBe(makeConversation(id, 1));

    const audit = await stack.db.pool.query<{ actor: string; action: string }>(
      'SELECT actor, action FROM zeus_recover.audit_log WHERE conversation_id = $1 ORDER BY seq',
      [id],
    );
    expect(audit.rows.map((a) => a.action)).toEqual([
      'restore.started',
      'restore.succeeded',
      'restore.started',
      'restore.succeeded',
    ]);
    expect(audit.rows[0]?.actor).toMatch(/^cli:/);
  });

  it('export writes the exact bytes; list pages; validate exits 1 when broken', async () => {
    const id = 'c-cli3';
    const doc = `{"id":"${id}",  "steps":[],"status":"active", "zz":1}`;
    await stack.seed('s3', id, doc);
    const file = join(dir, 'out.json');
    const e = await cli(['export', id, '--tier', 's3', '--out', file], stack.env);
    expect(e.code).toBe(0);
    expect(await readFile(file, 'utf8')).toBe(doc);

    const l = await cli(['list', 'c-cli*', '--json'], stack.env);
    expect(l.code).toBe(0);
    expect(JSON.parse(l.stdout).ids).toContain('c-cli2');

    const v = await cli(['validate', id], stack.env);
    expect(v.code).toBe(1);
    expect(v.stdout).toContain('broken');
  });

  it('restore from file: keeps the file bytes', async () => {
    const id = 'c-cli4';
    const file = join(dir, `${id}.json`);
    const doc = `${makeConversation(id, 2)}\n`;
    await writeFile(file, doc);
    const r = await cli(
      ['restore', id, '--from', `file:${file}`, '--yes', '--reason', 'hand-fixed'],
      stack.env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(await stack.redis.client.get(stack.redis.key(id))).toBe(doc);
  });

  it('audit verify passes, then fails after a row is edited', async () => {
    const ok = await cli(['audit', 'verify'], stack.env);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('intact');
    const c = await stack.db.pool.connect();
    try {
      await c.query('SET session_replication_role = replica');
      await c.query(`UPDATE zeus_recover.audit_log SET actor = 'cli:mallory' WHERE seq = 2`);
    } finally {
      await c.query('RESET session_replication_role');
      c.release();
    }
    const bad = await cli(['audit', 'verify', '--json'], stack.env);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({ ok: false, firstBroken: { seq: 2 } });
  });
});

describe('two concurrent restores of one conversation (two processes)', () => {
  it('one runs, the other gets "restore in progress"', async () => {
    const redis = await startPrivateRedis();
    try {
      const id = 'c-race';
      const env = { ...stack.env, REDIS_URL: redis.url, REDIS_TIMEOUT_MS: '15000' };
      await stack.seed('postgres', id, makeConversation(id, 3));
      // Hold every write on this private server so the winner sits inside its lock long enough
      // for the loser to reach the lock; reads (the plan) still go through.
      await redis.client.call('CLIENT', 'PAUSE', '6000', 'WRITE');
      const spawnRestore = () =>
        new Promise<Run>((resolve) => {
          const child = spawn(
            process.execPath,
            [BIN, 'restore', id, '--from', 'postgres', '--yes', '--reason', 'race'],
            {
              env: { PATH: process.env.PATH ?? '', ...env },
            },
          );
          let stdout = '';
          let stderr = '';
          child.stdout.on('data', (d) => {
            stdout += d;
          });
          child.stderr.on('data', (d) => {
            stderr += d;
          });
          child.on('exit', (code) => resolve({ code: code ?? 1, stdout, stderr }));
        });
      const results = await Promise.all([spawnRestore(), spawnRestore()]);
      const winners = results.filter((r) => r.code === 0);
      const losers = results.filter((r) => r.code !== 0);
      expect(winners, JSON.stringify(results)).toHaveLength(1);
      expect(losers[0]?.stderr).toContain('already in progress');
      const backups = await stack.db.pool.query(
        'SELECT id FROM zeus_recover.backups WHERE conversation_id = $1',
        [id],
      );
      expect(backups.rowCount).toBe(1);
    } finally {
      await redis.client.call('CLIENT', 'UNPAUSE').catch(() => undefined);
      await redis.stop();
    }
  }, 60_000);
});
