import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeConversation } from '../helpers/conversations.js';
import { collectEscapes } from '../helpers/escapes.js';
import { eventually, type Harness, startHarness } from './bot-harness.js';

let h: Harness;
const escaped = collectEscapes();

beforeAll(async () => {
  h = await startHarness();
}, 60_000);

afterAll(async () => {
  await h?.stop();
});

async function metric(line: string): Promise<number> {
  const text = await (await fetch(`${h.url()}/metrics`)).text();
  const hit = text.split('\n').find((l) => l.startsWith(line));
  return hit ? Number(hit.split(' ').pop()) : 0;
}

/** Ends every Postgres session the bot holds (the pool names them 'zeus-recover'). */
async function terminateBotSessions(): Promise<number> {
  const { rows } = await h.stack.db.pool.query<{ n: number }>(
    `SELECT count(*) FILTER (WHERE pg_terminate_backend(pid))::int AS n FROM pg_stat_activity
      WHERE datname = current_database() AND application_name = 'zeus-recover' AND pid <> pg_backend_pid()`,
  );
  return rows[0]?.n ?? 0;
}

describe('Postgres sessions terminated under a busy bot', () => {
  it('the process survives, counts the errors, and serves the next commands', async () => {
    const id = 'c-reset-1';
    await h.stack.seed('postgres', id, makeConversation(id, 3));
    // Slack answers slowly, so the delivery worker holds its checked-out session (and its
    // channel lock) idle while it waits: the moment a reset used to end the process.
    h.slack.acceptThen('chat.postMessage', { answer: 'slow', afterMs: 400 }, { times: 20 });
    const commands = Array.from({ length: 10 }, () => h.slash(`inspect ${id}`));
    let terminated = 0;
    for (let round = 0; round < 8; round++) {
      await new Promise((r) => setTimeout(r, 150));
      terminated += await terminateBotSessions();
    }
    for (const res of await Promise.all(commands)) expect(res.status).toBe(200);
    expect(terminated).toBeGreaterThan(0);

    expect(escaped).toEqual([]);
    expect(await metric('zeus_recover_store_connection_errors_total{store="postgres"}')).toBeGreaterThan(0);
    // Still serving: a new command reaches its thread and the health check passes.
    const before = h.thread(id).length;
    await h.slash(`validate ${id}`);
    await h.slack.waitFor(() => h.thread(id).length > before || undefined, 20_000, 'the next report');
    await eventually(async () => (await fetch(`${h.url()}/readyz`)).status === 200, 'ready again');
  }, 60_000);
});
