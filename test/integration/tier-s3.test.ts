import { Readable } from 'node:stream';
import { PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode, RecoveryError } from '../../src/errors.js';
import { createS3Client, createS3Tier } from '../../src/recovery/tiers/s3.js';
import type { TierReader } from '../../src/recovery/types.js';
import { useBlackHole } from '../helpers/black-hole.js';
import { startTestS3, type TestS3 } from '../helpers/s3.js';

const ORIGINAL = Buffer.from(
  '{ "id":"c-1",  "big":12345678901234567890, "zeta":1, "alpha":"ünïcødé ✓ 日本",\n' +
    '  "x-unknown":{"nested":[1, 2.50, -0.0e0]}, "steps":[] }\n',
  'utf8',
);
const S3RVER_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };
const NO_HANG_MS = 10_000;

let s3: TestS3;
let client: S3Client;
let tier: TierReader;

function clientFor(endpoint: string, timeoutMs = 2000, credentials = S3RVER_CREDENTIALS): S3Client {
  return createS3Client({
    region: 'us-east-1',
    endpoint,
    forcePathStyle: true,
    checksumWhenRequired: true,
    timeoutMs,
    credentials,
  });
}

beforeAll(async () => {
  s3 = await startTestS3();
  client = clientFor(s3.endpoint);
  tier = createS3Tier({ client, bucket: s3.bucket, prefix: 'archive/', timeoutMs: 2000 });
});

afterAll(async () => {
  client.destroy();
  await s3.stop();
});

describe('s3 tier: read', () => {
  it('returns the object bytes exactly', async () => {
    await s3.put('archive/c-1.json', ORIGINAL);
    const read = await tier.read('c-1');
    expect(read.status).toBe('found');
    if (read.status !== 'found') return;
    expect(read.bytes.equals(ORIGINAL)).toBe(true);
    expect(read.updatedAt).toBeInstanceOf(Date);
  });

  it('keeps bytes that are not valid UTF-8', async () => {
    const raw = Buffer.from([0x7b, 0xff, 0x00, 0xc3, 0x28, 0x7d]);
    await s3.put('archive/c-raw.json', raw);
    const read = await tier.read('c-raw');
    expect(read.status === 'found' && read.bytes.equals(raw)).toBe(true);
  });

  it('with the checksum setting, a streamed upload through the factory client is stored byte-equal', async () => {
    // Without WHEN_REQUIRED the SDK sends a stream aws-chunked and s3rver keeps the framing.
    await client.send(
      new PutObjectCommand({
        Bucket: s3.bucket,
        Key: 'archive/c-stream.json',
        Body: Readable.from([ORIGINAL.subarray(0, 10), ORIGINAL.subarray(10)]),
        ContentLength: ORIGINAL.length,
      }),
    );
    const read = await tier.read('c-stream');
    expect(read.status === 'found' && read.bytes.equals(ORIGINAL)).toBe(true);
  });

  it('says missing for an absent object', async () => {
    expect(await tier.read('c-nobody')).toEqual({ status: 'missing' });
  });

  it('names the object it reads', () => {
    expect(tier.locate('c-1')).toBe(`s3://${s3.bucket}/archive/c-1.json`);
  });

  it('answers ping', async () => {
    await expect(tier.ping()).resolves.toBeUndefined();
  });
});

describe('s3 tier: misconfigured or unreachable', () => {
  const blackHole = useBlackHole();

  it('a wrong bucket is unreachable (not missing), and ping throws TierUnreachable', async () => {
    const wrong = createS3Tier({ client, bucket: 'no-such-bucket', prefix: 'archive/', timeoutMs: 2000 });
    expect(await wrong.read('c-1')).toEqual({
      status: 'unreachable',
      reason: 'bucket no-such-bucket does not exist',
    });
    const err = await wrong.ping().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RecoveryError);
    expect((err as RecoveryError).code).toBe(ErrorCode.TierUnreachable);
  });

  it('wrong credentials are unreachable with "access denied"', async () => {
    const badClient = clientFor(s3.endpoint, 2000, { accessKeyId: 'WRONG', secretAccessKey: 'WRONG' });
    try {
      const bad = createS3Tier({ client: badClient, bucket: s3.bucket, prefix: 'archive/', timeoutMs: 2000 });
      const read = await bad.read('c-1');
      expect(read.status).toBe('unreachable');
      expect(read.status === 'unreachable' && read.reason).toMatch(/access denied \(403/);
    } finally {
      badClient.destroy();
    }
  });

  /** Reads c-1 through a tier whose own deadline is 300 ms; it must answer well before NO_HANG_MS. */
  async function readWithDeadline(endpoint: string, clientTimeoutMs: number) {
    const c = clientFor(endpoint, clientTimeoutMs);
    try {
      const tier = createS3Tier({ client: c, bucket: s3.bucket, prefix: 'archive/', timeoutMs: 300 });
      const started = Date.now();
      const read = await tier.read('c-1');
      expect(Date.now() - started).toBeLessThan(NO_HANG_MS);
      return read;
    } finally {
      c.destroy();
    }
  }

  it('a refused connection reads as unreachable with the address', async () => {
    expect(await readWithDeadline('http://127.0.0.1:1', 300)).toEqual({
      status: 'unreachable',
      reason: expect.stringMatching(/refused at 127\.0\.0\.1:1\b/),
    });
  });

  it('a server that never answers reads as unreachable, not a hang', async () => {
    // The client's own timeouts are long here: the tier's deadline alone must end the call.
    expect(await readWithDeadline(`http://127.0.0.1:${blackHole.port}`, 60_000)).toEqual({
      status: 'unreachable',
      reason: 'timed out after 300 ms',
    });
  });
});
