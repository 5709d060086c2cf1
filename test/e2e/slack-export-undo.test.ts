import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConversation } from '../helpers/conversations.js';
import { eventually, findButton, type Harness, startHarness, withoutButton } from './bot-harness.js';

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

/** The reason form the last views.open showed: its metadata, to submit it as Slack would. */
function lastReasonForm(): { metadata: string; text: string } {
  const call = h.slack.calls('views.open').at(-1);
  const view = call?.args.view as { callback_id?: string; private_metadata?: string } | undefined;
  expect(view?.callback_id).toBe('operation_reason_modal');
  return { metadata: view?.private_metadata ?? '', text: JSON.stringify(view) };
}

describe('undo from the restore result', () => {
  it('the Undo button asks for a reason, files the request, and is replaced once used', async () => {
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

    // The click opens the reason form; nothing is filed and nothing is said in the thread yet.
    const opened = h.slack.calls('views.open').length;
    await h.click('restore_undo', backupId, 'U_ALICE', result.ts);
    await h.slack.waitFor(() => h.slack.calls('views.open').length > opened, 10_000, 'reason form');
    const form = lastReasonForm();
    expect(form.text).toContain(backupId);
    expect(h.transcript(id).join('\n')).not.toMatch(/clicked Undo|Approval needed: undo/);

    // A reason is required: an empty one comes back as an error under the field.
    const empty = await h.submitView(
      'operation_reason_modal',
      'U_ALICE',
      { operation_reason: '  ' },
      form.metadata,
    );
    expect(JSON.stringify(empty.json)).toContain('needs a reason');
    expect(h.approvalMessage(id)).toBeUndefined();

    await h.submitView(
      'operation_reason_modal',
      'U_ALICE',
      { operation_reason: 'postgres copy was wrong' },
      form.metadata,
    );
    const undo = await h.slack.waitFor(() => h.approvalMessage(id), 10_000, 'undo approval request');
    expect(undo.requestId).not.toBe(first.requestId);
    const transcript = h.transcript(id).join('\n');
    expect(transcript).toContain('postgres copy was wrong');
    // The click is echoed as a click, not as a command nobody typed.
    expect(transcript).toMatch(/U_ALICE clicked Undo this restore/);
    expect(transcript).not.toMatch(/U_ALICE ran `\/zeus-recover undo/);

    await h.click('request_approve', undo.requestId, 'U_DAVE', undo.ts);
    await eventually(
      async () => (await h.stack.redis.client.get(h.stack.redis.key(id))) === before,
      'Redis back to its bytes before the restore',
    );
    // The used button gives way to who undid it.
    const used = await withoutButton(
      h,
      () => h.thread(id),
      result.ts,
      'restore_undo',
      'Undo button replaced',
    );
    expect(JSON.stringify(used.blocks).match(/Undone by[^"]*/)?.[0]).toMatch(/Undone by (<@)?U_ALICE/);

    // The undo ends with its own validation in the thread; count the thread once that is in,
    // so a late post of the undo itself is not taken for an answer to the second click.
    await h.slack.waitFor(
      () => h.transcript(id).filter((l) => /Validate c-e2e-undo:/.test(l)).length >= 2,
      15_000,
      'validation after the undo',
    );

    // A second click on the old button: a private answer, no form, nothing in the thread.
    const afterUndo = h.thread(id).length;
    const forms = h.slack.calls('views.open').length;
    const again = await h.click('restore_undo', backupId, 'U_CAROL', result.ts);
    await h.slack.waitFor(() => h.slack.responses(again.responseId).length > 0, 10_000, 'already undone');
    expect(JSON.stringify(h.slack.responses(again.responseId))).toMatch(/Already undone by (<@)?U_ALICE/);
    expect(h.slack.calls('views.open')).toHaveLength(forms);
    expect(h.thread(id)).toHaveLength(afterUndo);
  });
});
