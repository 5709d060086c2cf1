import { LogLevel, WebClient } from '@slack/web-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoWorkspace, INCIDENT_CHANNEL } from '../../sandbox/demo.js';
import { LocalSlack } from '../../sandbox/slack/local-slack.js';

/**
 * The demo's fake Slack answers the two lookups the delivery worker makes after a post whose
 * answer was lost, with the metadata it was posted with, so the demo behaves as Slack does.
 */

const TOKEN = 'xoxb-sandbox-history';
let sandbox: LocalSlack;
let client: WebClient;

beforeAll(async () => {
  sandbox = await LocalSlack.start({
    workspace: demoWorkspace(),
    botToken: TOKEN,
    page: { signingSecret: 'sandbox-history-signing-secret-0123', commands: ['/zeus-recover'] },
  });
  client = new WebClient(TOKEN, {
    slackApiUrl: sandbox.apiUrl,
    retryConfig: { retries: 0 },
    logLevel: LogLevel.ERROR,
  });
});

afterAll(async () => {
  await sandbox.stop();
});

describe('sandbox conversations.history / conversations.replies', () => {
  it('returns messages with their metadata when include_all_metadata is asked, a page at a time', async () => {
    const channel = INCIDENT_CHANNEL.id;
    const since = String(Math.floor(Date.now() / 1000) - 1);
    const root = await client.chat.postMessage({
      channel,
      text: 'root',
      metadata: { event_type: 'zeus_recover_thread_root', event_payload: { conversation_id: 'c-9' } },
    });
    const rootTs = root.ts ?? '';
    for (const seq of [1, 2, 3]) {
      await client.chat.postMessage({
        channel,
        thread_ts: rootTs,
        text: `entry ${seq}`,
        reply_broadcast: seq === 2,
        metadata: { event_type: 'zeus_recover_audit', event_payload: { seq } },
      });
    }

    const history = await client.conversations.history({
      channel,
      oldest: since,
      include_all_metadata: true,
    });
    // Newest first: the broadcast reply, then the root.
    expect(history.messages?.map((m) => [m.text, m.metadata?.event_type])).toEqual([
      ['entry 2', 'zeus_recover_audit'],
      ['root', 'zeus_recover_thread_root'],
    ]);
    expect(history.messages?.[1]?.metadata?.event_payload).toEqual({ conversation_id: 'c-9' });

    const seen: unknown[] = [];
    let cursor: string | undefined;
    do {
      const page = await client.conversations.replies({
        channel,
        ts: rootTs,
        limit: 2,
        include_all_metadata: true,
        ...(cursor ? { cursor } : {}),
      });
      expect(page.messages?.length).toBeLessThanOrEqual(2);
      seen.push(
        ...(page.messages ?? []).map(
          (m) => (m.metadata?.event_payload as { seq?: number } | undefined)?.seq ?? 'root',
        ),
      );
      cursor = page.has_more ? page.response_metadata?.next_cursor : undefined;
    } while (cursor);
    expect(seen).toEqual(['root', 1, 2, 3]);

    // Without asking, no metadata, as in Slack.
    const plain = await client.conversations.replies({ channel, ts: rootTs });
    expect(plain.messages?.some((m) => m.metadata !== undefined)).toBe(false);
    // Nothing before `oldest`, and an unknown thread is refused.
    const later = await client.conversations.history({ channel, oldest: String(Number(rootTs) + 3600) });
    expect(later.messages).toEqual([]);
    await expect(client.conversations.replies({ channel, ts: '1.000001' })).rejects.toMatchObject({
      data: { error: 'thread_not_found' },
    });
  });
});
