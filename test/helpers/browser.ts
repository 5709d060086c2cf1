import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type BrowserContext, chromium, type Page } from 'playwright-core';

/**
 * Headless Chromium for browser tests: Debian's `chromium` package driven by playwright-core
 * (browser downloads do not work on these machines, see stack-notes.md). A missing browser fails
 * the test with what to do — it never skips.
 */

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--no-first-run',
  '--disable-quic',
  '--disable-sync',
];

export const SCREENSHOT_DIR = resolve('test-artifacts/screenshots');

export interface TestBrowser {
  context: BrowserContext;
  page: Page;
  /** Saves a full-page PNG under test-artifacts/screenshots and returns its path. */
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function launchBrowser(options: { width?: number; height?: number } = {}): Promise<TestBrowser> {
  if (!existsSync(CHROMIUM_PATH)) {
    throw new Error(
      `Chromium is not installed at ${CHROMIUM_PATH}. The browser test needs Debian's chromium package: ` +
        'run `sudo apt-get install -y chromium` (npm test installs it), or set CHROMIUM_PATH.',
    );
  }
  // A fresh profile per run: no cookies, cache or localStorage leak between runs.
  const profile = await mkdtemp(join(tmpdir(), 'zr-chromium-'));
  let context: BrowserContext;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM_PATH,
      headless: true,
      args: FLAGS,
      viewport: { width: options.width ?? 1440, height: options.height ?? 900 },
      deviceScaleFactor: 1,
      timeout: 30_000,
    });
  } catch (err) {
    await rm(profile, { recursive: true, force: true });
    throw new Error(
      `Chromium at ${CHROMIUM_PATH} did not start: ${err instanceof Error ? err.message : String(err)}`,
    );
  }
  const page = context.pages()[0] ?? (await context.newPage());
  await mkdir(SCREENSHOT_DIR, { recursive: true });
  return {
    context,
    page,
    async screenshot(name) {
      const path = join(SCREENSHOT_DIR, `${name}.png`);
      await page.screenshot({ path, fullPage: false });
      return path;
    },
    async close() {
      await context.close().catch(() => undefined);
      await rm(profile, { recursive: true, force: true });
    },
  };
}
