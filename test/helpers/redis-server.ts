import { spawn } from 'node:child_process';
import { Redis } from 'ioredis';
import { freePort } from './net.js';

export interface PrivateRedis {
  url: string;
  client: Redis;
  stop(): Promise<void>;
}

/**
 * A redis-server of this test's own, for tests that must do server-wide things (CLIENT PAUSE)
 * without disturbing other test files on the shared server.
 */
export async function startPrivateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
  // The server is stopped under the client at the end; that error is expected.
  client.on('error', () => undefined);
  for (let i = 0; ; i++) {
    try {
      await client.connect();
      await client.ping();
      break;
    } catch (err) {
      if (i > 50) {
        child.kill('SIGKILL');
        throw new Error(`redis-server on port ${port} did not start: ${String(err)}`);
      }
      client.disconnect();
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    url,
    client,
    async stop() {
      client.disconnect();
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
    },
  };
}
