import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { startLocalS3 } from '../../scripts/local-s3.js';

export interface TestS3 {
  endpoint: string;
  bucket: string;
  client: S3Client;
  put(key: string, body: string | Buffer): Promise<void>;
  stop(): Promise<void>;
}

/** A real S3-protocol server (s3rver) on a random port with an empty bucket. */
export async function startTestS3(bucket = 'kosmos-conversations'): Promise<TestS3> {
  const { endpoint, stop } = await startLocalS3(bucket, 'zr-s3-');
  const client = new S3Client({
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    requestChecksumCalculation: 'WHEN_REQUIRED',
    responseChecksumValidation: 'WHEN_REQUIRED',
  });
  return {
    endpoint,
    bucket,
    client,
    async put(key, body) {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
    },
    async stop() {
      client.destroy();
      await stop();
    },
  };
}
