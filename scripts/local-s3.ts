import { mkdtemp, rm } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error s3rver ships no types
import S3rver from 's3rver';

export interface LocalS3 {
  endpoint: string;
  /** Stops the server and removes everything it stored. */
  stop(): Promise<void>;
}

/**
 * A real S3-protocol server (s3rver) on a random local port with `bucket` created, storing into
 * a fresh temporary directory. It accepts only the key pair S3RVER / S3RVER.
 */
export async function startLocalS3(bucket: string, directoryPrefix: string): Promise<LocalS3> {
  const directory = await mkdtemp(join(tmpdir(), directoryPrefix));
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory,
    configureBuckets: [{ name: bucket }],
  });
  const address = (await server.run()) as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    async stop() {
      await server.close();
      await rm(directory, { recursive: true, force: true });
    },
  };
}
