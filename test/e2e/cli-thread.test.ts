import { userInfo } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { makeConversation } from '../helpers/conversations.js';
import { type Harness, startHarness } from './bot-harness.js';

let h: Harness;
// The audit log records the OS user the CLI runs as, not $USER.
const me = userInfo().username;

beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => h.stop());

describe('the CLI in the incident thread', () => {
  it('a CLI restore of a conversation with a thread appears in it, marked "via CLI (<OS user>)", in order', async () => {
    const id = 'c-e2e-cli-thread';
    await h.stack.seed('postgres', id, makeConversation(id, 4));
    await h.slash(`inspect ${id}`);
    await h.slack.waitFor(
      () => h.thread(id).some((m) => m.text.startsWith('Inspect')),
      10_000,
      'the thread opened by a Slack inspect, with its report',
    );
    const before = h.thread(id).length;

    const r = await cli(
      ['restore', id, '--from', 'postgres', '--yes', '--reason', 'INC-9 lost in failover'],
      h.stack.env,
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('incident thread');

    const lines = await h.slack.waitFor(
      () => {
        const added = h.thread(id).slice(before);
        return added.length >= 3 && added.some((m) => /Restored|restored/.test(m.text)) ? added : undefined;
      },
      15_000,
      'the CLI restore in the thread',
    );
    const texts = lines.map((m) => m.text);
    // First what was run, then what it did; every line says it came through the CLI, and who ran it.
    expect(texts[0]).toContain(`via CLI (${me})`);
    expect(texts[0]).toContain(`zeus-recover restore ${id} --from postgres`);
    for (const t of texts) expect(t).toContain(`via CLI (${me})`);
  });

  it('a conversation without a thread gets nothing posted, and the CLI still works', async () => {
    const id = 'c-e2e-cli-nothread';
    await h.stack.seed('postgres', id, makeConversation(id, 2));
    const r = await cli(['inspect', id], h.stack.env);
    expect(r.code).toBe(1);
    expect(r.stderr).not.toContain('incident thread');
    const { rows } = await h.stack.db.pool.query(
      'SELECT d.seq FROM zeus_recover.audit_deliveries d WHERE d.conversation_id = $1',
      [id],
    );
    expect(rows).toHaveLength(0);
    expect(h.root(id)).toBeUndefined();
  });

  it('a CLI inspect of a conversation with a thread posts its report there', async () => {
    const id = 'c-e2e-cli-inspect';
    await h.stack.seed('s3', id, makeConversation(id, 3));
    await h.slash(`validate ${id}`);
    await h.slack.waitFor(
      () => h.thread(id).some((m) => m.text.startsWith('Validate')),
      10_000,
      'the thread, with its report',
    );
    const before = h.thread(id).length;
    const r = await cli(['inspect', id], h.stack.env);
    expect(r.code).toBe(1);
    const added = await h.slack.waitFor(
      () => {
        const a = h.thread(id).slice(before);
        return a.length >= 2 ? a : undefined;
      },
      15_000,
      'the CLI inspect in the thread',
    );
    expect(added[0]?.text).toContain(`via CLI (${me}): \`zeus-recover inspect ${id}\``);
    expect(added[1]?.text).toContain(`via CLI (${me})`);
  });
});
