#!/usr/bin/env node
// In a checkout, run the TypeScript source (so a stale dist/ never shadows it); in the image,
// which ships only dist/, run the compiled CLI.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const argv = process.argv.slice(2);

// A checkout brings Node 24 as a dev dependency; a shell whose `node` is older (this file run
// directly, not through npm/npx) hands over to it rather than run on an unsupported Node.
const bundledNode = join(root, 'node_modules', '.bin', 'node');
if (Number(process.versions.node.split('.')[0]) < 22 && existsSync(bundledNode)) {
  const child = spawnSync(bundledNode, [fileURLToPath(import.meta.url), ...argv], { stdio: 'inherit' });
  process.exit(child.status ?? 1);
}

const source = join(root, 'src', 'cli', 'main.ts');
const inCheckout = existsSync(source);

// Help is what a tired SRE types first: answer it from the usage module and the verb table it is
// generated from (both import-free otherwise), without the TypeScript loader or any SDK. In a
// checkout, their types are stripped once (Node's own stripper costs ~150 ms of CPU to load) and
// the plain copies are kept under node_modules/.cache, keyed by every source's size and mtime,
// so later calls just import JavaScript.
const wantsHelp = argv.length === 0 || argv[0] === 'help' || argv.includes('--help') || argv.includes('-h');
if (wantsHelp && (!inCheckout || process.features.typescript)) {
  const usage = inCheckout ? await plainUsage() : join(root, 'dist', 'cli', 'usage.js');
  if (usage !== null) {
    const { helpFor } = await import(pathToFileURL(usage).href);
    process.stdout.write(`${helpFor(argv)}\n`);
    process.exit(0);
  }
}

/**
 * src/cli/usage.ts and every file it imports (relative `./x.js` specifiers, followed), stripped
 * into one directory that keeps their paths relative to src/ with `.js` names and a package.json
 * that makes them ES modules. Null when no copy can be written: the full CLI answers instead.
 */
async function plainUsage() {
  const { mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = await import('node:fs');
  const { posix, relative } = await import('node:path');
  const src = join(root, 'src');
  const files = new Map(); // path under src/ (posix, .ts) -> source text
  const pending = ['cli/usage.ts'];
  let key = '';
  while (pending.length > 0) {
    const path = pending.shift();
    if (files.has(path)) continue;
    const full = join(src, path);
    const { size, mtimeMs } = statSync(full);
    const text = readFileSync(full, 'utf8');
    files.set(path, text);
    key += `${path}:${size}:${Math.trunc(mtimeMs)};`;
    for (const [, spec] of text.matchAll(
      /^\s*(?:import|export)\b[^'"]*?\bfrom\s+['"](\.{1,2}\/[^'"]+)\.js['"]/gm,
    )) {
      const target = posix.normalize(posix.join(posix.dirname(path), `${spec}.ts`));
      if (!relative(src, join(src, target)).startsWith('..')) pending.push(target);
    }
  }
  let hash = 0;
  for (const ch of key) hash = (Math.imul(hash, 31) + ch.charCodeAt(0)) >>> 0;
  const { tmpdir } = await import('node:os');
  // A read-only checkout keeps its copy in the temporary directory instead.
  for (const base of [
    join(root, 'node_modules', '.cache', 'zeus-recover'),
    join(tmpdir(), 'zeus-recover-cache'),
  ]) {
    const dir = join(base, `usage-${hash.toString(36)}-${key.length}`);
    const entry = join(dir, 'cli', 'usage.js');
    if (existsSync(entry)) return entry;
    const temp = `${dir}.${process.pid}`;
    try {
      const { stripTypeScriptTypes } = await import('node:module');
      for (const [path, text] of files) {
        const out = join(temp, path.replace(/\.ts$/, '.js'));
        mkdirSync(dirname(out), { recursive: true });
        writeFileSync(out, stripTypeScriptTypes(text));
      }
      writeFileSync(join(temp, 'package.json'), '{"type":"module"}\n');
      renameSync(temp, dir);
      return entry;
    } catch {
      rmSync(temp, { recursive: true, force: true });
      // Another process may have written the same copy first.
      if (existsSync(entry)) return entry;
    }
  }
  return null;
}

let entry = join(root, 'dist', 'cli', 'main.js');
if (inCheckout) {
  const { register } = await import('tsx/esm/api');
  register();
  entry = source;
}
const { runCli } = await import(pathToFileURL(entry).href);
process.exitCode = await runCli(argv, {
  stdout: (t) => process.stdout.write(t),
  stderr: (t) => process.stderr.write(t),
  env: process.env,
  tty: { stdout: process.stdout.isTTY === true, stderr: process.stderr.isTTY === true },
});
