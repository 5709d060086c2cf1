/**
 * Local demo on embedded defaults: seeds the five recovery situations into the local Redis and
 * Postgres and an embedded S3-compatible server (unless S3_ENDPOINT is set), then walks the CLI
 * through them: list, inspect, validate, diff, restore, undo, audit verify.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { Redis } from 'ioredis';
import pg from 'pg';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';
import { runCli } from '../src/cli/main.js';
import { seedDemo } from './demo-seed.js';

const ADMIN_DB = process.env.DEMO_ADMIN_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DEMO_DB = 'zeus_recover_demo';

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

async function main(): Promise<void> {
  const databaseUrl = process.env.DATABASE_URL ?? (await ensureDatabase());
  const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const keyPrefix = process.env.REDIS_KEY_PREFIX ?? 'zeus-demo:conversation:';
  const bucket = process.env.S3_BUCKET ?? 'kosmos-conversations';
  let endpoint = process.env.S3_ENDPOINT;
  let stopS3 = async () => {};
  if (!endpoint) {
    const directory = await mkdtemp(join(tmpdir(), 'zeus-recover-demo-s3-'));
    const server = new S3rver({
      address: '127.0.0.1',
      port: 0,
      silent: true,
      directory,
      configureBuckets: [{ name: bucket }],
    });
    const address = (await server.run()) as AddressInfo;
    endpoint = `http://127.0.0.1:${address.port}`;
    process.env.AWS_ACCESS_KEY_ID ??= 'S3RVER';
    process.env.AWS_SECRET_ACCESS_KEY ??= 'S3RVER';
    stopS3 = async () => {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    };
  }
  const env = {
    ...process.env,
    DATABASE_URL: databaseUrl,
    REDIS_URL: redisUrl,
    REDIS_KEY_PREFIX: keyPrefix,
    S3_ENDPOINT: endpoint,
    S3_BUCKET: bucket,
    LOG_LEVEL: 'silent',
  };
  const redis = new Redis(redisUrl);
  const pool = new pg.Pool({ connectionString: databaseUrl });
  const s3 = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
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
    const say = (t: string) => process.stdout.write(`\n\x1b[1m━━ ${t}\x1b[0m\n`);
    const run = async (args: string[]) => {
      process.stdout.write(
        `\x1b[2m$ zeus-recover ${args.map((a) => (/\s/.test(a) ? JSON.stringify(a) : a)).join(' ')}\x1b[0m\n`,
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
      });
      process.stdout.write(`\x1b[2m(exit ${code})\x1b[0m\n`);
      return captured;
    };
    say('Seeded conversations');
    for (const c of cases) process.stdout.write(`  ${c.id.padEnd(12)} ${c.story}\n`);
    say('Active conversations in Redis (SCAN)');
    await run(['list', 'c-*']);
    for (const c of cases) {
      say(`Inspect ${c.id}`);
      await run(['inspect', c.id]);
    }
    say('Validate the corrupted one');
    await run(['validate', 'c-corrupt']);
    say('What a restore of c-lost from Postgres would change');
    await run(['diff', 'c-lost', '--from', 'postgres']);
    say('Restore it (backed up first, compare-and-set, read back)');
    const restored = JSON.parse(
      await run([
        'restore',
        'c-lost',
        '--from',
        'postgres',
        '--yes',
        '--reason',
        'demo: lost from Redis',
        '--json',
      ]),
    );
    say('Undo it');
    await run(['undo', restored.backupId, '--yes', '--reason', 'demo: undo']);
    say('The audit log is hash-chained');
    await run(['audit', 'verify']);
    process.stdout.write(
      `\nDemo data stays in Postgres database ${DEMO_DB} and Redis keys ${keyPrefix}*; run again any time (it reseeds).\n`,
    );
  } finally {
    redis.disconnect();
    await pool.end();
    s3.destroy();
    await stopS3();
  }
}

await main();
