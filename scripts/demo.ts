import { chmod, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DeleteObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import pg from 'pg';
import { SLASH_COMMAND, startSandboxWithBot } from '../sandbox/demo.js';
import { runCli } from '../src/cli/main.js';
import { createLogger } from '../src/log.js';
import { DEMO_IDS, type DemoCase, seedDemo } from './demo-seed.js';
import { startLocalS3 } from './local-s3.js';

const ADMIN_DB = process.env.DEMO_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DEMO_DB = 'zeus_recover_demo';
/** The sandbox's bot state lives apart from the CLI walk-through's, and is reset on every start. */
const SANDBOX_BOT_SCHEMA = 'zeus_recover_sandbox';
/** The CLI walk-through's own bot schema, so `--clean` never drops a real bot's state. */
const CLI_BOT_SCHEMA = 'zeus_recover_demo_cli';
const DEFAULT_KEY_PREFIX = 'zeus-demo:conversation:';
const DEFAULT_BUCKET = 'kosmos-conversations';
/** What a second terminal sources to run the CLI against the running demo (git ignores it). */
const ENV_FILE = process.env.DEMO_ENV_FILE ?? join(import.meta.dirname, '..', '.demo.env');

const bold = (t: string) => (process.stdout.isTTY ? `\x1b[1m${t}\x1b[0m` : t);
const dim = (t: string) => (process.stdout.isTTY ? `\x1b[2m${t}\x1b[0m` : t);

async function ensureDatabase(): Promise<string> {
  const admin = new pg.Client({ connectionString: ADMIN_DB });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [DEMO_DB]);
    if (!rowCount) await admin.query(`CREATE DATABASE ${DEMO_DB}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_DB);
  url.pathname = `/${DEMO_DB}`;
  return url.toString();
}

interface Stores {
  env: Record<string, string>;
  redis: Redis;
  pool: pg.Pool;
  s3: S3Client;
  keyPrefix: string;
  s3Embedded: boolean;
  cases: DemoCase[];
  close(): Promise<void>;
}

/** Demo database, Redis prefix and S3 (embedded s3rver unless S3_ENDPOINT is set), seeded. */
async function prepareStores(): Promise<Stores> {
  const databaseUrl = process.env.DATABASE_URL ?? (await ensureDatabase());
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const keyPrefix = process.env.REDIS_KEY_PREFIX ?? DEFAULT_KEY_PREFIX;
  const bucket = process.env.S3_BUCKET ?? DEFAULT_BUCKET;
  let endpoint = process.env.S3_ENDPOINT;
  let stopS3 = async () => {};
  if (!endpoint) {
    const local = await startLocalS3(bucket, 'zeus-recover-demo-s3-');
    endpoint = local.endpoint;
    // s3rver accepts only its own key pair: any AWS credentials in the environment would be refused.
    process.env.AWS_ACCESS_KEY_ID = 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY = 'S3RVER';
    delete process.env.AWS_SESSION_TOKEN;
    stopS3 = local.stop;
  }
  const env: Record<string, string> = {
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: keyPrefix,
    S3_ENDPOINT: endpoint,
    S3_BUCKET: bucket,
    S3_PREFIX: 'archive/',
    AWS_REGION: process.env.AWS_REGION ?? 'us-east-1',
    // The embedded S3 takes only its own key pair; a real endpoint uses the caller's credentials.
    ...(endpoint === process.env.S3_ENDPOINT
      ? {}
      : { AWS_ACCESS_KEY_ID: 'S3RVER', AWS_SECRET_ACCESS_KEY: 'S3RVER' }),
  };
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2 });
  const pool = new pg.Pool({ connectionString: databaseUrl });
  const s3 = new S3Client({
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  const close = async () => {
    redis.disconnect();
    await pool.end().catch(() => undefined);
    s3.destroy();
    await stopS3();
  };
  try {
    const cases = await seedDemo({
      redis,
      keyPrefix,
      pool,
      table: 'conversations',
      s3,
      bucket,
      s3Prefix: 'archive/',
    });
    return { env, redis, pool, s3, keyPrefix, s3Embedded: !process.env.S3_ENDPOINT, cases, close };
  } catch (err) {
    await close();
    throw err;
  }
}

async function cliWalkthrough(stores: Stores): Promise<void> {
  const env = { ...process.env, ...stores.env, BOT_DB_SCHEMA: CLI_BOT_SCHEMA, LOG_LEVEL: 'silent' };
  const say = (t: string) => process.stdout.write(`\n${bold(`━━ ${t}`)}\n`);
  const run = async (args: string[]) => {
    process.stdout.write(
      `${dim(`$ zeus-recover ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}`)}\n`,
    );
    let captured = '';
    const code = await runCli(args, {
      stdout: (t) => {
        captured += t.toString();
        process.stdout.write(t);
      },
      stderr: (t) => process.stdout.write(t),
      env,
      user: 'demo',
      tty: { stdout: process.stdout.isTTY === true, stderr: process.stdout.isTTY === true },
    });
    process.stdout.write(`${dim(`(exit ${code})`)}\n`);
    return captured;
  };
  say('Seeded conversations');
  for (const c of stores.cases) process.stdout.write(`  ${c.id.padEnd(12)} ${c.story}\n`);
  say('Active conversations in Redis (SCAN)');
  await run(['list', 'c-*']);
  for (const c of stores.cases) {
    say(`Inspect ${c.id}`);
    await run(['inspect', c.id]);
  }
  say('Validate the corrupted one');
  await run(['validate', 'c-corrupt']);
  say('What a restore of c-lost from Postgres would change');
  await run(['diff', 'c-lost', '--from', 'postgres']);
  say('Restore it (backed up first, compare-and-set, read back)');
  const restored = await run([
    'restore',
    'c-lost',
    '--from',
    'postgres',
    '--yes',
    '--reason',
    'demo: lost from Redis',
  ]);
  say('Every restore took a backup first');
  await run(['backups', 'c-lost']);
  const backupId = /Backup:\s+(bk_\S+)/.exec(restored)?.[1];
  if (backupId) {
    say('Undo it');
    await run(['undo', backupId, '--yes', '--reason', 'demo: undo']);
  }
  say('The audit log is hash-chained');
  await run(['audit', 'verify']);
  process.stdout.write(`\n${whereDataStays(stores)}\n`);
}

function parsePort(raw: string | undefined): number {
  if (raw === undefined || raw === '') return 0;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new Error(`DEMO_PORT must be a port number (0–65535), not ${JSON.stringify(raw)}`);
  }
  return port;
}

async function sandboxDemo(stores: Stores): Promise<void> {
  const port = parsePort(process.env.DEMO_PORT);
  // This run's Slack is new and empty, so threads recorded by an earlier run point at messages
  // that no longer exist; the sandbox's own bot schema starts clean every time.
  await stores.pool.query(`DROP SCHEMA IF EXISTS ${SANDBOX_BOT_SCHEMA} CASCADE`);
  const logger = createLogger(process.env.LOG_LEVEL ?? 'warn', process.stderr, { component: 'demo' });
  const running = await startSandboxWithBot({
    env: { ...stores.env, BOT_DB_SCHEMA: SANDBOX_BOT_SCHEMA, LOG_LEVEL: process.env.LOG_LEVEL ?? 'warn' },
    logger,
    port,
  });

  const out = (line = '') => process.stdout.write(`${line}\n`);
  out();
  out(bold('zeus-recover demo — the real bot in a local Slack sandbox'));
  out();
  out(`  Open ${bold(running.url)} in your browser.`);
  out();
  out('Seeded conversations:');
  for (const c of stores.cases) out(`  ${c.id.padEnd(11)} ${c.story}`);
  out();
  out(`Try this in #${running.channel.name} (you start as ${running.requester.realName}, the requester):`);
  out(`  1. ${SLASH_COMMAND} inspect c-lost            → a thread opens with the report`);
  out(`  2. ${SLASH_COMMAND} restore c-lost --from postgres --reason "lost in the Redis failover"`);
  out(`  3. Switch to ${running.approver.realName} (top right) and click Approve in the thread`);
  out('  4. The restore result and the validation report follow in the thread');
  out(`  Also: bare ${SLASH_COMMAND} opens the form; ${SLASH_COMMAND} help lists every command.`);
  out();
  out(
    dim(
      `Stores: Redis ${stores.env.REDIS_URL} (keys ${stores.keyPrefix}*), Postgres ${new URL(stores.env.DATABASE_URL ?? '').pathname.slice(1)}, ` +
        `S3 ${stores.s3Embedded ? 'embedded' : ''} ${stores.env.S3_ENDPOINT}. Bot on 127.0.0.1:${running.bot.port}/slack/events.`,
    ),
  );
  const envFile = await writeEnvFile({
    ...stores.env,
    BOT_DB_SCHEMA: SANDBOX_BOT_SCHEMA,
    ...(running.zeus ? { ZEUS_API_URL: running.zeus.url, ZEUS_API_TOKEN: running.zeus.token } : {}),
  });
  out();
  out(`The CLI in a second terminal, on this demo's data (what it does to c-lost shows in its thread here):`);
  out(`  ${bold(`source ${envFile}`)}`);
  out('  npx zeus-recover inspect c-lost');
  out();
  out(dim(whereDataStays(stores)));
  out(dim('Ctrl-C stops everything.'));

  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (signal: NodeJS.Signals) => {
      if (stopping) {
        process.stderr.write(`\n${signal} again: exiting without waiting.\n`);
        process.exit(1);
      }
      stopping = true;
      process.stdout.write(`\n${signal}: stopping the bot, the sandbox and the embedded S3…\n`);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await running.stop();
  // It names the embedded S3 and the stand-in Zeus, both gone now.
  await rm(ENV_FILE, { force: true });
  process.stdout.write(`Stopped (and removed ${ENV_FILE}).\n`);
}

/** `export NAME='value'` lines a POSIX shell sources as they are. */
async function writeEnvFile(env: Record<string, string | undefined>): Promise<string> {
  const lines = Object.entries(env)
    .filter((e): e is [string, string] => e[1] !== undefined)
    .map(([k, v]) => `export ${k}='${v.replaceAll("'", `'\\''`)}'`);
  await writeFile(
    ENV_FILE,
    `# zeus-recover demo: the CLI against the running demo's stores\n${lines.join('\n')}\n`,
    {
      mode: 0o600,
    },
  );
  // An older file keeps its mode on rewrite; the Zeus token in it is for no one else.
  await chmod(ENV_FILE, 0o600);
  return ENV_FILE;
}

function whereDataStays(stores: Stores): string {
  const db = process.env.DATABASE_URL ? 'the DATABASE_URL database' : `Postgres database ${DEMO_DB}`;
  return `Demo data stays in ${db} and Redis keys ${stores.keyPrefix}*; run again any time (it reseeds). Remove it all: npm run demo -- --clean`;
}

/**
 * Removes what the demo leaves behind: its database (or, in a database you named with
 * DATABASE_URL, only its rows and its two bot schemas), its Redis keys and, on an S3 you named,
 * its objects. The embedded S3 removes its own files when the demo stops.
 */
async function clean(): Promise<void> {
  const say = (t: string) => process.stdout.write(`${t}\n`);
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const prefix = process.env.REDIS_KEY_PREFIX ?? DEFAULT_KEY_PREFIX;
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: 2, lazyConnect: true });
  try {
    await redis.connect();
    // The default prefix is the demo's own: everything under it goes. A prefix you chose may hold
    // other keys, so then only the seeded conversations are removed.
    const keys =
      prefix === DEFAULT_KEY_PREFIX
        ? await scanKeys(redis, `${prefix}*`)
        : DEMO_IDS.map((id) => `${prefix}${id}`);
    const removed = keys.length === 0 ? 0 : await redis.del(...keys);
    say(`Redis ${redisUrl}: removed ${removed} key(s) under ${prefix}`);
  } finally {
    redis.disconnect();
  }

  if (process.env.DATABASE_URL) {
    const pool = new pg.Pool({ connectionString: process.env.DATABASE_URL });
    try {
      const rows = await pool
        .query('DELETE FROM conversations WHERE id = ANY($1)', [DEMO_IDS])
        .then((r) => r.rowCount ?? 0)
        .catch(() => 0);
      await pool.query(`DROP SCHEMA IF EXISTS ${SANDBOX_BOT_SCHEMA} CASCADE`);
      await pool.query(`DROP SCHEMA IF EXISTS ${CLI_BOT_SCHEMA} CASCADE`);
      say(
        `Postgres (DATABASE_URL): removed ${rows} demo conversation row(s) and schemas ${SANDBOX_BOT_SCHEMA}, ${CLI_BOT_SCHEMA}`,
      );
    } finally {
      await pool.end();
    }
  } else {
    const admin = new pg.Client({ connectionString: ADMIN_DB });
    await admin.connect();
    try {
      await admin.query(`DROP DATABASE IF EXISTS ${DEMO_DB}`);
      say(`Postgres: dropped database ${DEMO_DB}`);
    } catch (err) {
      throw new Error(
        `could not drop database ${DEMO_DB} (${err instanceof Error ? err.message : String(err)}); stop the running demo first, then run this again`,
      );
    } finally {
      await admin.end();
    }
  }

  if (process.env.S3_ENDPOINT) {
    const bucket = process.env.S3_BUCKET ?? DEFAULT_BUCKET;
    const s3 = new S3Client({
      endpoint: process.env.S3_ENDPOINT,
      region: process.env.AWS_REGION ?? 'us-east-1',
      forcePathStyle: true,
    });
    try {
      for (const id of DEMO_IDS) {
        await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `archive/${id}.json` }));
      }
      say(`S3 ${process.env.S3_ENDPOINT}: removed the demo's objects from ${bucket}/archive/`);
    } finally {
      s3.destroy();
    }
  }
  await rm(ENV_FILE, { force: true });
  say('Done: nothing of the demo is left.');
}

async function scanKeys(redis: Redis, pattern: string): Promise<string[]> {
  const keys: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
    keys.push(...batch);
    cursor = next;
  } while (cursor !== '0');
  return keys;
}

async function main(): Promise<void> {
  const flags = process.argv.slice(2);
  if (flags.includes('--clean')) return clean();
  const cli = flags.includes('--cli');
  const stores = await prepareStores();
  try {
    if (cli) await cliWalkthrough(stores);
    else await sandboxDemo(stores);
  } finally {
    await stores.close();
  }
}

try {
  await main();
  process.exit(0);
} catch (err) {
  process.stderr.write(`demo: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
}
