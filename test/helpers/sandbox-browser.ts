import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll } from 'vitest';
import { type RunningSandbox, startSandboxWithBot } from '../../sandbox/demo.js';
import { seedDemo } from '../../scripts/demo-seed.js';
import { createLogger } from '../../src/log.js';
import { launchBrowser, type TestBrowser } from './browser.js';
import { type Stack, startStack } from './stack.js';

export interface BrowserSandbox {
  browser: TestBrowser;
  running: RunningSandbox;
  stack: Stack;
  stop(): Promise<void>;
}

/**
 * The demo's sandbox with the real bot behind it, its data seeded, and headless Chromium to
 * drive its page. The browser starts first: a missing Chromium fails in a second, saying what
 * to install.
 */
export async function startBrowserSandbox(): Promise<BrowserSandbox> {
  const browser = await launchBrowser();
  let stack: Stack | undefined;
  let running: RunningSandbox | undefined;
  const stop = async () => {
    await browser.close();
    await running?.stop();
    await stack?.stop();
  };
  try {
    stack = await startStack();
    await seedDemo({
      redis: stack.redis.client,
      keyPrefix: stack.redis.prefix,
      pool: stack.db.pool,
      table: 'conversations',
      s3: stack.s3.client,
      bucket: stack.s3.bucket,
      s3Prefix: 'archive/',
    });
    running = await startSandboxWithBot({
      env: stack.env,
      logger: createLogger('silent'),
      bot: { deliveryPollMs: 100, sweepIntervalMs: 1000, authRetryMs: 100 },
    });
    return { browser, running, stack, stop };
  } catch (err) {
    await stop().catch(() => undefined);
    throw err;
  }
}

/** How long one step of a person's path may take to show on the page (a loaded CI machine included). */
export const STEP_MS = 20_000;

/** Waits until `text` is visible in `scope`, as a person waits to read it. */
export async function seeText(scope: Locator, text: string | RegExp): Promise<void> {
  await scope.getByText(text).first().waitFor({ state: 'visible', timeout: STEP_MS });
}

/** Switches the page to another person (the sandbox's "Acting as" buttons). */
export async function actAs(page: Page, name: RegExp, id: string): Promise<void> {
  await page.getByRole('button', { name }).click();
  await page.locator(`[data-switch-user="${id}"][aria-pressed="true"]`).waitFor({ timeout: STEP_MS });
}

/** Types `text` in the channel's message box and sends it, as a person does. */
export async function typeCommand(page: Page, text: string): Promise<void> {
  const box = page.getByRole('textbox', { name: 'Message or slash command' });
  await box.fill(text);
  await box.press('Enter');
}

/** Opens the sandbox's page and waits until the bot is connected to it. */
export async function openSandbox(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await seeText(page.locator('#app-status'), 'zeus-recover is connected');
}

/** One sandbox with its bot and browser for the test file: started before its tests, stopped after. */
export function useBrowserSandbox(): () => BrowserSandbox {
  let sandbox: BrowserSandbox | undefined;
  beforeAll(async () => {
    sandbox = await startBrowserSandbox();
  }, 90_000);
  afterAll(async () => {
    await sandbox?.stop();
  }, 60_000);
  return () => {
    if (!sandbox) throw new Error('setup failed');
    return sandbox;
  };
}
