import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { useBlackHole } from '../helpers/black-hole.js';
import { cli, canFakeTerminal as haveScript, cliOnTerminal as onTerminal } from '../helpers/cli.js';
import { makeConversation } from '../helpers/conversations.js';
import { freePort } from '../helpers/net.js';
import { type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;

beforeAll(async () => {
  stack = await startStack();
});
afterAll(async () => stack.stop());

const ESC = '\x1b[';
/** The whole usage has one heading per group; a verb's own usage has none of them. */
const FULL_USAGE = /Read-only|Maintenance/;

/** Splits a printed command line as a shell would (double quotes only: what the CLI prints). */
function words(line: string): string[] {
  return [...line.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => m[1] ?? m[2] ?? '');
}

describe('a command line that is almost right', () => {
  it('a mistyped verb gets "did you mean", not the whole usage', async () => {
    const r = await cli(['inspcet', 'c-1'], stack.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown command "inspcet" — did you mean "inspect"?');
    expect(r.stderr).not.toMatch(FULL_USAGE);
  });

  it('a mistyped option gets "did you mean", with that verb’s usage', async () => {
    const r = await cli(['restore', 'c-1', '--from', 'postgres', '--yes', '--reasn', 'x'], stack.env);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('unknown option --reasn — did you mean --reason?');
    expect(r.stderr).toContain('Usage: zeus-recover restore <id> --from <source> --yes --reason');
  });

  it('a missing flag gets one error line and that verb’s usage only', async () => {
    const r = await cli(['restore', 'c-1', '--yes', '--reason', 'x'], stack.env);
    expect(r.code).toBe(2);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('zeus-recover: restore needs --from <source>');
    expect(lines[1]).toMatch(/^Usage: zeus-recover restore /);
    expect(lines.length).toBeLessThanOrEqual(4);
    expect(r.stderr).not.toMatch(FULL_USAGE);
    expect(r.stderr).not.toContain('bulk-restore');
  });
});

describe('help for one verb', () => {
  it('restore --help and help restore print that verb’s usage, not all of them', async () => {
    for (const argv of [
      ['restore', '--help'],
      ['help', 'restore'],
    ]) {
      const r = await cli(argv, {});
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^Usage: zeus-recover restore <id> --from <source> --yes --reason/);
      expect(r.stdout).not.toMatch(FULL_USAGE);
    }
  });
});

describe('hints and backups', () => {
  it('the Next hint of validate runs as shown', async () => {
    const id = 'c-manners-hint';
    await stack.seed('postgres', id, makeConversation(id, 3));
    const v = await cli(['validate', id], stack.env);
    const next = /^Next: (.*)$/m.exec(v.stdout)?.[1] ?? '';
    expect(next).toMatch(new RegExp(`^zeus-recover restore ${id} --from postgres --yes --reason "`));
    const run = await cli(words(next).slice(1), stack.env);
    expect(run.code, run.stderr).toBe(0);
    expect(await stack.redis.client.exists(stack.redis.key(id))).toBe(1);
  });

  it('backups <id> lists a conversation’s backups, newest first, with the undo line to type', async () => {
    const id = 'c-manners-backups';
    await stack.seed('redis', id, makeConversation(id, 1));
    await stack.seed('postgres', id, makeConversation(id, 4));
    const r = await cli(
      ['restore', id, '--from', 'postgres', '--yes', '--reason', 'first', '--json'],
      stack.env,
    );
    const { backupId } = JSON.parse(r.stdout) as { backupId: string };
    const b = await cli(['backups', id], stack.env);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stdout).toMatch(/BACKUP\s+TAKEN \(UTC\)\s+FOR/);
    expect(b.stdout).toContain(backupId);
    expect(b.stdout).toContain(`zeus-recover undo ${backupId} --yes --reason`);
    const none = await cli(['backups', 'c-manners-none'], stack.env);
    expect(none.code).toBe(0);
    expect(none.stdout).toContain('No backups of c-manners-none');
  });

  it('an unknown backup points to `backups`, not to inspect', async () => {
    const r = await cli(['undo', 'bk_AAAAAAAAAAAAAAAAAAAA', '--yes', '--reason', 'x'], stack.env);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('zeus-recover backups <conversation id>');
    expect(r.stderr).not.toContain('inspect');
  });
});

describe('exit codes', () => {
  it('"nothing to restore" is a refusal (1), not a usage error (2)', async () => {
    const id = 'c-manners-same';
    const doc = makeConversation(id, 2);
    await stack.seed('redis', id, doc);
    await stack.seed('s3', id, doc);
    const r = await cli(['restore', id, '--from', 's3', '--yes', '--reason', 'again'], stack.env);
    expect(r.stderr).toContain('already holds exactly this copy');
    expect(r.code).toBe(1);
  });
});

describe('colour', () => {
  it('none when piped, nor with --json; FORCE_COLOR asks for it', async () => {
    const id = 'c-manners-colour';
    await stack.seed('postgres', id, makeConversation(id, 2));
    const piped = await cli(['inspect', id], stack.env);
    expect(piped.stdout).toContain('✔ found');
    expect(piped.stdout).not.toContain(ESC);
    const forced = await cli(['inspect', id], { ...stack.env, FORCE_COLOR: '1' });
    expect(forced.stdout).toContain(`${ESC}32m✔ found`);
    const json = await cli(['inspect', id, '--json'], { ...stack.env, FORCE_COLOR: '1' });
    expect(json.stdout).not.toContain(ESC);
  });

  it.skipIf(!haveScript)('on a terminal, colour unless NO_COLOR is set', async () => {
    const id = 'c-manners-colour';
    const tty = await onTerminal(['inspect', id], stack.env);
    expect(tty.stdout).toContain(`${ESC}32m✔ found`);
    const no = await onTerminal(['inspect', id], { ...stack.env, NO_COLOR: '1' });
    expect(no.stdout).toContain('✔ found');
    expect(no.stdout).not.toContain(ESC);
  });
});

describe('a long wait', () => {
  const hole = useBlackHole();

  it.skipIf(!haveScript)(
    'shows a labelled spinner on a terminal, and none when piped',
    async () => {
      // Redis never answers: the read waits out its 1.5 s budget, well past the spinner's delay.
      const env = { ...stack.env, REDIS_URL: `redis://127.0.0.1:${hole.port}`, REDIS_TIMEOUT_MS: '1500' };
      const tty = await onTerminal(['inspect', 'c-manners-slow'], env);
      expect(tty.stdout).toMatch(/[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] Reading Redis, PostgreSQL and S3 for c-manners-slow…/);
      const piped = await cli(['inspect', 'c-manners-slow'], env);
      expect(piped.stderr).not.toContain('Reading Redis');
    },
    30_000,
  );
});

describe('a tier that cannot be reached', () => {
  it('inspect and validate exit 1 and say what to fix', async () => {
    const id = 'c-manners-down';
    const doc = makeConversation(id, 2);
    await stack.seed('redis', id, doc);
    await stack.seed('postgres', id, doc);
    const { AWS_ACCESS_KEY_ID: _a, AWS_SECRET_ACCESS_KEY: _s, ...noCredentials } = stack.env;
    for (const verb of ['inspect', 'validate']) {
      const r = await cli([verb, id], noCredentials);
      expect(r.code, r.stdout).toBe(1);
      expect(r.stdout).toContain('S3: no AWS credentials — set AWS_ACCESS_KEY_ID');
    }
    const port = await freePort();
    const r = await cli(['inspect', id], { ...stack.env, REDIS_URL: `redis://127.0.0.1:${port}` });
    expect(r.code).toBe(1);
    expect(r.stdout).toContain(`Redis: connection refused at 127.0.0.1:${port} — check REDIS_URL`);
  }, 30_000);
});
