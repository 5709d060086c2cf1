import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..', '..');
const tsc = join(repo, 'node_modules', '.bin', 'tsc');

/**
 * A writer with a wrong action or data shape must fail the build, not the thread's rendering in
 * production. Scratch writers call `AuditLog.append` and are compiled with the repository's own
 * compiler settings; one compile for all of them, each judged by the errors in its own file.
 */
const WRITERS: Record<string, { ok: boolean; body: string }> = {
  'good.ts': {
    ok: true,
    body: `await audit.append({ ...base, action: 'restore.failed', data: { source: 'postgres', backupId: null, code: 'conflict', error: 'Redis changed.' } });
await audit.append({ ...base, action: 'command.received', data: { command: 'inspect c-1' } });`,
  },
  'misspelt-action.ts': {
    ok: false,
    body: `await audit.append({ ...base, action: 'restore.fail', data: { source: 'postgres', backupId: null, code: 'conflict', error: 'Redis changed.' } });`,
  },
  'renamed-field.ts': {
    ok: false,
    body: `await audit.append({ ...base, action: 'restore.failed', data: { source: 'postgres', backupId: null, code: 'conflict', message: 'Redis changed.' } });`,
  },
  'missing-field.ts': {
    ok: false,
    body: `await audit.append({ ...base, action: 'request.created', data: { approverHint: 'an approver' } });`,
  },
  'wrong-type.ts': {
    ok: false,
    body: `await audit.append({ ...base, action: 'export.refused', data: { tier: 'redis', bytes: '9 MB', limit: 5, cli: 'x' } });`,
  },
  'outcome-and-action-disagree.ts': {
    ok: false,
    body: `await audit.append({ ...base, action: 'replay.succeeded', data: { fromStep: 5, outcome: 'failed', sent: true, ambiguous: false, replayId: null, polls: 1, status: null, detail: 'x' } });`,
  },
  'another-actions-data.ts': {
    ok: false,
    body: `await audit.append({ ...base, action: 'restore.started', data: { command: 'inspect c-1' } });`,
  },
};

let scratch: string;
let output: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'audit-typecheck-'));
  const types = join(repo, 'src', 'store', 'types.js');
  for (const [file, { body }] of Object.entries(WRITERS)) {
    await writeFile(
      join(scratch, file),
      `import type { AuditLog } from ${JSON.stringify(types)};
declare const audit: AuditLog;
const base = { actor: 'cli:alice', conversationId: 'c-1', requestId: null };
${body}
export {};
`,
    );
  }
  await writeFile(join(scratch, 'package.json'), JSON.stringify({ type: 'module' }));
  await writeFile(
    join(scratch, 'tsconfig.json'),
    JSON.stringify({
      extends: join(repo, 'tsconfig.json'),
      compilerOptions: {
        noEmit: true,
        rootDir: '/',
        typeRoots: [join(repo, 'node_modules', '@types')],
      },
      include: [],
      files: Object.keys(WRITERS).map((f) => join(scratch, f)),
    }),
  );
  output = await new Promise((resolve) => {
    execFile(
      tsc,
      ['-p', join(scratch, 'tsconfig.json')],
      { cwd: scratch, encoding: 'utf8' },
      (_err, stdout, stderr) => resolve(`${stdout}${stderr}`),
    );
  });
}, 120_000);

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

describe('the audit vocabulary at typecheck', () => {
  it('has a sound setup: every error is a type error in a scratch writer', () => {
    const errors = output.split('\n').filter((l) => l.includes('error TS'));
    expect(errors.length, output).toBeGreaterThan(0);
    for (const line of errors) expect(line).toMatch(/^[a-z-]+\.ts\(\d+,\d+\): error TS2\d{3}:/);
  });

  it.each(Object.entries(WRITERS))('%s', (file, { ok }) => {
    // Type errors (TS2xxx) only: a scratch file failing for a setup reason proves nothing.
    const errors = output.split('\n').filter((l) => l.includes(`${file}(`) && / error TS2\d{3}:/.test(l));
    if (ok) expect(errors).toEqual([]);
    else expect(errors.length, output).toBeGreaterThan(0);
  });
});
