import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const repo = join(import.meta.dirname, '..', '..');
const biome = join(repo, 'node_modules', '.bin', 'biome');

/**
 * The layer rules live in biome.json and run in `npm test` (biome check). Here each rule is shown
 * catching a deliberate violation, in a scratch tree with the repository's own biome.json, so a
 * rule that stopped matching (a typo in a pattern, a moved folder) fails this test.
 */
let scratch: string;

beforeAll(async () => {
  scratch = await mkdtemp(join(tmpdir(), 'layer-rules-'));
  const config = JSON.parse(await readFile(join(repo, 'biome.json'), 'utf8'));
  config.vcs = { enabled: false };
  delete config.$schema;
  await writeFile(join(scratch, 'biome.json'), JSON.stringify(config));
});

afterAll(async () => {
  await rm(scratch, { recursive: true, force: true });
});

async function lint(files: Record<string, string>): Promise<{ ok: boolean; output: string }> {
  const dir = await mkdtemp(join(scratch, 'case-'));
  await writeFile(join(dir, 'biome.json'), await readFile(join(scratch, 'biome.json')));
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, path)), { recursive: true });
    await writeFile(join(dir, path), text);
  }
  return new Promise((resolve) => {
    execFile(
      biome,
      ['lint', '--max-diagnostics=50', '.'],
      { cwd: dir, encoding: 'utf8' },
      (err, stdout, stderr) => resolve({ ok: !err, output: `${stdout}${stderr}` }),
    );
  });
}

const use = (from: string) => `import { x } from '${from}';\nexport const y = x;\n`;

describe('layer rules (biome.json)', () => {
  it.each([
    ['the core imports Slack code', 'src/recovery/plan.ts', '../slack/delivery.js'],
    ['the core imports the workflow', 'src/recovery/plan.ts', '../workflow/workflow.js'],
    ['the core imports a view', 'src/recovery/tiers/redis.ts', '../../views/restore.js'],
    ['the core imports the Slack SDK', 'src/recovery/plan.ts', '@slack/web-api'],
    ['the core reads config', 'src/recovery/plan.ts', '../config.js'],
    ['the store imports the approval rules', 'src/store/audit.ts', '../approval/rules.js'],
    ['the store imports the approval sweeper', 'src/store/requests.ts', '../approval/sweeper.js'],
    ['a view imports a handler', 'src/views/inspect.ts', '../commands/slash.js'],
    ['a view imports the grammar', 'src/views/help.ts', '../commands/grammar.js'],
    ["a view imports the handlers' context", 'src/views/modal.ts', '../commands/context.js'],
    ['a view imports the delivery worker', 'src/views/thread.ts', '../slack/delivery.js'],
    ['a view imports a store client', 'src/views/inspect.ts', 'pg'],
    ['the Slack side imports the Postgres client', 'src/slack/delivery.ts', 'pg'],
    ['the Slack side builds SQL', 'src/slack/delivery.ts', '../store/sql.js'],
    ['the CLI imports Slack code', 'src/cli/main.ts', '../slack/delivery.js'],
    ['the workflow imports the Slack SDK', 'src/workflow/commands.ts', '@slack/web-api'],
    ['the workflow imports a Slack handler', 'src/workflow/decisions.ts', '../commands/actions.js'],
    ['the workflow imports the grammar', 'src/workflow/commands.ts', '../commands/grammar.js'],
    ['the workflow imports the Slack side', 'src/workflow/execution.ts', '../slack/delivery.js'],
    ['the workflow imports the composition root', 'src/workflow/context.ts', '../server.js'],
    ['a view imports the workflow', 'src/views/approval.ts', '../workflow/workflow.js'],
    ['production code imports a test helper', 'src/server.ts', '../test/helpers/stack.js'],
    ['production code imports the local Slack', 'src/server.ts', '../sandbox/slack/local-slack.js'],
    ['a view imports the Block Kit check', 'src/views/inspect.ts', '../../sandbox/slack/block-kit.js'],
    ['the store imports the Zeus stand-in', 'src/store/audit.ts', '../../sandbox/zeus/zeus.js'],
  ])('fails the build when %s', async (_what, file, target) => {
    const r = await lint({ [file]: use(target) });
    expect(r.ok).toBe(false);
    expect(r.output).toContain('noRestrictedImports');
  });

  it('fails the build on an import cycle', async () => {
    const r = await lint({
      'src/a.ts': "import { b } from './b.js';\nexport const a = 1 + b;\n",
      'src/b.ts': "import { a } from './a.js';\nexport const b = 2 + a;\n",
    });
    expect(r.ok).toBe(false);
    expect(r.output).toContain('noImportCycles');
  });

  it('fails the build on a cycle made only of type imports', async () => {
    const r = await lint({
      'src/a.ts': "import type { B } from './b.js';\nexport interface A { b?: B }\n",
      'src/b.ts': "import type { A } from './a.js';\nexport interface B { a?: A }\n",
    });
    expect(r.ok).toBe(false);
    expect(r.output).toContain('noImportCycles');
  });

  it('passes imports that follow the layers', async () => {
    const r = await lint({
      'src/recovery/plan.ts': use('./conversation.js'),
      'src/recovery/conversation.ts': 'export const x = 1;\n',
      'src/views/inspect.ts': use('../recovery/types.js'),
      'src/recovery/types.ts': 'export const x = 1;\n',
      // Ids and the verbs' Slack face live outside the handlers.
      'src/views/list.ts': use('../slack-ids.js'),
      'src/slack-ids.ts': 'export const x = 1;\n',
      'src/views/help.ts': use('../slack-verbs.js'),
      'src/slack-verbs.ts': 'export const x = 1;\n',
      'src/workflow/commands.ts': use('../views/inspect.js'),
      'src/workflow/decisions.ts': use('../approval/rules.js'),
      'src/approval/rules.ts': 'export const x = 1;\n',
      'src/commands/actions.ts': use('../workflow/workflow.js'),
      'src/workflow/workflow.ts': 'export const x = 1;\n',
      // The one approval module the store may see: the request types it stores.
      'src/store/requests.ts': use('../approval/types.js'),
      'src/approval/types.ts': 'export const x = 1;\n',
    });
    expect(r.output).not.toContain('noRestrictedImports');
    expect(r.ok).toBe(true);
  });
});
