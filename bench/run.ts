/**
 * `npm run bench`: figures for the paths that must be fast, on the real local services.
 *  - analysis of stored conversations (CPU, runs on the event loop),
 *  - inspect (three tiers in parallel), restore + undo,
 *  - CLI start-up (`--help`), beside Node's own start and the old eager load,
 *  - Slack's 3-second rule: time from a signed slash command to the bot's HTTP answer,
 *  - sustained load: a fixed rate of commands for 20 s, counted ok / busy / failed (load.ts),
 *  - bulk restore beside the runbook's way and the raw pipeline (bulk.ts; BENCH_BULK_N),
 *  - bulk's Redis write stage through shadow keys beside its compare-and-set (bulk-shadow.ts).
 * Prints a table; asserts nothing (tests never assert on wall-clock time).
 */
import { performance } from 'node:perf_hooks';
import { startSlackStandin } from '../sandbox/slack/local-slack.js';
import { postToApp, slashCommandBody } from '../sandbox/slack/requests.js';
import { loadConfig } from '../src/config.js';
import { createLogger } from '../src/log.js';
import { analyzeConversation } from '../src/recovery/conversation.js';
import { executeRestore, inspectConversation, planRestore, planUndo } from '../src/recovery/index.js';
import { startBot } from '../src/server.js';
import { makeConversation } from '../test/helpers/conversations.js';
import { startStack } from '../test/helpers/stack.js';
import { benchBulk } from './bulk.js';
import { benchBulkShadow } from './bulk-shadow.js';
import { measureCliStartup } from './cli-startup.js';
import { benchLoad } from './load.js';

interface Row {
  name: string;
  n: number;
  p50: number;
  p95: number;
  max: number;
}

const rows: Row[] = [];

async function measure(
  name: string,
  n: number,
  fn: (i: number) => Promise<unknown> | unknown,
): Promise<void> {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn(i);
    times.push(performance.now() - t);
  }
  times.sort((a, b) => a - b);
  const at = (q: number) => times[Math.min(times.length - 1, Math.floor(q * times.length))] ?? 0;
  rows.push({ name, n, p50: at(0.5), p95: at(0.95), max: times[times.length - 1] ?? 0 });
  process.stderr.write(`  ${name} done\n`);
}

async function main(): Promise<void> {
  process.stderr.write('zeus-recover bench (local Redis, Postgres, s3rver)\n');
  await measureCliStartup(measure);
  for (const steps of [10, 1_000, 20_000]) {
    const doc = Buffer.from(makeConversation('c-bench', steps));
    await measure(
      `analyze ${steps} steps (${(doc.length / 1024).toFixed(0)} KiB)`,
      steps > 5000 ? 5 : 50,
      () => analyzeConversation(doc, 'c-bench'),
    );
  }

  const stack = await startStack();
  try {
    const rt = await stack.runtime();
    const id = 'c-bench-1';
    await stack.seed('redis', id, makeConversation(id, 50));
    await stack.seed('postgres', id, makeConversation(id, 60));
    await stack.seed('s3', id, makeConversation(id, 40));
    await measure('inspect (3 tiers, 50-step copies)', 200, () => inspectConversation(rt.deps, id));
    const actor = { id: 'cli:bench', reason: 'bench' };
    await measure('restore from postgres + undo', 50, async () => {
      const r = await executeRestore(
        rt.deps,
        await planRestore(rt.deps, id, { kind: 'tier', tier: 'postgres' }),
        actor,
      );
      await executeRestore(rt.deps, await planUndo(rt.deps, r.backupId), actor);
    });

    const slack = await startSlackStandin();
    const secret = 'bench-signing-secret-123456';
    const bot = await startBot(
      loadConfig(
        {
          ...stack.env,
          SLACK_BOT_TOKEN: 'xoxb-bench',
          SLACK_SIGNING_SECRET: secret,
          SLACK_API_URL: slack.apiUrl,
          PORT: '0',
        },
        'slack',
      ),
      createLogger('silent'),
      { deliveryPollMs: 200 },
    );
    try {
      const url = `http://127.0.0.1:${bot.port}`;
      await measure('slash command → HTTP ack (inspect)', 200, () =>
        postToApp(url, slashCommandBody({ text: `inspect ${id}`, response_url: slack.responseUrl('b') }), {
          secret,
        }),
      );
      await measure('slash command → HTTP ack (help)', 200, () =>
        postToApp(url, slashCommandBody({ text: 'help' }), { secret }),
      );
    } finally {
      await bot.stop();
      await slack.stop();
    }
  } finally {
    await stack.stop();
  }

  const fmt = (ms: number) => `${ms.toFixed(1)} ms`.padStart(10);
  process.stdout.write(
    `\n${'benchmark'.padEnd(44)} ${'n'.padStart(5)} ${'p50'.padStart(10)} ${'p95'.padStart(10)} ${'max'.padStart(10)}\n`,
  );
  for (const r of rows) {
    process.stdout.write(
      `${r.name.padEnd(44)} ${String(r.n).padStart(5)} ${fmt(r.p50)} ${fmt(r.p95)} ${fmt(r.max)}\n`,
    );
  }
  await benchLoad((line) => process.stdout.write(line));
  await benchBulk((line) => process.stdout.write(line));
  await benchBulkShadow((line) => process.stdout.write(line));
  process.stdout.write(`\nnode ${process.version}, ${new Date().toISOString()}\n`);
}

await main();
