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
