import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConversation } from '../helpers/conversations.js';
import { eventually, type Harness, startHarness } from './bot-harness.js';

let h: Harness;

beforeAll(async () => {
  h = await startHarness();
}, 60_000);
afterAll(async () => h.stop());

const restoreCounted = async () =>
  /zeus_recover_commands_total\{command="restore",outcome="ok"\} 1/.test(
    await (await fetch(`${h.url()}/metrics`)).text(),
  );

describe('a command is counted when its work is done', () => {
  it('while its private note still waits for the thread message to link to', async () => {
    const id = 'c-count-1';
    await h.stack.seed('postgres', id, makeConversation(id, 4));
    await h.stack.seed('redis', id, makeConversation(id, 1));
    // Slack is down: the request is made, but its thread message cannot be posted, so the note's
    // link cannot come. The count must not wait for it.
    await h.slack.setDown(true);
    let res: Awaited<ReturnType<Harness['slash']>>;
    try {
      res = await h.slash(`restore ${id} --from postgres --reason INC-7 count me`);
      await eventually(restoreCounted, 'restore counted while Slack is down');
    } finally {
      await h.slack.setDown(false);
    }
    // Slack back within the handler's wait: the thread message is posted and the note becomes its
    // link. Counted only after that wait (as before), the count would come after the wait had given
    // up with Slack still down, and this note would never get its link.
    const replaced = await eventually(
      () =>
        h.slack.responses(res.responseId).find((r) => JSON.stringify(r).includes('Open it in the thread')),
      'the note replaced by a link to the thread',
    );
    expect(JSON.stringify(replaced)).toContain(id);
  }, 60_000);
});
