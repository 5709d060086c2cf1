import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConversation } from '../helpers/conversations.js';
import { CHANNEL, findButton, type Harness, startHarness } from './bot-harness.js';

/**
 * What a person sees around a command, over signed HTTP against the local Slack: one private
 * note per command (replaced in place by a link to the thread), a typo'd id answered privately
 * with no public thread, and the report's buttons doing the next step without retyping.
 */

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => h.stop());

interface Posted {
  response_type?: string;
  replace_original?: boolean;
  text?: string;
}

async function posts(responseId: string, n: number): Promise<Posted[]> {
  await h.slack.waitFor(() => h.slack.responses(responseId).length >= n, 10_000, `${n} answers`);
  return h.slack.responses(responseId).map((p) => p.body as Posted);
}

describe('quiet channels', () => {
  it('replaces the "Working on" note with a link to the thread message once it is posted', async () => {
    const id = 'c-e2e-quiet';
    await h.stack.seed('postgres', id, makeConversation(id, 3));
    const res = await h.slash(`inspect ${id}`);
    expect(JSON.stringify(res.json)).toMatch(/Working on `inspect c-e2e-quiet`/);
    const [done] = await posts(res.responseId, 1);
    expect(done?.replace_original).toBe(true);
    expect(done?.response_type).toBe('ephemeral');
    // The link is Slack's permalink of the message in the thread.
    const link = /<(https?:\/\/[^|>]+)\|Open it in the thread>/.exec(done?.text ?? '')?.[1];
    expect(link).toBeDefined();
    const root = h.root(id);
    expect(root).toBeDefined();
    const echo = h.thread(id).find((m) => m.text.includes('ran'));
    expect(link).toContain((echo?.ts ?? '').replace('.', ''));
    // One note per command: nothing else was said privately.
    expect(h.slack.responses(res.responseId)).toHaveLength(1);
  });

  it('answers an id no tier holds privately, with close matches, and opens no thread', async () => {
    await h.stack.seed('redis', 'c-e2e-typo-1234', makeConversation('c-e2e-typo-1234', 2));
    const before = h.slack.messagesInChannel(CHANNEL).length;
    const res = await h.slash('inspect c-e2e-typo-1243');
    const [answer] = await posts(res.responseId, 1);
    expect(answer?.replace_original).toBe(true);
    expect(answer?.text).toMatch(/No tier holds c-e2e-typo-1243 — check the id/);
    expect(answer?.text).toContain('c-e2e-typo-1234');
    expect(h.root('c-e2e-typo-1243')).toBeUndefined();
    expect(h.slack.messagesInChannel(CHANNEL)).toHaveLength(before);

    // The close match is a button: a click inspects it, no retyping.
    const blocks =
      (h.slack.responses(res.responseId)[0]?.body as { blocks?: unknown[] } | undefined)?.blocks ?? [];
    expect(findButton(blocks, 'inspect_id')).toBe('c-e2e-typo-1234');
    const click = await h.click('inspect_id', 'c-e2e-typo-1234', 'U_ALICE', '1.000001');
    await h.slack.waitFor(
      () => h.thread('c-e2e-typo-1234').some((m) => /Inspect c-e2e-typo-1234/.test(m.text)),
      10_000,
      'report',
    );
    expect(h.transcript('c-e2e-typo-1234').join('\n')).toMatch(/U_ALICE clicked Inspect c-e2e-typo-1234/);
    const [linked] = await posts(click.responseId, 1);
    expect(linked?.text).toMatch(/Open it in the thread/);
  });

  it('an id typed in capitals is offered the lower-case id Redis holds', async () => {
    await h.stack.seed('redis', 'c-e2e-caps-lost', makeConversation('c-e2e-caps-lost', 2));
    const res = await h.slash('inspect C-E2E-CAPS-LOST');
    const [answer] = await posts(res.responseId, 1);
    expect(answer?.text).toMatch(/No tier holds C-E2E-CAPS-LOST — check the id/);
    const blocks =
      (h.slack.responses(res.responseId)[0]?.body as { blocks?: unknown[] } | undefined)?.blocks ?? [];
    expect(findButton(blocks, 'inspect_id')).toBe('c-e2e-caps-lost');
  });

  it('an undo of a backup nobody took is answered privately and posts nothing in the channel', async () => {
    const before = h.slack.messagesInChannel(CHANNEL).length;
    const res = await h.slash('undo bk_nonexistent1234567890 --reason wrong copy');
    const [answer] = await posts(res.responseId, 1);
    expect(answer?.response_type).toBe('ephemeral');
    expect(answer?.text).toMatch(/Backup bk_nonexistent1234567890 does not exist/);
    expect(h.slack.messagesInChannel(CHANNEL)).toHaveLength(before);
    // Still in the audit log, as every command is.
    const { rows } = await h.stack.db.pool.query<{ command: string }>(
      `SELECT (data::jsonb)->>'command' AS command FROM zeus_recover.audit_log
        WHERE action = 'command.received' AND conversation_id IS NULL`,
    );
    expect(rows.map((r) => r.command).join('\n')).toContain('undo bk_nonexistent1234567890');
  });

  it('offers Restore and Diff under a report; Diff posts the preview, echoed as a click', async () => {
    const id = 'c-e2e-buttons';
    await h.stack.seed('redis', id, makeConversation(id, 2));
    await h.stack.seed('postgres', id, makeConversation(id, 5));
    await h.slash(`inspect ${id}`);
    const report = await h.slack.waitFor(
      () => h.thread(id).find((m) => findButton(m.blocks, 'report_diff')),
      10_000,
      'inspect report with buttons',
    );
    const value = findButton(report.blocks, 'report_diff') ?? '';
    expect(JSON.parse(value)).toEqual({ id, source: 'postgres' });
    await h.click('report_diff', value, 'U_ALICE', report.ts);
    // The click is echoed as a click, then the diff report follows it.
    await h.slack.waitFor(
      () => {
        const lines = h.transcript(id);
        const at = lines.findIndex((l) => /U_ALICE clicked Diff/.test(l));
        return at >= 0 && lines.slice(at + 1).some((l) => /^\s*Diff/.test(l));
      },
      10_000,
      'diff report after the click',
    );

    // Restore opens the reason form pre-filled with the id and tier; submitting files the request.
    const opened = h.slack.calls('views.open').length;
    await h.click('report_restore', findButton(report.blocks, 'report_restore') ?? '', 'U_ALICE', report.ts);
    await h.slack.waitFor(() => h.slack.calls('views.open').length > opened, 10_000, 'reason form');
    const view = h.slack.calls('views.open').at(-1)?.args.view as {
      private_metadata: string;
      blocks: unknown[];
    };
    expect(JSON.stringify(view.blocks)).toContain(`Restore \`${id}\` from \`postgres\``);
    await h.submitView(
      'operation_reason_modal',
      'U_ALICE',
      { operation_reason: 'lost in the failover' },
      view.private_metadata,
    );
    const approval = await h.slack.waitFor(() => h.approvalMessage(id), 10_000, 'approval request');
    expect(approval.requestId).toMatch(/^rq_/);
    const text = h.transcript(id).join('\n');
    expect(text).toContain('lost in the failover');
    expect(text).toMatch(/U_ALICE clicked Restore from PostgreSQL…/);
  });

  it('the bare form hands a restore to the reason form (required), then files the request', async () => {
    const id = 'c-e2e-form';
    await h.stack.seed('postgres', id, makeConversation(id, 4));
    const res = await h.submitView(
      'zeus_recover_modal',
      'U_ALICE',
      { conversation_id: id, action: 'restore', source: 'postgres' },
      JSON.stringify({ channelId: CHANNEL }),
    );
    // Slack replaces the form with the reason form: nothing is filed without a reason.
    const next = res.json as {
      response_action?: string;
      view?: { callback_id: string; private_metadata: string };
    };
    expect(next.response_action).toBe('update');
    expect(next.view?.callback_id).toBe('operation_reason_modal');
    expect(h.root(id)).toBeUndefined();
    await h.submitView(
      'operation_reason_modal',
      'U_ALICE',
      { operation_reason: 'form path' },
      next.view?.private_metadata ?? '',
    );
    await h.slack.waitFor(() => h.approvalMessage(id), 10_000, 'approval request from the form');
    expect(h.transcript(id).join('\n')).toMatch(
      /ran `\/zeus-recover restore c-e2e-form --from postgres \(form\)`/,
    );
  });
});
