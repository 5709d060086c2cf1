import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config.js';
import type { Logger } from '../src/log.js';
import { type BotOptions, type RunningBot, startBot } from '../src/server.js';
import { SLASH_COMMAND } from '../src/slack-ids.js';
import { LocalSlack } from './slack/local-slack.js';
import type { SandboxChannel, SandboxUser, WorkspaceOptions } from './slack/workspace.js';
import { startZeusStandin, walkFrom } from './zeus/zeus.js';

/**
 * The local Slack with its page plus the real bot wired to it, as `npm run demo` and the browser
 * test run them: the bot is started through `startBot` with its Web API pointed at the local
 * Slack, which signs every command and click with the bot's signing secret. Both secrets are made
 * up per run — nothing here talks to the real Slack.
 */

export { SLASH_COMMAND };

export const REQUESTER: SandboxUser = {
  id: 'U01ALICE',
  name: 'alice',
  realName: 'Alice Moreau',
  title: 'on-call SRE (requester)',
  isBot: false,
  color: 'teal',
};

export const APPROVER: SandboxUser = {
  id: 'U02BOB',
  name: 'bob',
  realName: 'Bob Okafor',
  title: 'incident lead (approver)',
  isBot: false,
  color: 'purple',
};

export const INCIDENT_CHANNEL: SandboxChannel = {
  id: 'C_INC0001',
  name: 'inc-4242',
  topic: 'SEV-2 · Zeus conversations lost after the Redis failover at 02:41 UTC',
};

export const GENERAL_CHANNEL: SandboxChannel = {
  id: 'C_GENERAL',
  name: 'general',
  topic: 'Company-wide announcements (not an incident channel: the bot refuses to work here)',
};

export function demoWorkspace(): WorkspaceOptions {
  return {
    teamId: 'T0SANDBOX',
    teamName: 'Kosmos (sandbox)',
    teamDomain: 'kosmos-sandbox',
    appId: 'A0ZEUSREC',
    bot: {
      id: 'U0ZEUSBOT',
      botId: 'B0ZEUSREC',
      name: 'zeus-recover',
      realName: 'zeus-recover',
      title: 'Zeus recovery bot',
      isBot: true,
      color: 'app',
    },
    users: [REQUESTER, APPROVER],
    channels: [INCIDENT_CHANNEL, GENERAL_CHANNEL],
    usergroups: [
      { id: 'S0ONCALL', handle: 'zeus-approvers', name: 'Zeus approvers', members: [APPROVER.id] },
    ],
  };
}

/** What the page offers when someone types `/`: the demo's walk-through, in order. */
export const DEMO_TIPS = [
  { command: SLASH_COMMAND, note: 'open the recovery form' },
  { command: `${SLASH_COMMAND} help`, note: 'every command' },
  { command: `${SLASH_COMMAND} inspect c-lost`, note: 'lost from Redis, still in Postgres' },
  { command: `${SLASH_COMMAND} diff c-lost --from postgres`, note: 'what a restore would change' },
  {
    command: `${SLASH_COMMAND} restore c-lost --from postgres --reason "lost in the Redis failover"`,
    note: 'then switch to Bob and approve',
  },
  { command: `${SLASH_COMMAND} inspect c-corrupt`, note: 'corrupted in Redis' },
  { command: `${SLASH_COMMAND} inspect c-archived`, note: 'only the S3 archive has it' },
  { command: `${SLASH_COMMAND} inspect c-ahead`, note: 'Redis ahead of Postgres: nothing to do' },
  { command: `${SLASH_COMMAND} validate c-healthy`, note: 'all three tiers agree' },
  {
    command: `${SLASH_COMMAND} replay c-healthy --from-step 4 --reason "stuck after the failover"`,
    note: 'Zeus re-runs steps 4…; one progress message follows it',
  },
];

export interface SandboxStartOptions {
  /**
   * The stores, as the bot's environment would name them (REDIS_URL, DATABASE_URL, S3_*, …).
   * Slack settings in it are replaced: the sandbox is the only Slack the bot talks to.
   */
  env: Record<string, string | undefined>;
  logger: Logger;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  bot?: BotOptions;
  /** Seed a human message or two so the channel does not open empty. Default true. */
  intro?: boolean;
}

export interface RunningSandbox {
  sandbox: LocalSlack;
  bot: RunningBot;
  /** The page. */
  url: string;
  requester: SandboxUser;
  approver: SandboxUser;
  channel: SandboxChannel;
  /** The stand-in Zeus API the bot uses, when ZEUS_API_URL was not given. */
  zeus: { url: string; token: string } | null;
  stop(): Promise<void>;
}

function seedIntro(sandbox: LocalSlack): void {
  const say = (user: string, text: string) =>
    sandbox.ws.addMessage({
      channel: INCIDENT_CHANNEL.id,
      threadTs: null,
      user,
      botId: null,
      text,
      blocks: null,
      replyBroadcast: false,
      files: [],
    });
  say(
    APPROVER.id,
    'Redis primary failed over at 02:41 UTC. Some Zeus conversations lost their state or came back corrupted. ' +
      `<@${REQUESTER.id}> can you check \`c-lost\` first? Ping me for the approval.`,
  );
  say(REQUESTER.id, `On it — starting with \`${SLASH_COMMAND} inspect c-lost\`.`);
}

/** Starts the sandbox on 127.0.0.1, then the real bot against it; `stop()` ends both. */
export async function startSandboxWithBot(options: SandboxStartOptions): Promise<RunningSandbox> {
  const signingSecret = randomBytes(32).toString('hex');
  const botToken = `xoxb-sandbox-${randomBytes(12).toString('hex')}`;
  const sandbox = await LocalSlack.start({
    workspace: demoWorkspace(),
    botToken,
    page: { signingSecret, commands: [SLASH_COMMAND], tips: DEMO_TIPS },
    host: options.host ?? '127.0.0.1',
    port: options.port ?? 0,
  });
  if (options.intro !== false) seedIntro(sandbox);
  // Without a real Zeus API, the demo brings a small one so `replay` can be tried too.
  const zeus = options.env.ZEUS_API_URL
    ? null
    : await startZeusStandin({ host: options.host ?? '127.0.0.1', statusScript: walkFrom });
  let bot: RunningBot;
  try {
    const config = loadConfig(
      {
        ...options.env,
        SLACK_BOT_TOKEN: botToken,
        SLACK_SIGNING_SECRET: signingSecret,
        SLACK_API_URL: sandbox.apiUrl,
        // HTTP mode, whatever the caller's environment says: the sandbox posts to the Request URL.
        SLACK_APP_TOKEN: '',
        PORT: '0',
        // Where the banner says it is, and nowhere else: the sandbox signs requests for anyone who reaches it.
        HOST: options.host ?? '127.0.0.1',
        APPROVER_USER_IDS: APPROVER.id,
        APPROVER_USERGROUP_ID: '',
        REQUIRED_APPROVALS: '1',
        INCIDENT_CHANNEL_PATTERN: '^inc-',
        ...(zeus ? { ZEUS_API_URL: zeus.url, ZEUS_API_TOKEN: zeus.token } : {}),
      },
      'slack',
    );
    bot = await startBot(config, options.logger, { deliveryPollMs: 500, replayPollMs: 1000, ...options.bot });
  } catch (err) {
    await sandbox.stop();
    await zeus?.close();
    throw err;
  }
  sandbox.connectApp(`http://127.0.0.1:${bot.port}/slack/events`);
  return {
    sandbox,
    bot,
    url: sandbox.url,
    requester: REQUESTER,
    approver: APPROVER,
    channel: INCIDENT_CHANNEL,
    zeus: zeus ? { url: zeus.url, token: zeus.token } : null,
    async stop() {
      await bot.stop().catch(() => undefined);
      await sandbox.stop();
      await zeus?.close();
    },
  };
}
