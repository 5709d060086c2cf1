import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sha256Checksum } from '../../src/recovery/conversation.js';
import type { CoreDeps } from '../../src/recovery/deps.js';
import { settleFromRedis } from '../../src/recovery/settle.js';
import { makeConversation } from '../helpers/conversations.js';
import { type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
let deps: CoreDeps;
let n = 0;
const freshId = () => `c-settle${++n}`;
const sum = (s: string) => sha256Checksum(Buffer.from(s));

beforeAll(async () => {
  stack = await startStack();
  deps = (await stack.runtime()).deps;
});
afterAll(async () => stack.stop());

describe('settleFromRedis', () => {
  it.each([
    { title: 'new bytes in Redis: succeeded', inRedis: 'new', expected: { outcome: 'succeeded' } },
    {
      title: 'old bytes in Redis: failed, nothing written',
      inRedis: 'old',
      expected: { outcome: 'failed', detail: expect.stringMatching(/nothing was written/) },
    },
  ] as const)('$title', async ({ inRedis, expected }) => {
    const id = freshId();
    const [oldDoc, newDoc] = [makeConversation(id, 2), makeConversation(id, 5)];
    const held = inRedis === 'new' ? newDoc : oldDoc;
    await stack.seed('redis', id, held);
    const s = await settleFromRedis(deps, { conversationId: id, before: sum(oldDoc), after: sum(newDoc) });
    expect(s).toMatchObject({ ...expected, observed: sum(held) });
  });

  it('absent key after a delete: succeeded; absent key when a value was to be written over nothing: failed', async () => {
    const id = freshId();
    const doc = makeConversation(id, 3);
    const deleted = await settleFromRedis(deps, { conversationId: id, before: sum(doc), after: null });
    expect(deleted).toMatchObject({ outcome: 'succeeded', observed: null });
    const notWritten = await settleFromRedis(deps, { conversationId: id, before: null, after: sum(doc) });
    expect(notWritten).toMatchObject({ outcome: 'failed', observed: null });
  });

  it('a third value: unknown, naming what Redis holds, the conversation and the backup', async () => {
    const id = freshId();
    const [oldDoc, newDoc, other] = [
      makeConversation(id, 2),
      makeConversation(id, 5),
      makeConversation(id, 9),
    ];
    await stack.seed('redis', id, other);
    const s = await settleFromRedis(deps, {
      conversationId: id,
      before: sum(oldDoc),
      after: sum(newDoc),
      backupId: 'bk_aaaaaaaaaaaaaaaaaaaa',
    });
    expect(s.outcome).toBe('unknown');
    expect(s.observed).toBe(sum(other));
    expect(s.detail).toContain(sum(other));
    expect(s.detail).toContain(id);
    expect(s.detail).toContain('bk_aaaaaaaaaaaaaaaaaaaa');
  });

  it('Redis unreadable on every try: unknown and unreadable, saying which checksum means what', async () => {
    const down = await stack.runtime({ REDIS_URL: 'redis://127.0.0.1:1', REDIS_TIMEOUT_MS: '200' });
    const id = freshId();
    const s = await settleFromRedis(down.deps, {
      conversationId: id,
      before: 'sha256:old',
      after: 'sha256:new',
      retryDelaysMs: [0, 0],
    });
    expect(s).toMatchObject({ outcome: 'unknown', observed: 'unreadable' });
    expect(s.detail).toMatch(/3 tries/);
    expect(s.detail).toContain('sha256:new');
    expect(s.detail).toContain('sha256:old');
  });

  it('a transient read failure is retried, then settled from what Redis holds', async () => {
    const id = freshId();
    const [oldDoc, newDoc] = [makeConversation(id, 2), makeConversation(id, 5)];
    await stack.seed('redis', id, newDoc);
    let failures = 1;
    const flaky: CoreDeps = {
      ...deps,
      redis: {
        ...deps.redis,
        read: async (cid) => {
          if (failures-- > 0) return { status: 'unreachable', reason: 'connection lost' };
          return deps.redis.read(cid);
        },
      },
    };
    const s = await settleFromRedis(flaky, {
      conversationId: id,
      before: sum(oldDoc),
      after: sum(newDoc),
      retryDelaysMs: [0],
    });
    expect(s.outcome).toBe('succeeded');
    expect(failures).toBe(-1);
  });
});
