import { type SlackStandin, type StoredMessage, startSlackStandin } from '../../sandbox/slack/local-slack.js';
import {
  blockActionsBody,
  postToApp,
  slashCommandBody,
  stateValues,
  viewSubmissionBody,
} from '../../sandbox/slack/requests.js';
import { loadConfig } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { type RunningBot, startBot } from '../../src/server.js';
import { type Stack, startStack } from '../helpers/stack.js';

export const SECRET = 'e2e-signing-secret-0123456789';
export const CHANNEL = 'C_INC';

export interface Harness {
  stack: Stack;
  slack: SlackStandin;
  bots: RunningBot[];
  url(i?: number): string;
  startAnotherBot(): Promise<RunningBot>;
  slash(
    text: string,
    opts?: { user?: string; channel?: string; channelName?: string; bot?: number },
  ): Promise<{
    status: number;
    json: unknown;
    responseId: string;
  }>;
  click(
    actionId: string,
    value: string,
    user: string,
    messageTs: string,
    bot?: number,
    headers?: Record<string, string>,
  ): Promise<{ status: number; responseId: string }>;
  submitView(
    callbackId: string,
    user: string,
    values: Record<string, string>,
    privateMetadata: string,
  ): Promise<{
    status: number;
    json: unknown;
  }>;
  /**
   * A bulk job's Cancel as a person does it: the click opens the reason form (checked first), and
   * the form is sent with `reason`. Resolves once the form is sent.
   */
  cancelBulk(jobId: string, user: string, messageTs: string, reason: string): Promise<void>;
  /** Waits for a bulk job's card with a live Approve button in the incident channel's threads. */
  bulkCard(): Promise<{ ts: string; jobId: string }>;
  root(conversationId: string): StoredMessage | undefined;
  thread(conversationId: string): StoredMessage[];
  transcript(conversationId: string): string[];
  /** The approval message of a conversation with live buttons: its ts and request id. */
  approvalMessage(conversationId: string, nth?: number): { ts: string; requestId: string } | undefined;
  stop(): Promise<void>;
}

let responseSeq = 0;

export async function startHarness(
  /** Extra settings; a function gets the stack's and Slack's own (to route one through a proxy). */
  env: Record<string, string> | ((stackEnv: Record<string, string>) => Record<string, string>) = {},
  /** `sweepIntervalMs`: 200 unless told (a test that must not lean on the sweep sets it long). */
  opts: { logs?: NodeJS.WritableStream; logLevel?: string; sweepIntervalMs?: number } = {},
): Promise<Harness> {
  const stack = await startStack();
  const slack = await startSlackStandin({
    channels: { C_INC: 'inc-42', C_GEN: 'general', C_PRIV: 'inc-private' },
  });
  const fullEnv = {
    ...stack.env,
    SLACK_BOT_TOKEN: 'xoxb-e2e-token',
    SLACK_SIGNING_SECRET: SECRET,
    SLACK_API_URL: slack.apiUrl,
    PORT: '0',
    APPROVER_USER_IDS: 'U_BOB,U_DAVE',
    LOG_LEVEL: 'silent',
    ...(typeof env === 'function' ? env({ ...stack.env, SLACK_API_URL: slack.apiUrl }) : env),
  };
  const bots: RunningBot[] = [];
  const startOne = async () => {
    const logger = opts.logs ? createLogger(opts.logLevel ?? 'debug', opts.logs) : createLogger('silent');
    const bot = await startBot(loadConfig(fullEnv, 'slack'), logger, {
      deliveryPollMs: 100,
      sweepIntervalMs: opts.sweepIntervalMs ?? 200,
      authRetryMs: 100,
      replayPollMs: 50,
      replayTimeoutMs: 3000,
    });
    bots.push(bot);
    return bot;
  };
  await startOne();
  const url = (i = 0) => `http://127.0.0.1:${bots[i]?.port}`;

  const h: Harness = {
    stack,
    slack,
    bots,
    url,
    startAnotherBot: startOne,
    async slash(text, opts = {}) {
      const responseId = `r${++responseSeq}`;
      const res = await postToApp(
        url(opts.bot),
        slashCommandBody({
          text,
          user_id: opts.user ?? 'U_ALICE',
          channel_id: opts.channel ?? CHANNEL,
          channel_name: opts.channelName ?? (opts.channel === 'C_GEN' ? 'general' : 'inc-42'),
          response_url: slack.responseUrl(responseId),
        }),
        { secret: SECRET },
      );
      return { status: res.status, json: res.json, responseId };
    },
    async click(actionId, value, user, messageTs, bot = 0, headers = {}) {
      const responseId = `r${++responseSeq}`;
      const res = await postToApp(
        url(bot),
        incidentClick(actionId, value, user, messageTs, slack.responseUrl(responseId)),
        { secret: SECRET, headers },
      );
      return { status: res.status, responseId };
    },
    async submitView(callbackId, user, values, privateMetadata) {
      const res = await postToApp(
        url(),
        viewSubmissionBody({
          user,
          view: {
            callback_id: callbackId,
            private_metadata: privateMetadata,
            state: { values: stateValues(values) },
          },
        }),
        { secret: SECRET },
      );
      return { status: res.status, json: res.json };
    },
    bulkCard() {
      return slack.waitFor(
        () => {
          for (const root of slack.messagesInChannel(CHANNEL)) {
            for (const m of slack.messagesInThread(CHANNEL, root.ts)) {
              const jobId = findButton(m.blocks, 'bulk_approve');
              if (jobId) return { ts: m.ts, jobId };
            }
          }
          return undefined;
        },
        20_000,
        'the bulk card',
      );
    },
    async cancelBulk(jobId, user, messageTs, reason) {
      const opened = slack.okCalls('views.open').length;
      await this.click('bulk_cancel', jobId, user, messageTs);
      await slack.waitFor(
        () => slack.okCalls('views.open').length > opened,
        10_000,
        'the cancel reason form',
      );
      const form = slack.okCalls('views.open').at(-1)?.args.view as { callback_id?: string } | undefined;
      if (form?.callback_id !== 'cancel_reason_modal') throw new Error('Cancel opened no reason form');
      const sent = await this.submitView('cancel_reason_modal', user, { cancel_reason: reason }, jobId);
      if (sent.status !== 200) throw new Error(`the cancel form was answered ${sent.status}`);
    },
    root(conversationId) {
      return slack
        .messagesInChannel(CHANNEL)
        .find((m) => m.thread_ts === null && m.text.includes(`Zeus recovery: ${conversationId}`));
    },
    thread(conversationId) {
      const root = h.root(conversationId);
      return root ? slack.messagesInThread(CHANNEL, root.ts) : [];
    },
    transcript(conversationId) {
      const root = h.root(conversationId);
      return root ? slack.transcript(CHANNEL, root.ts) : [];
    },
    approvalMessage(conversationId, nth = 0) {
      const found = h
        .thread(conversationId)
        .map((m) => ({ m, button: findButton(m.blocks, 'request_approve') }))
        .filter((x) => x.button);
      const hit = found[nth];
      return hit?.button ? { ts: hit.m.ts, requestId: hit.button } : undefined;
    },
    async stop() {
      for (const b of bots) await b.stop();
      await slack.stop();
      await stack.stop();
    },
  };
  return h;
}

/** The value of the button with this action_id in a message's blocks, if any. */
export function findButton(blocks: unknown[] | null, actionId: string): string | undefined {
  for (const block of blocks ?? []) {
    const elements = (block as { elements?: Array<{ action_id?: string; value?: string }> }).elements ?? [];
    const hit = elements.find((e) => e.action_id === actionId);
    if (hit) return hit.value;
  }
  return undefined;
}

/**
 * The message `ts` among `messages()` once its `actionId` button is gone: a used or decided
 * button is replaced by an edit in place, which may land after the answer to the click.
 */
export function withoutButton(
  h: Harness,
  messages: () => StoredMessage[],
  ts: string,
  actionId: string,
  what: string,
): Promise<StoredMessage> {
  return h.slack.waitFor(
    () => messages().find((m) => m.ts === ts && !findButton(m.blocks, actionId)),
    10_000,
    what,
  );
}

/** A button click in the incident channel, as Slack signs and posts it. */
export function incidentClick(
  actionId: string,
  value: string,
  user: string,
  messageTs: string,
  responseUrl: string,
): string {
  return blockActionsBody({
    user,
    channel: { id: CHANNEL, name: 'inc-42' },
    message_ts: messageTs,
    action_id: actionId,
    value,
    response_url: responseUrl,
  });
}

// The stand-in's waitFor is synchronous; conditions on the bot's stores need polling.
export { eventually } from '../helpers/eventually.js';

/** Waits for the private answer (response_url) matching `what`; fails with all that was said. */
export async function privateAnswer(h: Harness, responseId: string, what: RegExp): Promise<string> {
  const said = () => JSON.stringify(h.slack.responses(responseId).map((r) => r.body));
  await h.slack
    .waitFor(() => what.test(said()), 10_000, `private answer matching ${what}`)
    .catch((err: Error) => {
      throw new Error(`${err.message}\n${said()}`);
    });
  return said();
}
