import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConversation } from '../helpers/conversations.js';
import { eventually, findButton, type Harness, startHarness } from './bot-harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness({ EXPORT_MAX_BYTES: '4000' });
}, 60_000);
afterAll(async () => h.stop());

describe('export to the incident thread', () => {
  it('uploads the stored bytes with files.uploadV2 as <id>-<tier>-<UTC>.json in the thread', async () => {
    const id = 'c-e2e-export';
    const doc = `{"zz": 1,  "id": "${id}", "steps": [], "status": "active"}\n`;
    await h.stack.seed('s3', id, doc);
    await h.slash(`export ${id} --tier s3`);
    const file = await h.slack.waitFor(
      () => h.slack.files().find((f) => f.completed),
      15_000,
      'uploaded file',
    );
    expect(file.filename).toMatch(new RegExp(`^${id}-s3-\\d{8}T\\d{6}Z\\.json$`));
    expect(file.bytes?.equals(Buffer.from(doc))).toBe(true);
    expect(file.channel_id).toBe('C_INC');
    expect(file.thread_ts).toBe(h.root(id)?.ts);
    await h.slack.waitFor(() => h.transcript(id).some((l) => /exported/i.test(l)), 10_000, 'export note');
  });

  it('refuses a copy above the limit and gives the CLI command', async () => {
    const id = 'c-e2e-bigexport';
    await h.stack.seed('redis', id, makeConversation(id, 60));
    const res = await h.slash(`export ${id}`);
    await h.slack.waitFor(() => h.slack.responses(res.responseId).length > 0, 10_000, 'refusal');
    expect(JSON.stringify(h.slack.responses(res.responseId))).toContain(
      `zeus-recover export ${id} --tier redis`,
    );
    expect(h.slack.files().filter((f) => f.filename.startsWith(id))).toHaveLength(0);
  });
});

describe('undo from the restore result', () => {
  it('the Undo button asks for approval, and approving puts the previous bytes back', async () => {
    const id = 'c-e2e-undo';
    const before = `${makeConversation(id, 2)}\n`;
    await h.stack.seed('redis', id, before);
    await h.stack.seed('postgres', id, makeConversation(id, 5));
    await h.slash(`restore ${id} --from postgres --reason try postgres`);
    const first = await h.slack.waitFor(() => h.approvalMessage(id), 10_000, 'approval');
    await h.click('request_approve', first.requestId, 'U_BOB', first.ts);
    const result = await h.slack.waitFor(
      () => h.thread(id).find((m) => findButton(m.blocks, 'restore_undo')),
      15_000,
      'restore result with Undo',
    );
    const backupId = findButton(result.blocks, 'restore_undo') ?? '';
    expect(backupId).toMatch(/^bk_/);
    expect(await h.stack.redis.client.get(h.stack.redis.key(id))).not.toBe(before);

    await h.click('restore_undo', backupId, 'U_ALICE', result.ts);
    const undo = await h.slack.waitFor(() => h.approvalMessage(id), 10_000, 'undo approval request');
    expect(undo.requestId).not.toBe(first.requestId);
    await h.click('request_approve', undo.requestId, 'U_DAVE', undo.ts);
    await eventually(
      async () => (await h.stack.redis.client.get(h.stack.redis.key(id))) === before,
      'Redis back to its bytes before the restore',
    );
    expect(await h.stack.redis.client.get(h.stack.redis.key(id))).toBe(before);
  });
});
