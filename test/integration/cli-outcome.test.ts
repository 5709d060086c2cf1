import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { sha256Checksum } from '../../src/recovery/conversation.js';
import { cli } from '../helpers/cli.js';
import { makeConversation } from '../helpers/conversations.js';
import { type FaultProxy, holding, startFaultProxy } from '../helpers/fault-proxy.js';
import { type Stack, startStack } from '../helpers/stack.js';

/** What the CLI says, and exits with, when the write's fate is known or not. */

let stack: Stack;
let proxy: FaultProxy;
let env: Record<string, string>;

const CAS = (chunk: Buffer) =>
  holding('eval')(chunk) && /\r\n(equal|absent)\r\n/.test(chunk.toString('latin1'));

beforeAll(async () => {
  stack = await startStack();
  proxy = await startFaultProxy({ port: Number(new URL(stack.env.REDIS_URL ?? '').port || 6379) });
  env = { ...stack.env, REDIS_URL: `redis://${proxy.address}`, REDIS_TIMEOUT_MS: '300' };
}, 60_000);
afterEach(() => proxy.pass());
afterAll(async () => {
  await proxy?.stop();
  await stack?.stop();
});

async function seed(id: string): Promise<{ before: string; after: string }> {
  const old = makeConversation(id, 2);
  const next = makeConversation(id, 5);
  await stack.seed('redis', id, old);
  await stack.seed('s3', id, next);
  return { before: sha256Checksum(Buffer.from(old)), after: sha256Checksum(Buffer.from(next)) };
}

describe('CLI restore outcome', () => {
  it('a lost reply read back as written: exit 0, "Restored"', async () => {
    const id = 'c-cli-lost';
    const { after } = await seed(id);
    const armed = proxy.arm({ match: CAS, fault: 'cut-after' });
    const r = await cli(['restore', id, '--from', 's3', '--yes', '--reason', 'drill'], env);
    expect(armed.hasFired).toBe(true);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`Restored ${id} from s3.`);
    expect(r.stdout).toContain(after);
  });

  it('a lost reply that cannot be read back: exit 3, what to check, the checksums and the backup', async () => {
    const id = 'c-cli-unknown';
    const { before, after } = await seed(id);
    const armed = proxy.arm({ match: CAS, fault: 'cut-after' });
    void armed.fired.then(() => proxy.refuse());
    const r = await cli(['restore', id, '--from', 's3', '--yes', '--reason', 'drill', '--json'], env);
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/is unknown/);
    expect(r.stderr).toContain(`Inspect ${id}`);
    const out = JSON.parse(r.stdout) as { error: { code: string; details: Record<string, unknown> } };
    expect(out.error.code).toBe('outcome_unknown');
    expect(out.error.details).toMatchObject({ before, after, observedUnreadable: true, recorded: true });
    expect(String(out.error.details.backupId)).toMatch(/^bk_/);
  }, 30_000);

  it('the write cut before it reached Redis: exit 1, nothing written', async () => {
    const id = 'c-cli-cut';
    const { before } = await seed(id);
    proxy.arm({ match: CAS, fault: 'cut-before' });
    const r = await cli(['restore', id, '--from', 's3', '--yes', '--reason', 'drill'], env);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/Nothing was written/);
    const held = await stack.redis.client.getBuffer(stack.redis.key(id));
    expect(held && sha256Checksum(held)).toBe(before);
  });
});
