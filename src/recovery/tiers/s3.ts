import { GetObjectCommand, HeadBucketCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { ErrorCode, RecoveryError } from '../../errors.js';
import { describeNetworkError } from '../../net-errors.js';
import type { TierRead, TierReader } from '../types.js';
import { DEFAULT_MAX_READ_MS, ReadDeadline, SilenceTimeout, TooLargeToRead } from './read-budget.js';

export interface S3ClientOptions {
  region: string;
  endpoint?: string;
  forcePathStyle: boolean;
  /**
   * For S3-compatible servers: without it the SDK sends bodies aws-chunked with trailing
   * checksums, which some servers (s3rver) store verbatim — silent corruption.
   */
  checksumWhenRequired: boolean;
  timeoutMs: number;
  /** Defaults to the SDK's provider chain (env, profile, IMDS/IRSA…). */
  credentials?: { accessKeyId: string; secretAccessKey: string; sessionToken?: string };
}

export function createS3Client(opts: S3ClientOptions): S3Client {
  return new S3Client({
    region: opts.region,
    ...(opts.endpoint ? { endpoint: opts.endpoint } : {}),
    ...(opts.credentials ? { credentials: opts.credentials } : {}),
    forcePathStyle: opts.forcePathStyle,
    ...(opts.checksumWhenRequired
      ? { requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }
      : {}),
    // One retry at most: the tier's deadline (an abort signal) bounds the whole call anyway, and
    // at 3 a.m. a fast "unreachable" beats a slow one.
    maxAttempts: 2,
    requestHandler: { connectionTimeout: opts.timeoutMs, requestTimeout: opts.timeoutMs },
  });
}

/** The archive tier: `s3://<bucket>/<prefix><id>.json`, read-only. */
export function createS3Tier(opts: {
  client: S3Client;
  bucket: string;
  prefix: string;
  timeoutMs: number;
  /** The longest a read may take while the object's bytes keep arriving. */
  maxReadMs?: number;
}): TierReader {
  const { client, bucket, prefix, timeoutMs, maxReadMs = DEFAULT_MAX_READ_MS } = opts;
  const objectKey = (id: string) => `${prefix}${id}.json`;

  /** Runs `fn` under one abort deadline that also covers reading the body. */
  async function bounded<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const abort = new AbortController();
    const timer = setTimeout(() => abort.abort(), timeoutMs);
    try {
      return await fn(abort.signal);
    } catch (err) {
      throw abort.signal.aborted ? new Timeout() : err;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    name: 's3',
    locate: (id) => `s3://${bucket}/${objectKey(id)}`,

    async read(id): Promise<TierRead> {
      // The timeout bounds silence; the body's chunks keep a big object's read alive.
      const deadline = new ReadDeadline({ timeoutMs, maxMs: maxReadMs });
      const abort = new AbortController();
      try {
        return await deadline.race(
          (async () => {
            const res = await client.send(new GetObjectCommand({ Bucket: bucket, Key: objectKey(id) }), {
              abortSignal: abort.signal,
            });
            if (!res.Body) return { status: 'unreachable', reason: 'S3 answered without a body' } as const;
            const chunks: Uint8Array[] = [];
            for await (const chunk of res.Body as AsyncIterable<Uint8Array>) {
              chunks.push(chunk);
              deadline.progress(chunk.length);
            }
            return {
              status: 'found',
              bytes: Buffer.concat(chunks),
              updatedAt: res.LastModified ?? null,
            } as const;
          })(),
        );
      } catch (err) {
        if (isMissingObject(err)) return { status: 'missing' };
        return { status: 'unreachable', reason: describe(err, bucket, timeoutMs) };
      } finally {
        // Stops a request (and its body) nobody waits for any more; a no-op once it is read.
        abort.abort();
      }
    },

    async ping() {
      try {
        await bounded((abortSignal) =>
          client.send(new HeadBucketCommand({ Bucket: bucket }), { abortSignal }),
        );
      } catch (err) {
        throw new RecoveryError(
          ErrorCode.TierUnreachable,
          `S3 bucket ${bucket} is unreachable: ${describe(err, bucket, timeoutMs)}.`,
          'Check S3_BUCKET, S3_ENDPOINT, the region and the credentials the bot runs with, then retry.',
          { cause: err },
        );
      }
    },
  };
}

class Timeout extends Error {}

function isMissingObject(err: unknown): boolean {
  if (!(err instanceof S3ServiceException)) return false;
  // A missing bucket is also a 404, but it means the configuration is wrong, not the object.
  if (err.name === 'NoSuchBucket') return false;
  return err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404;
}

function describe(err: unknown, bucket: string, timeoutMs: number): string {
  if (err instanceof Timeout || err instanceof SilenceTimeout) return `timed out after ${timeoutMs} ms`;
  if (err instanceof TooLargeToRead) return err.message;
  if (err instanceof S3ServiceException) {
    const status = err.$metadata.httpStatusCode;
    if (err.name === 'NoSuchBucket') return `bucket ${bucket} does not exist`;
    if (status === 403) {
      return `access denied (403, ${err.name}): the credentials cannot read this object (without s3:ListBucket a missing object also answers 403)`;
    }
    if (status === 301 || err.name === 'PermanentRedirect') return `bucket ${bucket} is in another region`;
    return `S3 answered ${status ?? '?'} ${err.name}: ${err.message}`;
  }
  const network = describeNetworkError(err);
  if (network) return network;
  const e = err as Partial<Error>;
  if (e.name === 'CredentialsProviderError') return `no AWS credentials found: ${e.message}`;
  return e.message ?? String(err);
}
