import { describe, expect, it } from 'vitest';
import {
  actAs,
  openSandbox,
  STEP_MS,
  seeText,
  typeCommand,
  useBrowserSandbox,
} from '../helpers/sandbox-browser.js';

/**
 * A bulk restore in the demo's sandbox, in headless Chromium, as the two people see it: Alice
 * types the one command, the preview card lands in the job's thread, Bob approves it, and the
 * progress message ends as the report. Screenshots go to test-artifacts/screenshots/ (bulk-*).
 */

const sandbox = useBrowserSandbox();

describe('bulk restore in the sandbox', () => {
  it('preview card, approval by the second person, and the report, in the job thread', async () => {
    const { browser, running } = sandbox();
    const { page } = browser;
    await openSandbox(page, running.url);
    await actAs(page, /Alice Moreau/, 'U01ALICE');
    await typeCommand(
      page,
      '/zeus-recover bulk-restore --from postgres --since 3650d --reason "INC-4242 Redis came back empty"',
    );

    // The private note is replaced in place by what happened: no "Working on" stays behind.
    const notes = page.locator('#messages .msg--ephemeral');
    await seeText(notes, /Preview posted and approval requested/);
    expect(await notes.filter({ hasText: /Working on/ }).count()).toBe(0);
    expect(await notes.count()).toBe(1);
    const root = page.locator('#messages .msg', { hasText: /[Bb]ulk restore/ }).last();
    const replies = root.getByRole('button', { name: /\d+ repl/ });
    await replies.waitFor({ timeout: STEP_MS });
    await replies.click();
    const thread = page.locator('#thread-pane');
    await thread.getByRole('button', { name: 'Approve', exact: true }).waitFor({ timeout: STEP_MS });
    const card = (await thread.textContent()) ?? '';
    // What is approved is what the card shows: the counts per group and Redis's room.
    expect(card).toMatch(/absent/i);
    expect(card).toMatch(/invalid/i);
    expect(card).toMatch(/maxmemory|eviction|headroom|memory/i);
    await browser.screenshot('bulk-01-preview-card');

    await actAs(page, /Bob Okafor/, 'U02BOB');
    await thread.getByRole('button', { name: 'Approve', exact: true }).click();
    const confirm = page.getByRole('alertdialog');
    if (await confirm.isVisible().catch(() => false)) {
      await confirm.getByRole('button', { name: 'Approve' }).click();
    }
    await seeText(thread, /restored of/);
    const after = (await thread.textContent()) ?? '';
    // Once decided the card has no Approve button left, and the report has counts per outcome.
    expect(await thread.getByRole('button', { name: 'Approve', exact: true }).count()).toBe(0);
    expect(after).toMatch(/Restored/);
    expect(after).toMatch(/Invalid at the source/);
    expect(after).toMatch(/Nothing was skipped for a reason to look at/);
    await browser.screenshot('bulk-02-report');
  }, 120_000);
});
