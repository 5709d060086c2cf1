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

// Help is what a tired SRE types first: answer it from the import-free usage module, without the
// TypeScript loader or any SDK. In a checkout, the module's types are stripped once (Node's own
// stripper costs ~150 ms of CPU to load) and the plain copy is kept under node_modules/.cache,
// keyed by the source's size and mtime, so later calls just import JavaScript.
const wantsHelp = argv.length === 0 || argv[0] === 'help' || argv.includes('--help') || argv.includes('-h');
if (wantsHelp && (!inCheckout || process.features.typescript)) {
  const { USAGE } = await import(pathToFileURL(inCheckout ? await plainUsage() : distUsage()).href);
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}

function distUsage() {
  return join(root, 'dist', 'cli', 'usage.js');
}

async function plainUsage() {
  const { mkdirSync, readFileSync, renameSync, statSync, writeFileSync } = await import('node:fs');
  const from = join(root, 'src', 'cli', 'usage.ts');
  const { size, mtimeMs } = statSync(from);
  const dir = join(root, 'node_modules', '.cache', 'zeus-recover');
  const cached = join(dir, `usage-${size}-${Math.trunc(mtimeMs)}.mjs`);
  if (existsSync(cached)) return cached;
  try {
    const { stripTypeScriptTypes } = await import('node:module');
    mkdirSync(dir, { recursive: true });
    const temp = `${cached}.${process.pid}`;
    writeFileSync(temp, stripTypeScriptTypes(readFileSync(from, 'utf8')));
    renameSync(temp, cached);
    return cached;
  } catch {
    return from; // read-only checkout: import the source itself (Node strips its types)
  }
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
});
