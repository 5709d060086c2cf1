import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { STEP_MS, seeText, typeCommand, useBrowserSandbox } from '../helpers/sandbox-browser.js';

/**
 * The demo's sandbox in headless Chromium, driven as a person would: type commands, open the
 * thread, switch user, click Approve and accept the confirm dialog. The bot behind it is the
 * real one (startBot), reached only through signed Slack requests from the sandbox.
 * Screenshots of each stage go to test-artifacts/screenshots/.
 */

const sandbox = useBrowserSandbox();

/** The path's time from typing to validation, for the closing note (test-artifacts is not committed). */
const TIMING_FILE = resolve('test-artifacts/sandbox-path-timing.json');

describe('the Slack sandbox in a browser', () => {
  it('one typed inspect → Restore button → reason → approval by the second user → validated, all in the thread', async () => {
    const { browser, running, stack } = sandbox();
    const { page } = browser;
    await page.goto(running.url);
    await page.getByRole('heading', { name: '# inc-4242' }).waitFor({ timeout: STEP_MS });
    const alice = page.getByRole('button', { name: /Alice Moreau/ });
    const bob = page.getByRole('button', { name: /Bob Okafor/ });
    expect(await alice.getAttribute('aria-pressed')).toBe('true');
    await seeText(page.locator('#app-status'), 'zeus-recover is connected');

    // The bare command opens the form; a bad id comes back as an inline error under its field.
    await typeCommand(page, '/zeus-recover');
    const form = page.getByRole('dialog', { name: 'Zeus recovery' });
    await form.waitFor({ timeout: STEP_MS });
    await form.getByLabel('Conversation id').fill('bad id!');
    await form.getByLabel('Action', { exact: true }).selectOption('inspect');
    await form.getByRole('button', { name: 'Continue' }).click();
    const idField = form.locator('.bk-input[data-block-id="conversation_id"]');
    await seeText(idField, /not a conversation id/);
    expect(await idField.getByRole('alert').textContent()).toMatch(/not a conversation id/);
    // What was typed survives the error.
    expect(await form.getByLabel('Conversation id').inputValue()).toBe('bad id!');
    await browser.screenshot('01-modal-inline-error');
    await form.getByRole('button', { name: 'Cancel' }).click();
    await form.waitFor({ state: 'hidden', timeout: STEP_MS });

    // The one typed command of the path. From here to a validated restore it is clicks, a
    // reason and the second person's approval; the time it takes is recorded below.
    const typedAt = Date.now();
    await typeCommand(page, '/zeus-recover inspect c-lost');
    // The private note is replaced in place by a link to the thread: no "Working on" stays.
    const notes = page.locator('#messages .msg--ephemeral');
    await seeText(notes, /Inspected c-lost/);
    await seeText(notes, 'Open it in the thread');
    expect(await notes.filter({ hasText: /Working on/ }).count()).toBe(0);
    const root = page.locator('#messages .msg', { hasText: 'Zeus recovery: c-lost' });
    const replies = root.getByRole('button', { name: /\d+ repl/ });
    await replies.waitFor({ timeout: STEP_MS });
    await replies.click();
    const thread = page.locator('#thread-pane');
    await seeText(thread, 'Inspect c-lost');
    await seeText(thread, /Recommendation: restore from PostgreSQL/);
    await browser.screenshot('02-inspect-report-in-thread');

    // The report's button opens the restore form pre-filled; the reason is required.
    await thread.getByRole('button', { name: 'Restore from PostgreSQL…' }).click();
    const reasonForm = page.getByRole('dialog', { name: 'Restore' });
    await reasonForm.waitFor({ timeout: STEP_MS });
    expect(await reasonForm.textContent()).toMatch(/Restore c-lost from postgres/);
    expect(await reasonForm.textContent()).not.toMatch(/optional/i);
    await browser.screenshot('03-restore-form');
    await reasonForm.getByLabel('Reason').fill('INC-4242: lost in the Redis failover');
    await reasonForm.getByRole('button', { name: 'Ask for approval' }).click();
    await reasonForm.waitFor({ state: 'hidden', timeout: STEP_MS });

    // An approval request with buttons, in the thread; the click is echoed as a click.
    await seeText(thread, /Approval needed: /);
    const approve = thread.getByRole('button', { name: 'Approve', exact: true });
    await approve.waitFor({ timeout: STEP_MS });
    await seeText(thread, 'INC-4242: lost in the Redis failover');
    await seeText(thread, /clicked Restore from PostgreSQL…/);
    expect(await thread.textContent()).not.toMatch(/ran \/zeus-recover restore/);
    await browser.screenshot('03b-approval-requested');

    // The requester cannot approve their own request.
    await approve.click();
    const confirm = page.getByRole('alertdialog');
    await confirm.waitFor({ timeout: STEP_MS });
    await confirm.getByRole('button', { name: 'Approve' }).click();
    await seeText(thread.locator('.msg--ephemeral'), /someone else must approve/);
    await browser.screenshot('04-self-approval-refused');

    // Switch to the approver: Alice's private notices are not Bob's to see.
    await bob.click();
    await page.locator('[data-switch-user="U02BOB"][aria-pressed="true"]').waitFor({ timeout: STEP_MS });
    await thread.locator('.msg--ephemeral').first().waitFor({ state: 'detached', timeout: STEP_MS });

    await thread.getByRole('button', { name: 'Approve', exact: true }).click();
    await confirm.waitFor({ timeout: STEP_MS });
    expect(await confirm.textContent()).toMatch(/overwritten with the postgres copy .* backed up first/);
    await browser.screenshot('05-confirm-dialog');
    await confirm.getByRole('button', { name: 'Approve' }).click();
    // The approver's private note names what was approved.
    await seeText(thread.locator('.msg--ephemeral'), /Approved: restore c-lost from postgres/);

    // Result and validation arrive in the thread; the buttons are gone from the request.
    await seeText(thread, /Restored/);
    await seeText(thread, /healthy/);
    const typedToValidated = Date.now() - typedAt;
    await seeText(thread, /approved the restore/);
    await thread
      .getByRole('button', { name: 'Approve', exact: true })
      .waitFor({ state: 'detached', timeout: STEP_MS });
    await thread.getByRole('button', { name: 'Undo this restore' }).waitFor({ timeout: STEP_MS });
    await page.locator('.thread-messages').evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await browser.screenshot('06-restored-and-validated');
    console.log(`typed inspect → validated restore: ${typedToValidated} ms`);
    await mkdir(dirname(TIMING_FILE), { recursive: true });
    await writeFile(
      TIMING_FILE,
      `${JSON.stringify({ path: 'inspect → Restore button → reason → approval → validated', typedToValidatedMs: typedToValidated, at: new Date().toISOString() }, null, 2)}\n`,
    );

    // Nothing stale: the Done card says what Redis holds now, beside what it held before.
    const done = page.locator('#messages .msg', { hasText: 'Done: restore c-lost from postgres' });
    await done.waitFor({ timeout: STEP_MS });
    const card = (await done.textContent()) ?? '';
    expect(card).toMatch(/Redis before:\s*missing \(no key\)/);
    expect(card).toMatch(/Redis now:\s*8 steps/);
    expect(card).not.toMatch(/Redis now:\s*missing/);

    // Redis now holds the Postgres copy, byte for byte.
    const { rows } = await stack.db.pool.query<{ s: string }>(
      "SELECT state::text AS s FROM conversations WHERE id = 'c-lost'",
    );
    const redis = await stack.redis.client.getBuffer(stack.redis.key('c-lost'));
    expect(redis?.toString('utf8')).toBe(rows[0]?.s);

    // Undo: the button asks for a reason, Bob approves, and the used button gives way to who undid it.
    await alice.click();
    await page.locator('[data-switch-user="U01ALICE"][aria-pressed="true"]').waitFor({ timeout: STEP_MS });
    await thread.getByRole('button', { name: 'Undo this restore' }).click();
    const undoForm = page.getByRole('dialog', { name: 'Undo a restore' });
    await undoForm.waitFor({ timeout: STEP_MS });
    await undoForm.getByLabel('Reason').fill('wrong copy after all');
    await undoForm.getByRole('button', { name: 'Ask for approval' }).click();
    await seeText(thread, /Approval needed: undo/);
    await bob.click();
    await page.locator('[data-switch-user="U02BOB"][aria-pressed="true"]').waitFor({ timeout: STEP_MS });
    await thread.getByRole('button', { name: 'Approve', exact: true }).click();
    await confirm.waitFor({ timeout: STEP_MS });
    await confirm.getByRole('button', { name: 'Approve' }).click();
    await seeText(thread, /Undone by @alice/);
    // The used button is gone from its result (the undo's own result offers to undo the undo).
    const used = thread.locator('.msg', { hasText: /Undone by @alice/ });
    expect(await used.getByRole('button', { name: 'Undo this restore' }).count()).toBe(0);
    await page.locator('.thread-messages').evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await browser.screenshot('06b-undone');
    expect(await stack.redis.client.exists(stack.redis.key('c-lost'))).toBe(0);

    // replay: asked by Alice, approved by Bob, followed in one progress message (the demo's Zeus).
    await alice.click();
    await page.locator('[data-switch-user="U01ALICE"][aria-pressed="true"]').waitFor({ timeout: STEP_MS });
    await typeCommand(
      page,
      '/zeus-recover replay c-healthy --from-step 4 --reason "stuck after the failover"',
    );
    const replayRoot = page.locator('#messages .msg', { hasText: 'Zeus recovery: c-healthy' });
    const replayReplies = replayRoot.getByRole('button', { name: /\d+ repl/ });
    await replayReplies.waitFor({ timeout: STEP_MS });
    await replayReplies.click();
    await seeText(thread, /Approval needed: replay c-healthy from step 4/);
    await bob.click();
    await page.locator('[data-switch-user="U02BOB"][aria-pressed="true"]').waitFor({ timeout: STEP_MS });
    await thread.getByRole('button', { name: 'Approve', exact: true }).click();
    await confirm.waitFor({ timeout: STEP_MS });
    await confirm.getByRole('button', { name: 'Approve' }).click();
    await seeText(thread, /Replaying|Replayed/);
    await seeText(thread, /finished/);
    await page.locator('.thread-messages').evaluate((el) => {
      el.scrollTop = el.scrollHeight;
    });
    await browser.screenshot('07-replay-followed');

    // The page shows Block Kit, not its JSON, and nothing it could not render.
    const text = (await page.locator('body').textContent()) ?? '';
    expect(text).not.toMatch(/"type"\s*:|"blocks"|not shown in the sandbox/);
    expect(text).toContain('@bob');
  }, 120_000);
});
