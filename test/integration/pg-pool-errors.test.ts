import { describe, expect, it } from 'vitest';
import { runTsScript, type ScriptRun } from '../helpers/child-script.js';
import { ADMIN_DATABASE_URL } from '../helpers/env.js';

/**
 * In a process of its own, with no last-resort handler: if the pool lets a connection error
 * through, the process dies (exit code 1 and the stack trace) instead of printing its result.
 */
const SCRIPT = `
import pg from 'pg';
import { createPgPool } from './src/recovery/tiers/postgres.ts';
const url = process.env.DATABASE_URL;
const pool = createPgPool(url, 2000);
const seen = [];
pool.on('error', (err) => seen.push(err));
const client = await pool.connect();
const { rows } = await client.query('SELECT pg_backend_pid() AS pid');
const admin = new pg.Client({ connectionString: url });
await admin.connect();
// Checked out and between queries, as a lock's session is while the restore writes Redis: the
// server ends the session under it.
await admin.query('SELECT pg_terminate_backend($1)', [rows[0].pid]);
await admin.end();
for (let i = 0; i < 100 && seen.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
const query = await client.query('SELECT 1').then(() => 'answered', (err) => 'failed: ' + err.message);
client.release(true);
await new Promise((r) => setTimeout(r, 200));
const checkedOut = seen.length;
// An idle client's error reaches the listeners through pg-pool: still once per error.
const idle = await pool.connect();
const idlePid = (await idle.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
idle.release();
const admin2 = new pg.Client({ connectionString: url });
await admin2.connect();
await admin2.query('SELECT pg_terminate_backend($1)', [idlePid]);
await admin2.end();
for (let i = 0; i < 100 && seen.length === checkedOut; i++) await new Promise((r) => setTimeout(r, 20));
await new Promise((r) => setTimeout(r, 200));
// The pool still works afterwards: a new connection replaces the broken one.
const again = (await pool.query('SELECT 1 AS one')).rows[0].one;
await pool.end();
const messages = seen.map((e) => e.message);
console.log(JSON.stringify({ messages, checkedOut, distinct: new Set(seen).size, query, again }));
`;

function runScript(): Promise<ScriptRun> {
  return runTsScript(SCRIPT, { HOME: process.env.HOME ?? '/tmp', DATABASE_URL: ADMIN_DATABASE_URL });
}

describe('createPgPool under a connection reset', () => {
  it('survives pg_terminate_backend of a checked-out idle client, reports each error once, and keeps serving', async () => {
    const run = await runScript();
    expect(run.stderr).not.toMatch(/terminating connection|Unhandled 'error' event/);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout.trim().split('\n').pop() ?? '{}') as {
      messages: string[];
      checkedOut: number;
      distinct: number;
      query: string;
      again: number;
    };
    expect(result.query).toMatch(/^failed: /);
    expect(result.checkedOut).toBeGreaterThan(0);
    expect(result.messages[0]).toMatch(/terminating connection/);
    expect(result.messages.length).toBeGreaterThan(result.checkedOut);
    // No error object reached the listeners twice.
    expect(result.distinct).toBe(result.messages.length);
    expect(result.again).toBe(1);
  });
});
