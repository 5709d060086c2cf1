import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { ACTION } from '../../src/slack-ids.js';
import { makeConversation } from '../helpers/conversations.js';
import { CHANNEL, findButton, type Harness, startHarness } from './bot-harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => h.stop());

interface Posted {
  response_type?: string;
  replace_original?: boolean;
  text?: string;
  blocks?: unknown[];
}

async function answer(responseId: string): Promise<Posted> {
  const post = await h.slack.waitFor(
    () => h.slack.responses(responseId)[0],
    10_000,
    `answer to ${responseId}`,
  );
  return post.body as Posted;
}

const idsIn = (page: Posted): string[] =>
  [...JSON.stringify(page.blocks).matchAll(/c-e2e-list-\d+/g)].map((m) => m[0]);

describe('list in Slack, over signed HTTP', () => {
  it('answers privately, a page at a time through the Next page button, with nothing in the channel', async () => {
    const ids = Array.from({ length: 150 }, (_, i) => `c-e2e-list-${i}`);
    for (const id of ids) await h.stack.seed('redis', id, makeConversation(id, 1));
    const before = h.slack.messagesInChannel(CHANNEL).length;

    const res = await h.slash('list c-e2e-list-*');
    expect(res.status).toBe(200);
    const seen: string[] = [];
    let page = await answer(res.responseId);
    expect(page.response_type).toBe('ephemeral');
    expect(JSON.stringify(page)).not.toMatch(/not available|Working on/);
    let pages = 1;
    for (;;) {
      seen.push(...idsIn(page));
      const next = findButton(page.blocks ?? null, ACTION.listNextPage);
      if (next === undefined) break;
      expect(pages).toBeLessThan(100);
      const click = await h.click(ACTION.listNextPage, next, 'U_ALICE', '');
      expect(click.status).toBe(200);
      page = await answer(click.responseId);
      expect(page.replace_original).toBe(true);
      expect(page.response_type).toBe('ephemeral');
      pages++;
    }
    // SCAN may repeat an id across pages (a rehash), never skip one that was there throughout.
    expect(new Set(seen)).toEqual(new Set(ids));
    expect(pages).toBeGreaterThan(1);
    // SCAN may end on a page it filled exactly: the next page is then empty and says so.
    expect(JSON.stringify(page.blocks)).toMatch(/end of the list|that was the last page/);

    // Nothing was posted in the channel: no "ran" line, no thread.
    expect(h.slack.messagesInChannel(CHANNEL).length).toBe(before);
    // It is audited all the same, by who asked.
    const { rows } = await h.stack.db.pool.query<{ actor: string }>(
      "SELECT actor FROM zeus_recover.audit_log WHERE action = 'command.received' AND data::jsonb->>'command' LIKE '/zeus-recover list c-e2e-list-*%'",
    );
    expect(rows.length).toBe(pages);
    expect(rows.every((r) => r.actor === 'slack:U_ALICE')).toBe(true);
  });

  it('refuses a forged Next page value with its error code, and a bad pattern before any I/O', async () => {
    const click = await h.click(ACTION.listNextPage, '{"p":"c-*"}', 'U_ALICE', '');
    const refused = await answer(click.responseId);
    expect(JSON.stringify(refused)).toContain('does not carry a list page');
    expect(JSON.stringify(refused)).toContain('invalid_input');

    const res = await h.slash('list c-{bad}');
    expect(JSON.stringify(res.json)).toContain('is not a list pattern');
  });

  it('shows the error code when the core refuses (a cursor list never returned)', async () => {
    const click = await h.click(ACTION.listNextPage, '{"p":null,"c":"not a cursor!"}', 'U_ALICE', '');
    const refused = await answer(click.responseId);
    expect(JSON.stringify(refused)).toContain('That cursor is not one list returned.');
    expect(JSON.stringify(refused)).toContain('invalid_input');
  });
});

describe('the error code reaches the reply', () => {
  it("a command the core refuses answers privately with the RecoveryError's code", async () => {
    const res = await h.slash('restore c-e2e-nowhere --from postgres --reason INC-9');
    const reply = JSON.stringify(await answer(res.responseId));
    const codes = reply.match(/Error code `(\w+)`/);
    expect(codes?.[1], reply).toBeDefined();
    expect(Object.values(ErrorCode)).toContain(codes?.[1]);
    // Metrics count the failure by that same code, not as a bare "error".
    const metrics = await (await fetch(`${h.url()}/metrics`)).text();
    expect(metrics).toContain(`zeus_recover_commands_total{command="restore",outcome="${codes?.[1]}"} 1`);
    // The list pages above were counted too, and the bad-cursor click by its code.
    expect(metrics).toMatch(/zeus_recover_commands_total\{command="list",outcome="ok"\} \d+/);
    expect(metrics).toContain('zeus_recover_commands_total{command="list",outcome="invalid_input"} 1');
  });
});
