import { WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SlackStandin, startSlackStandin } from '../../sandbox/slack/local-slack.js';
import { createLogger } from '../../src/log.js';
import { boltLogger } from '../../src/slack/bolt-logger.js';
import { createThreadUploader, type ThreadUpload } from '../../src/slack/upload.js';
import { recoveryError } from '../helpers/errors.js';

/**
 * The export's upload against the local Slack over real HTTP: the share step is sent once,
 * whatever Slack answers, and a Slack that never answers fails the upload instead of holding it.
 */

const TOKEN = 'xoxb-upload-test';
let slack: SlackStandin;
let n = 0;
// Rate limits and timeouts are the point of some tests; the SDK need not print them.
const quiet = boltLogger(createLogger('silent'));

beforeAll(async () => {
  slack = await startSlackStandin({ channels: { C_INC: 'inc-42' } });
});
afterAll(async () => slack.stop());

const uploader = (options: Parameters<typeof createThreadUploader>[1] = {}) =>
  createThreadUploader(TOKEN, { slackApiUrl: slack.apiUrl, logger: quiet, ...options });

/** A fresh thread in the incident channel and a file for it. */
async function fileForNewThread(): Promise<ThreadUpload> {
  const client = new WebClient(TOKEN, { slackApiUrl: slack.apiUrl, retryConfig: { retries: 0 } });
  const root = await client.chat.postMessage({ channel: 'C_INC', text: `thread ${++n}` });
  const id = `c-upload-${n}`;
  return {
    channelId: 'C_INC',
    threadTs: root.ts ?? '',
    conversationId: id,
    filename: `${id}-redis.json`,
    bytes: Buffer.from(`{"id":"${id}","steps":[]}\n`),
  };
}

const shares = () => slack.calls('files.completeUploadExternal').length;
const inThread = (file: ThreadUpload) => slack.messagesInThread(file.channelId, file.threadTs).length - 1;

describe('uploading an export to its thread', () => {
  it('shares the exact bytes once in the thread', async () => {
    const file = await fileForNewThread();
    await uploader()(file);
    const stored = slack.files().find((f) => f.filename === file.filename);
    expect(stored).toMatchObject({ completed: true, channel_id: 'C_INC', thread_ts: file.threadTs });
    expect(stored?.bytes?.equals(file.bytes)).toBe(true);
    expect(inThread(file)).toBe(1);
  });

  it('asks again for an upload address Slack failed to give: nothing is shown until the share', async () => {
    const file = await fileForNewThread();
    slack.failNext('files.getUploadURLExternal', { status: 503 });
    await uploader()(file);
    expect(
      slack.calls('files.getUploadURLExternal').filter((c) => c.args.filename === file.filename),
    ).toHaveLength(2);
    expect(inThread(file)).toBe(1);
  });

  it('tells the bot of a rate limit, as its own client does (zeus_recover_slack_rate_limited_total)', async () => {
    const file = await fileForNewThread();
    const limited: string[] = [];
    slack.failNext('files.getUploadURLExternal', { status: 429, retryAfter: 0 });
    await uploader({ onRateLimited: (m) => limited.push(m) })(file);
    expect(limited).toEqual(['files.getUploadURLExternal']);
    expect(inThread(file)).toBe(1);
  });

  it('a 5xx after Slack shared the file: not sent again, reported as maybe shared', async () => {
    const file = await fileForNewThread();
    const before = shares();
    slack.acceptThen('files.completeUploadExternal', { answer: 'status', status: 503 });
    const err = await recoveryError(uploader()(file));
    expect(err.message).toContain('may have shared it anyway');
    expect(err.hint).toMatch(/^Look in the thread before exporting again/);
    expect(shares() - before).toBe(1);
    expect(inThread(file)).toBe(1);
  });

  it('a Slack that never answers the share: the upload gives up at its deadline, not sent again', async () => {
    const file = await fileForNewThread();
    const before = shares();
    slack.acceptThen('files.completeUploadExternal', { answer: 'never' });
    const err = await recoveryError(uploader({ timeoutMs: 300 })(file));
    expect(err.message).toContain('may have shared it anyway');
    expect(shares() - before).toBe(1);
  });

  it('a share Slack refused outright: nothing was shared, try again', async () => {
    const file = await fileForNewThread();
    slack.failWith('files.completeUploadExternal', 'not_in_channel');
    const err = await recoveryError(uploader()(file));
    expect(err.message).toContain('(not_in_channel); nothing was shared');
    expect(err.hint).toContain(`zeus-recover export ${file.conversationId}`);
    expect(inThread(file)).toBe(0);
  });
});
