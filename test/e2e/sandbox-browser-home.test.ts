import { describe, expect, it } from 'vitest';
import { actAs, openSandbox, seeText, typeCommand, useBrowserSandbox } from '../helpers/sandbox-browser.js';

/**
 * App Home in the demo's sandbox, in headless Chromium: the page's "zeus-recover · Home" sends
 * the signed app_home_opened event, the real bot publishes the tab (views.publish), and the page
 * shows it, as each person sees it. Screenshots go to test-artifacts/screenshots/.
 */

const sandbox = useBrowserSandbox();

describe('App Home in the sandbox', () => {
  it('shows the requester and the approver their own Home tab, refreshed as the request moves', async () => {
    const { browser, running } = sandbox();
    const { page } = browser;
    await openSandbox(page, running.url);
    await actAs(page, /Alice Moreau/, 'U01ALICE');
    await typeCommand(
      page,
      '/zeus-recover restore c-lost --from postgres --reason INC-4242 lost in the failover',
    );
    await seeText(page.locator('#messages'), /Approval needed: restore c-lost/);

    // Alice asked: nothing waits for her, and her request is listed with who can approve it.
    await page.getByRole('button', { name: 'zeus-recover · Home' }).click();
    const home = page.getByRole('main', { name: 'App Home' });
    await seeText(home, 'Open requests (1)');
    await seeText(home, 'Nothing waits for your approval.');
    const tab = (await home.textContent()) ?? '';
    expect(tab).toMatch(/restore of c-lost from postgres — waits for 1 approval from an approver/);
    expect(tab).toMatch(/Destructive requests in the last hour/);
    await browser.screenshot('home-01-requester');

    // Bob is an approver: the same request is his to approve.
    await actAs(page, /Bob Okafor/, 'U02BOB');
    await seeText(home, 'For you to approve (1)');
    await browser.screenshot('home-02-approver');

    // He approves it in the thread; his Home tab shows it among the last recoveries with a link.
    await page.getByRole('button', { name: /# inc-4242/ }).click();
    const root = page.locator('#messages .msg', { hasText: 'Zeus recovery: c-lost' });
    await root.getByRole('button', { name: /\d+ repl/ }).click();
    const thread = page.locator('#thread-pane');
    await thread.getByRole('button', { name: 'Approve', exact: true }).click();
    await page.getByRole('alertdialog').getByRole('button', { name: 'Approve' }).click();
    await seeText(thread, /healthy/);
    await page.getByRole('button', { name: 'zeus-recover · Home' }).click();
    await seeText(home, 'Open requests (0)');
    await seeText(home, /restore of c-lost from postgres/);
    await seeText(home, 'thread');
    await browser.screenshot('home-03-after-the-restore');
  }, 120_000);
});
