import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { REDIS_URL } from './env.js';

export interface TestRedis {
  url: string;
  client: Redis;
  /** Unique per test file, e.g. `zrtest:ab12cd:conversation:` */
  prefix: string;
  key(id: string): string;
  cleanup(): Promise<void>;
}

/**
 * A client plus a key prefix no other test file uses; cleanup removes only that prefix. `url`:
 * another server than the shared one (a test's own, test/helpers/redis-server.ts).
 */
export async function createTestRedis(url = REDIS_URL): Promise<TestRedis> {
  const prefix = `zrtest:${randomBytes(5).toString('hex')}:conversation:`;
  const client = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await client.connect();
  return {
    url,
    client,
    prefix,
    key: (id) => `${prefix}${id}`,
    async cleanup() {
      let cursor = '0';
      do {
        const [next, keys] = await client.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 500);
        if (keys.length > 0) await client.del(...keys);
        cursor = next;
      } while (cursor !== '0');
      client.disconnect();
    },
  };
}
