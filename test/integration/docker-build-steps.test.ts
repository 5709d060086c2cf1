import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { REDIS_URL } from '../helpers/env.js';
import { freePort } from '../helpers/net.js';
import { createTestDatabase, type TestDatabase } from '../helpers/pg.js';

/**
 * There is no Docker engine on the build machines, so this test performs the image's build and
 * start steps without one: it reads the Dockerfile and interprets it — each stage is a
 * directory standing in for the container's filesystem, COPY copies from a clean build
 * context (the repository's committed and committable files, minus .dockerignore), RUN runs the
 * stage's commands with `sh -c`, and the final stage's CMD is started and probed, HEALTHCHECK
 * included. The one thing it cannot check is the base image: it uses this machine's Node.
 */

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const dockerfilePath = join(repoRoot, 'Dockerfile');
const dockerignorePath = join(repoRoot, '.dockerignore');

const DEV_ONLY = ['vitest', 'typescript', 's3rver', '@biomejs/biome', 'nock', 'ajv', 'playwright-core'];

// ---------------------------------------------------------------------------------------------
// Dockerfile parsing

interface Instruction {
  op: string;
  args: string;
  line: number;
}

interface Stage {
  image: string;
  name: string | undefined;
  instructions: Instruction[];
}

function parseDockerfile(text: string): Stage[] {
  const instructions: Instruction[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const start = i;
    let line = lines[i] ?? '';
    if (/^\s*(#.*)?$/.test(line)) continue;
    while (/\\\s*$/.test(line) && i + 1 < lines.length) {
      i++;
      const next = lines[i] ?? '';
      if (/^\s*#/.test(next)) continue;
      line = `${line.replace(/\\\s*$/, '')} ${next.trim()}`;
    }
    const match = /^\s*([A-Za-z]+)\s+(.*)$/.exec(line);
    if (!match?.[1] || match[2] === undefined)
      throw new Error(`Dockerfile line ${start + 1}: cannot parse "${line}"`);
    instructions.push({ op: match[1].toUpperCase(), args: match[2].trim(), line: start + 1 });
  }
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.op === 'FROM') {
      const m = /^(?:--platform=\S+\s+)?(\S+)(?:\s+AS\s+(\S+))?$/i.exec(ins.args);
      if (!m?.[1]) throw new Error(`Dockerfile line ${ins.line}: cannot parse FROM ${ins.args}`);
      stages.push({ image: m[1], name: m[2], instructions: [] });
    } else {
      const stage = stages.at(-1);
      if (!stage) throw new Error(`Dockerfile line ${ins.line}: ${ins.op} before FROM`);
      stage.instructions.push(ins);
    }
  }
  return stages;
}

/** Splits leading `--flag=value` options (COPY --from, RUN --mount, HEALTHCHECK --interval). */
function splitFlags(args: string): { flags: Map<string, string>; rest: string } {
  const flags = new Map<string, string>();
  let rest = args;
  for (let m = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest); m; m = /^--([a-z-]+)(?:=(\S*))?\s+/.exec(rest)) {
    flags.set(m[1] ?? '', m[2] ?? '');
    rest = rest.slice(m[0].length);
  }
  return { flags, rest };
}

/** CMD/HEALTHCHECK CMD: exec form (JSON array) or shell form. */
function commandOf(form: string): string[] {
  if (form.startsWith('[')) {
    const parsed: unknown = JSON.parse(form);
    if (!Array.isArray(parsed) || !parsed.every((p) => typeof p === 'string')) {
      throw new Error(`not an exec-form command: ${form}`);
    }
    return parsed;
  }
  return ['sh', '-c', form];
}

function parseEnv(args: string): Record<string, string> {
  const env: Record<string, string> = {};
  const pairs = args.match(/[A-Za-z_][A-Za-z0-9_]*=(?:"[^"]*"|'[^']*'|\S*)/g);
  if (!pairs || !args.includes('=')) {
    const [key, ...value] = args.split(/\s+/);
    if (key) env[key] = value.join(' ');
    return env;
  }
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    env[pair.slice(0, eq)] = pair.slice(eq + 1).replace(/^(["'])(.*)\1$/, '$2');
  }
  return env;
}

// ---------------------------------------------------------------------------------------------
// .dockerignore

function globToRegExp(glob: string): RegExp {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] ?? '';
    if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/** Docker's rules: patterns are relative to the context root; the last matching one wins; a
 * pattern that matches a directory excludes everything under it. */
function dockerignoreMatcher(text: string): (path: string) => boolean {
  const rules = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const negate = l.startsWith('!');
      const pattern = posix.normalize((negate ? l.slice(1) : l).replace(/^\/+/, '')).replace(/\/+$/, '');
      return { negate, re: globToRegExp(pattern) };
    });
  return (path) => {
    const parts = path.split('/');
    const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
    let ignored = false;
    for (const rule of rules) {
      if (prefixes.some((p) => rule.re.test(p))) ignored = !rule.negate;
    }
    return ignored;
  };
}

// ---------------------------------------------------------------------------------------------
// Running steps

interface StepResult {
  code: number | null;
  output: string;
}

function run(cmd: string[], cwd: string, env: NodeJS.ProcessEnv, timeoutMs = 240_000): Promise<StepResult> {
  return new Promise((resolvePromise, reject) => {
    const [file, ...args] = cmd;
    if (!file) return reject(new Error('empty command'));
    const child = spawn(file, args, { cwd, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    const append = (chunk: Buffer) => {
      output += chunk.toString();
      if (output.length > 200_000) output = output.slice(-100_000);
    };
    child.stdout.on('data', append);
    child.stderr.on('data', append);
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      output += `\n[killed after ${timeoutMs} ms]`;
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolvePromise({ code, output });
    });
  });
}

function stepFailure(what: string, result: StepResult): Error {
  const out = result.output;
  // npm puts the cause first and its usage text after it: keep both ends of a long output.
  const shown = out.length > 24_000 ? `${out.slice(0, 12_000)}\n[…]\n${out.slice(-12_000)}` : out;
  return new Error(`${what} failed (exit ${result.code}):\n${shown}`);
}

/** A clean environment for build steps and the app: no vitest/npm lifecycle variables. */
function baseEnv(): NodeJS.ProcessEnv {
  const keep = [
    'HOME',
    'USER',
    'LANG',
    'TMPDIR',
    'NODE_EXTRA_CA_CERTS',
    'HTTP_PROXY',
    'HTTPS_PROXY',
    'NO_PROXY',
    'http_proxy',
    'https_proxy',
    'no_proxy',
    'npm_config_registry',
    'npm_config_cache',
    'npm_config_userconfig',
    'npm_config_cafile',
  ];
  const env: NodeJS.ProcessEnv = {};
  for (const key of keep) if (process.env[key] !== undefined) env[key] = process.env[key];
  env.PATH = `${dirname(process.execPath)}:${process.env.PATH ?? '/usr/bin:/bin'}`;
  // Use the local npm cache when it has what is needed (the image build downloads instead).
  env.npm_config_prefer_offline = 'true';
  env.npm_config_update_notifier = 'false';
  return env;
}

interface BuiltImage {
  /** The final stage's WORKDIR, on disk. */
  appDir: string;
  env: Record<string, string>;
  cmd: string[];
  healthcheck: string[] | undefined;
  user: string | undefined;
  steps: Array<{ stage: string; step: string; ms: number }>;
}

/** Copies the files a clean checkout would have (tracked + untracked-but-not-ignored). */
async function makeContext(into: string): Promise<void> {
  const list = (args: string[]) =>
    execFileSync('git', ['ls-files', '-z', ...args], { cwd: repoRoot, maxBuffer: 64 * 1024 * 1024 })
      .toString()
      .split('\0')
      .filter(Boolean);
  const files = [...new Set([...list([]), ...list(['--others', '--exclude-standard'])])];
  const ignored = dockerignoreMatcher(await readFile(dockerignorePath, 'utf8'));
  for (const file of files) {
    const source = join(repoRoot, file);
    if (ignored(file) || !existsSync(source) || !statSync(source).isFile()) continue;
    await mkdir(dirname(join(into, file)), { recursive: true });
    await cp(source, join(into, file));
  }
}

async function buildImage(work: string): Promise<BuiltImage> {
  const stages = parseDockerfile(await readFile(dockerfilePath, 'utf8'));
  const context = join(work, 'context');
  await makeContext(context);
  const roots: string[] = [];
  const states: Array<Omit<BuiltImage, 'appDir' | 'steps'> & { workdir: string }> = [];
  const steps: BuiltImage['steps'] = [];
  let last: BuiltImage | undefined;

  for (const [index, stage] of stages.entries()) {
    const root = join(work, `stage-${index}-${stage.name ?? 'unnamed'}`);
    const label = stage.name ?? `#${index}`;
    const parent = stages.findIndex((s, i) => i < index && s.name === stage.image);
    await mkdir(root, { recursive: true });
    if (parent >= 0) await cp(roots[parent] ?? '', root, { recursive: true });
    roots.push(root);
    // A stage built FROM an earlier one inherits its files, WORKDIR, ENV, USER, CMD, HEALTHCHECK.
    const inherited = parent >= 0 ? states[parent] : undefined;
    let workdir = inherited?.workdir ?? '/';
    const env: Record<string, string> = { ...inherited?.env };
    let cmd: string[] = inherited?.cmd ?? [];
    let healthcheck = inherited?.healthcheck;
    let user = inherited?.user;
    // A container path (absolute, or relative to WORKDIR) inside this stage's directory.
    const inRoot = (stageRoot: string, path: string, base = workdir) => {
      const absolute = posix.resolve(base, path);
      return join(stageRoot, absolute) + (path.endsWith('/') ? '/' : '');
    };

    for (const ins of stage.instructions) {
      const where = `Dockerfile line ${ins.line} (${ins.op} ${ins.args})`;
      switch (ins.op) {
        case 'WORKDIR':
          workdir = posix.resolve(workdir, ins.args);
          await mkdir(inRoot(root, '.'), { recursive: true });
          break;
        case 'ENV':
          Object.assign(env, parseEnv(ins.args));
          break;
        case 'COPY': {
          const { flags, rest } = splitFlags(ins.args);
          const parts = rest.split(/\s+/);
          const dest = parts.pop();
          if (!dest || parts.length === 0 || rest.startsWith('['))
            throw new Error(`${where}: unsupported form`);
          if (parts.some((p) => /[*?[]/.test(p))) throw new Error(`${where}: wildcards are not interpreted`);
          const from = flags.get('from');
          let sourceRoot = context;
          if (from !== undefined) {
            const i = stages.findIndex((s, j) => j < index && (s.name === from || String(j) === from));
            if (i < 0) throw new Error(`${where}: unknown stage ${from}`);
            sourceRoot = roots[i] ?? '';
          }
          const target = inRoot(root, dest);
          const intoDir = dest.endsWith('/') || parts.length > 1;
          for (const part of parts) {
            const source =
              from === undefined ? join(sourceRoot, posix.normalize(part)) : inRoot(sourceRoot, part, '/');
            if (!existsSync(source)) {
              throw new Error(`${where}: ${part} is not in the ${from ? `stage ${from}` : 'build context'}`);
            }
            const to = statSync(source).isDirectory()
              ? target
              : intoDir
                ? join(target, posix.basename(part))
                : target;
            await mkdir(statSync(source).isDirectory() ? to : dirname(to), { recursive: true });
            await cp(source, to, { recursive: true });
          }
          break;
        }
        case 'RUN': {
          const { rest } = splitFlags(ins.args);
          if (rest.startsWith('[')) throw new Error(`${where}: exec-form RUN is not interpreted`);
          const started = Date.now();
          const result = await run(['sh', '-c', rest], inRoot(root, '.'), { ...baseEnv(), ...env });
          steps.push({ stage: label, step: rest, ms: Date.now() - started });
          if (result.code !== 0) throw stepFailure(`Stage ${label}: RUN ${rest}`, result);
          break;
        }
        case 'CMD':
          cmd = commandOf(ins.args);
          break;
        case 'HEALTHCHECK': {
          const { rest } = splitFlags(ins.args);
          if (/^NONE$/i.test(rest)) healthcheck = undefined;
          else {
            const m = /^CMD\s+(.*)$/i.exec(rest);
            if (!m?.[1]) throw new Error(`${where}: expected HEALTHCHECK [options] CMD …`);
            healthcheck = commandOf(m[1]);
          }
          break;
        }
        case 'USER':
          user = ins.args;
          break;
        case 'EXPOSE':
        case 'LABEL':
          break;
        default:
          throw new Error(
            `${where}: ${ins.op} is not interpreted by this test; extend it or avoid ${ins.op}`,
          );
      }
    }
    states.push({ workdir, env, cmd, healthcheck, user });
    last = { appDir: inRoot(root, '.'), env, cmd, healthcheck, user, steps };
  }
  if (!last) throw new Error('Dockerfile has no FROM');
  return last;
}

// ---------------------------------------------------------------------------------------------
// Static checks of the Dockerfile and .dockerignore

describe('Dockerfile', () => {
  it('is multi-stage on an even (LTS) Node ≥ 22, with a non-root, health-checked runtime stage', async () => {
    const stages = parseDockerfile(await readFile(dockerfilePath, 'utf8'));
    expect(stages.length).toBeGreaterThanOrEqual(2);
    const stageNames = new Set(stages.map((s) => s.name));
    for (const stage of stages) {
      if (stageNames.has(stage.image)) continue;
      const m = /^(?:docker\.io\/)?(?:library\/)?node:(\d+)[.-]/.exec(stage.image);
      expect(m, `base image ${stage.image} should be node:<major>-…`).not.toBeNull();
      const major = Number(m?.[1]);
      expect(major).toBeGreaterThanOrEqual(22);
      expect(major % 2, `node ${major} is not an LTS line`).toBe(0);
    }
    const final = stages.at(-1);
    const ops = (stage: Stage | undefined, op: string) =>
      stage?.instructions.filter((i) => i.op === op) ?? [];
    const users = ops(final, 'USER');
    expect(users.length).toBeGreaterThan(0);
    const user = users.at(-1)?.args.split(':')[0];
    expect(['root', '0', '']).not.toContain(user);
    expect(ops(final, 'HEALTHCHECK').map((i) => i.args)).toEqual([expect.stringContaining('/healthz')]);
    expect(ops(final, 'CMD').at(-1)?.args).toBe('["node", "dist/main.js"]');
    expect(ops(final, 'ENV').some((i) => parseEnv(i.args).NODE_ENV === 'production')).toBe(true);
    expect(ops(final, 'RUN'), 'the runtime stage only copies what the others built').toEqual([]);
    const runs = stages.flatMap((s) => ops(s, 'RUN').map((i) => i.args));
    expect(
      runs.some((r) => /npm ci\b.*--omit=dev|npm prune\b.*--omit=dev|npm prune --production/.test(r)),
    ).toBe(true);
    // The build stage must not be told it is production, or npm ci leaves typescript out.
    const build = stages.find((s) => ops(s, 'RUN').some((i) => /npm run build/.test(i.args)));
    expect(build).toBeDefined();
    expect(ops(build, 'ENV').some((i) => parseEnv(i.args).NODE_ENV === 'production')).toBe(false);
  });

  it('has a .dockerignore that keeps dependencies, build output, VCS data and secrets out of the context', async () => {
    const ignored = dockerignoreMatcher(await readFile(dockerignorePath, 'utf8'));
    for (const path of [
      'node_modules/pg/package.json',
      '.git/HEAD',
      'test-artifacts/report.html',
      'dist/main.js',
      '.env',
      'deploy/.env',
    ]) {
      expect(ignored(path), path).toBe(true);
    }
    for (const path of [
      'package.json',
      'package-lock.json',
      'tsconfig.json',
      'tsconfig.build.json',
      'src/main.ts',
      'src/cli/main.ts',
      'bin/zeus-recover.js',
    ]) {
      expect(ignored(path), path).toBe(false);
    }
  });
});

// ---------------------------------------------------------------------------------------------
// The build and start steps, performed

describe('Docker image build and start steps, without Docker', () => {
  let work: string | undefined;
  let built: BuiltImage | undefined;
  let db: TestDatabase | undefined;
  let app: ChildProcess | undefined;
  /** Later tests need the build; if it failed they fail too (never skip). */
  const image = (): BuiltImage => {
    if (!built) throw new Error('the build steps did not complete (see the first failure)');
    return built;
  };

  afterAll(async () => {
    if (app && app.exitCode === null && app.signalCode === null) app.kill('SIGKILL');
    await db?.drop();
    if (work) await rm(work, { recursive: true, force: true });
  }, 60_000);

  it('runs every stage: npm ci, npm run build, npm ci --omit=dev, copies into the runtime stage', async () => {
    work = await mkdtemp(join(tmpdir(), 'zr-docker-steps-'));
    built = await buildImage(work);
    console.info(
      `build steps:\n${built.steps.map((s) => `  [${s.stage}] ${s.step}: ${(s.ms / 1000).toFixed(1)} s`).join('\n')}`,
    );
  }, 600_000);

  it('produces dist/main.js and dist/cli/main.js, and only production dependencies', () => {
    const { appDir, user } = image();
    expect(existsSync(join(appDir, 'dist', 'main.js'))).toBe(true);
    expect(existsSync(join(appDir, 'dist', 'cli', 'main.js'))).toBe(true);
    expect(existsSync(join(appDir, 'bin', 'zeus-recover.js'))).toBe(true);
    // No sources in the image: whatever runs, runs compiled (no tsx fallback possible).
    expect(existsSync(join(appDir, 'src'))).toBe(false);
    const modules = join(appDir, 'node_modules');
    for (const pkg of ['@slack/bolt', 'pg', 'ioredis', 'pino', 'zod', '@aws-sdk/client-s3']) {
      expect(existsSync(join(modules, pkg, 'package.json')), `${pkg} missing`).toBe(true);
    }
    for (const pkg of DEV_ONLY) {
      expect(existsSync(join(modules, pkg)), `dev dependency ${pkg} in the runtime image`).toBe(false);
    }
    expect(user?.split(':')[0]).toMatch(/^(?!root$|0$).+/);
  });

  it('starts with CMD, answers /healthz and /readyz, passes its HEALTHCHECK and stops cleanly on SIGTERM', async () => {
    const { appDir, env: imageEnv, cmd, healthcheck } = image();
    db = await createTestDatabase('zr_docker');
    const port = await freePort();
    const env: NodeJS.ProcessEnv = {
      ...baseEnv(),
      ...imageEnv,
      PORT: String(port),
      REDIS_URL,
      REDIS_KEY_PREFIX: `zr-docker-${port}:`,
      DATABASE_URL: db.url,
      SLACK_BOT_TOKEN: 'xoxb-test',
      SLACK_SIGNING_SECRET: 'docker-steps-signing-secret',
      // Unreachable on purpose: the bot must start anyway and retry auth.test in the background.
      SLACK_API_URL: 'http://127.0.0.1:1/api/',
      S3_ENDPOINT: 'http://127.0.0.1:1',
      LOG_LEVEL: 'info',
    };
    const [file, ...args] = cmd;
    expect(file).toBeDefined();
    app = spawn(file ?? 'node', args, { cwd: appDir, env, stdio: ['ignore', 'pipe', 'pipe'] });
    const started = app;
    let output = '';
    started.stderr?.on('data', (c: Buffer) => {
      output += c.toString();
    });
    const listening = await new Promise<Record<string, unknown>>((resolvePromise, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no "listening" log line within 30 s:\n${output}`)),
        30_000,
      );
      let buffered = '';
      started.stdout?.on('data', (c: Buffer) => {
        output += c.toString();
        buffered += c.toString();
        let nl = buffered.indexOf('\n');
        while (nl >= 0) {
          const line = buffered.slice(0, nl);
          buffered = buffered.slice(nl + 1);
          nl = buffered.indexOf('\n');
          try {
            const entry = JSON.parse(line) as Record<string, unknown>;
            if (entry.msg === 'zeus-recover is listening') {
              clearTimeout(timer);
              resolvePromise(entry);
            }
          } catch {
            // not a log line
          }
        }
      });
      started.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`the app exited (${code ?? signal}) before listening:\n${output}`));
      });
    });
    expect(listening.port).toBe(port);

    const health = await fetch(`http://127.0.0.1:${port}/healthz`);
    expect(health.status, output).toBe(200);
    const ready = await fetch(`http://127.0.0.1:${port}/readyz`);
    const readyBody = await ready.text();
    expect(ready.status, readyBody).toBe(200);

    expect(healthcheck, 'HEALTHCHECK').toBeDefined();
    const check = await run(healthcheck ?? [], appDir, env, 30_000);
    if (check.code !== 0) throw stepFailure(`HEALTHCHECK ${healthcheck?.join(' ')}`, check);

    const exited = new Promise<number | null>((resolvePromise) =>
      started.once('exit', (code) => resolvePromise(code)),
    );
    started.kill('SIGTERM');
    const code = await Promise.race([
      exited,
      new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), 15_000)),
    ]);
    expect(code, `shutdown:\n${output.slice(-5000)}`).toBe(0);
  }, 90_000);

  it('runs the CLI from the image (compiled, without tsx)', async () => {
    const { appDir, env: imageEnv } = image();
    const env = { ...baseEnv(), ...imageEnv };
    const help = await run(['node', 'bin/zeus-recover.js', 'help'], appDir, env, 30_000);
    if (help.code !== 0) throw stepFailure('node bin/zeus-recover.js help', help);
    expect(help.output).toContain('Usage: zeus-recover');
    // A configuration error exits 2 with the problem listed, from the compiled code too.
    const bad = await run(['node', 'bin/zeus-recover.js', 'inspect', 'c-1'], appDir, env, 30_000);
    expect(bad.code, bad.output).toBe(2);
    expect(bad.output).toContain('DATABASE_URL');
  }, 60_000);

  it('analyses large copies on a worker thread from the compiled code too', async () => {
    const { appDir, env: imageEnv } = image();
    const env = { ...baseEnv(), ...imageEnv };
    const script = [
      "const { analyzeAsync } = await import('./dist/recovery/analyze-async.js');",
      "const steps = Array.from({ length: 4000 }, (_, i) => ({ step: i + 1, role: 'user', content: 'x'.repeat(60), ts: new Date(Date.UTC(2025, 0, 1) + i * 1000).toISOString() }));",
      "const doc = Buffer.from(JSON.stringify({ id: 'c-1', status: 'active', steps, updated_at: '2026-01-01T00:00:00.000Z' }));",
      'const a = await analyzeAsync(doc, "c-1");',
      'console.log(JSON.stringify({ bytes: doc.length, valid: a.valid, steps: a.stepCount }));',
    ].join('\n');
    const out = await run(['node', '--input-type=module', '-e', script], appDir, env, 30_000);
    if (out.code !== 0) throw stepFailure('analyzeAsync from dist', out);
    expect(out.output).toContain('"valid":true,"steps":4000');
  }, 60_000);
});
