import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SlackStandin, startSlackStandin } from '../../sandbox/slack/local-slack.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { type RunningBot, startBot } from '../../src/server.js';
import { freePort } from '../helpers/net.js';
import { type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
let slack: SlackStandin;
let bot: RunningBot;
let port: number;

beforeAll(async () => {
  stack = await startStack();
  slack = await startSlackStandin();
  port = await freePort();
  bot = await startBot(
    loadConfig(
      {
        ...stack.env,
        SLACK_BOT_TOKEN: 'xoxb-socket',
        SLACK_APP_TOKEN: 'xapp-1-socket-test',
        SLACK_SIGNING_SECRET: 'socket-mode-secret',
        SLACK_API_URL: slack.apiUrl,
        PORT: String(port),
      },
      'slack',
    ),
    createLogger('silent'),
    { authRetryMs: 100 },
  );
}, 60_000);
afterAll(async () => {
  await bot.stop();
  await slack.stop();
  await stack.stop();
});

describe('Socket Mode (SLACK_APP_TOKEN set)', () => {
  it('opens a Socket Mode connection with the app token, and serves health while Slack refuses it', async () => {
    // The stand-in has no Socket Mode endpoint: the bot asks for one (apps.connections.open with
    // the xapp token), is refused, keeps retrying, and stays healthy meanwhile.
    await slack.waitFor(
      (calls) =>
        calls.filter((c) => c.method === 'apps.connections.open' && c.token === 'xapp-1-socket-test')
          .length >= 2,
      10_000,
      'Socket Mode connection attempts',
    );
    expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    // No HTTP events endpoint in Socket Mode.
    expect((await fetch(`http://127.0.0.1:${port}/slack/events`, { method: 'POST' })).status).toBe(404);
  });
});
