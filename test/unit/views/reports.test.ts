import { describe, expect, it } from 'vitest';
import { inspectJson } from '../../../src/recovery/summary.js';
import {
  commandEchoView,
  commandErrorView,
  diffView,
  errorView,
  helpView,
  inspectView,
  notIncidentChannelView,
  threadRootView,
  toPlainText,
  usageError,
  validationView,
} from '../../../src/views/index.js';
import { readReportTarget } from '../../../src/views/report-actions.js';
import { analysis, diffReport, HOSTILE, ID, inspectReport, NOW, tier, validationReport } from './fixtures.js';

describe('inspectView', () => {
  it('reads as a person sees it', () => {
    const msg = inspectView(inspectJson(inspectReport()), { now: NOW });
    expect(msg.text).toBe(
      'Inspect c-7f3a9e: Redis ⚠️ 9 steps, PostgreSQL ✅ 14 steps, S3 🔌 unreachable. Recommendation: restore from PostgreSQL — postgres holds a valid copy with the most steps (14).',
    );
    expect(toPlainText(msg)).toMatchInlineSnapshot(`
      "# 🔎 Inspect c-7f3a9e
      Redis ⚠️ found but invalid · 9 steps · last step 02:58:04 UTC · 4.2 KB · \`77aa77aa77aa\` · TTL 6 h
          ❌ Steps 9–11 are missing (the steps jump from 8 to 12).
      PostgreSQL ✅ valid · 14 steps · last step 02:58:04 UTC · 4.9 KB · \`c0ffeec0ffee\`
      S3 🔌 unreachable — timeout after 2000 ms
      ---
      Recommendation: restore from PostgreSQL — postgres holds a valid copy with the most steps (14).
      Next: Diff to preview, then Restore from PostgreSQL… (below), or type \`/zeus-recover restore c-7f3a9e --from postgres --reason <why>\`
      [Restore from PostgreSQL…] (primary) [Diff]
      Inspected 03:10 UTC  ·  Redis: \`redis key zeus:conversation:c-7f3a9e\`  ·  PostgreSQL: \`postgres conversations id=c-7f3a9e\`  ·  S3: \`s3://kosmos-conversations/archive/c-7f3a9e.json\`"
    `);
  });

  it('recommends keeping Redis, or says no tier is usable', () => {
    const keep = {
      ...inspectReport(),
      recommendation: { source: 'redis' as const, reason: 'redis is valid and complete' },
    };
    expect(toPlainText(inspectView(inspectJson(keep)))).toContain(
      'Recommendation: keep Redis — it holds the best copy',
    );
    const none = { ...inspectReport(), recommendation: { source: null, reason: 'no valid copy' } };
    expect(toPlainText(inspectView(inspectJson(none)))).toContain(
      'Recommendation: no tier holds a usable copy',
    );
  });

  it('shows missing tiers, TTL-less keys and dates of other days', () => {
    const r = inspectReport();
    r.tiers.redis = tier('redis', ID, {
      ttlMs: null,
      analysis: analysis({ lastStepAt: '2025-12-11T08:00:00.000Z' }),
    });
    r.tiers.s3 = tier('s3', ID, { status: 'missing', analysis: null });
    const plain = toPlainText(inspectView(inspectJson(r), { now: NOW }));
    expect(plain).toContain(
      'Redis ✅ valid · 12 steps · last step 2025-12-11 08:00:00 UTC · 4.2 KB · `1a2b3c1a2b3c` · no TTL',
    );
    expect(plain).toContain('S3 ❌ missing');
  });

  it('offers Restore from the recommended tier and Diff as buttons, carrying the id and tier', () => {
    const msg = inspectView(inspectJson(inspectReport()), { now: NOW });
    const actions = msg.blocks.find((b) => b.type === 'actions');
    expect(actions).toMatchObject({
      elements: [
        { action_id: 'report_restore', text: { text: 'Restore from PostgreSQL…' } },
        { action_id: 'report_diff', text: { text: 'Diff' } },
      ],
    });
    const values = (actions as { elements: { value: string }[] }).elements.map((e) =>
      readReportTarget(e.value),
    );
    expect(values).toEqual([
      { id: ID, source: 'postgres' },
      { id: ID, source: 'postgres' },
    ]);
    const keep = { ...inspectReport(), recommendation: { source: 'redis' as const, reason: 'complete' } };
    expect(inspectView(inspectJson(keep)).blocks.some((b) => b.type === 'actions')).toBe(false);
    expect(readReportTarget('{"id":"c-1","source":"redis"}')).toBeNull();
  });

  it('says why agreeing copies have different checksums: same content, different bytes', () => {
    const r = inspectReport();
    const same = { stepCount: 14, contentHash: 'sha256:same' };
    r.tiers.redis = tier('redis', ID, { analysis: analysis({ ...same, checksum: 'sha256:aaaa' }) });
    r.tiers.postgres = tier('postgres', ID, { analysis: analysis({ ...same, checksum: 'sha256:bbbb' }) });
    expect(toPlainText(inspectView(inspectJson(r), { now: NOW }))).toContain(
      'PostgreSQL holds the same content as Redis in different bytes (Postgres stores jsonb',
    );
    // Redis and S3 byte-equal, Postgres not: only Postgres is named.
    r.tiers.s3 = tier('s3', ID, { analysis: analysis({ ...same, checksum: 'sha256:aaaa' }) });
    const three = toPlainText(inspectView(inspectJson(r), { now: NOW }));
    expect(three).toContain('ℹ️ PostgreSQL holds the same content as Redis in different bytes');
    expect(three).not.toMatch(/S3 holds the same content/);
    r.tiers.postgres = tier('postgres', ID, { analysis: analysis({ ...same, checksum: 'sha256:aaaa' }) });
    expect(toPlainText(inspectView(inspectJson(r), { now: NOW }))).not.toContain('different bytes');
  });

  it('shows hostile findings and reasons literally', () => {
    const r = inspectReport();
    r.tiers.s3 = tier('s3', ID, { status: 'unreachable', reason: HOSTILE, analysis: null });
    r.tiers.redis = tier('redis', ID, {
      analysis: analysis({ valid: false, findings: [{ severity: 'error', code: 'x', message: HOSTILE }] }),
    });
    const msg = inspectView(inspectJson(r), { now: NOW });
    expect(JSON.stringify(msg)).not.toMatch(/<!channel>|<@U0BADBAD>|<https:\/\/evil/);
    expect(toPlainText(msg)).toContain(
      'S3 🔌 unreachable — <!channel> <@U0BADBAD> <https://evil.example|click here> & bold',
    );
  });
});

describe('validationView', () => {
  it('reads as a person sees it', () => {
    expect(toPlainText(validationView(validationReport(), { now: NOW }))).toMatchInlineSnapshot(`
      "# 🩺 Validate c-7f3a9e
      ❌ broken — The active copy in Redis is not valid (step_gap).
      Redis ⚠️ found but invalid · 9 steps · last step 02:58:04 UTC · 4.2 KB · \`77aa77aa77aa\` · TTL 6 h
          ❌ Steps 9–11 are missing (the steps jump from 8 to 12).
      PostgreSQL ✅ valid · 14 steps · last step 02:58:04 UTC · 4.9 KB · \`c0ffeec0ffee\`
      S3 🔌 unreachable — timeout after 2000 ms
      Cross-tier agreement: postgres has 14 steps; redis is 5 steps behind; s3 is unreachable
      ---
      Recommendation: restore from PostgreSQL — postgres holds a valid copy with the most steps (14).
      [Restore from PostgreSQL…] (primary) [Diff]
      Validated 03:10 UTC"
    `);
  });

  it.each([
    ['healthy', '✅ healthy'],
    ['degraded', '⚠️ degraded'],
    ['broken', '❌ broken'],
  ] as const)('heads a %s report with its verdict', (verdict, headline) => {
    expect(validationView(validationReport({ verdict, next: null })).text).toContain(headline);
  });
});

describe('diffView', () => {
  it('reads as a person sees it', () => {
    expect(toPlainText(diffView(diffReport(), { now: NOW }))).toMatchInlineSnapshot(`
      "# ↔️ Diff c-7f3a9e: Redis ← postgres
      +4 steps added, 1 changed, 9 unchanged
      Added (4)
      + #9 tool · 02:09:04 UTC
      + #10 assistant · 02:10:04 UTC
      + #13 user · 02:13:04 UTC
      + #14 assistant · 02:14:04 UTC
      Changed (1)
      ~ #12 user → assistant · 02:12:04 UTC
      Unchanged: 9 steps  ·  Restore: \`/zeus-recover restore c-7f3a9e --from postgres --reason <why>\`"
    `);
  });

  it('says when nothing differs and offers no restore', () => {
    const same = diffReport({
      diff: { added: [], removed: [], changed: [], unchanged: 12, identical: true },
      summary: 'identical',
    });
    const plain = toPlainText(diffView(same));
    expect(plain).toContain('✅ No step differs: Redis and `postgres` hold the same 12 steps.');
    expect(plain).not.toContain('/zeus-recover restore');
  });

  it('warns about an invalid source', () => {
    const bad = diffReport({ sourceAnalysis: analysis({ valid: false }) });
    expect(toPlainText(diffView(bad))).toContain('⚠️ The `postgres` copy is not valid');
  });
});

describe('help and errors', () => {
  it('lists the grammar', () => {
    const plain = toPlainText(helpView());
    for (const syntax of [
      '/zeus-recover help',
      'inspect <id>',
      'validate <id>',
      'diff <id> --from',
      'restore <id> --from postgres|s3|backup:<backupId>',
      'undo <backupId>',
      'export <id>',
      'list [pattern]',
      'open the recovery form',
    ]) {
      expect(plain).toContain(syntax);
    }
    expect(helpView().response_type).toBe('ephemeral');
  });

  it('explains a usage error with a suggestion', () => {
    const msg = usageError('`inspct` is not a command.', '/zeus-recover inspect c-1');
    expect(msg.response_type).toBe('ephemeral');
    expect(toPlainText(msg)).toMatchInlineSnapshot(`
      "⚠️ \`inspct\` is not a command.
      Try: \`/zeus-recover inspect c-1\`
      \`/zeus-recover help\` lists every command."
    `);
  });

  it('takes the parser’s CommandError as is, and escapes what it quotes', () => {
    const msg = commandErrorView({
      message: '`<!channel>` is not a conversation id.',
      suggestion: null,
      usage: '/zeus-recover inspect <id>',
    });
    expect(JSON.stringify(msg)).not.toContain('<!channel>');
    expect(toPlainText(msg)).not.toContain('Did you mean');
    expect(toPlainText(msg)).toContain('`/zeus-recover inspect <id>`');
  });

  it('shows an error with what to do', () => {
    const msg = errorView({
      message: 'Backup bk_x does not exist.',
      hint: 'Check the id in the restore result.',
      code: 'backup_not_found',
    });
    expect(msg.response_type).toBe('ephemeral');
    expect(toPlainText(msg)).toMatchInlineSnapshot(`
      "❌ Backup bk_x does not exist.
      What to do: Check the id in the restore result.
      Error code \`backup_not_found\`"
    `);
    expect(toPlainText(errorView({ message: 'Locked.', code: 'restore_in_progress' }))).toContain(
      'What to do: Another restore',
    );
  });

  it('explains the incident-channel rule with an example', () => {
    expect(toPlainText(notIncidentChannelView('^inc-'))).toContain(
      '⛔ `/zeus-recover` works only in incident channels (names matching `^inc-`), e.g. #inc-1234.',
    );
    expect(toPlainText(notIncidentChannelView('(incident|inc)-'))).not.toContain('e.g.');
  });
});

describe('thread', () => {
  it('roots the thread and echoes commands', () => {
    expect(threadRootView(ID).text).toBe('Zeus recovery: c-7f3a9e');
    expect(toPlainText(threadRootView(ID))).toContain('This thread holds the whole story');
    const echo = commandEchoView(
      'U0REQUEST',
      '/zeus-recover restore c-1 --from postgres --reason <!channel> `x`',
    );
    expect(echo.text).toBe(
      '<@U0REQUEST> ran `/zeus-recover restore c-1 --from postgres --reason &lt;!channel&gt; ˋxˋ`',
    );
  });

  it('echoes a click as a click, not as a command someone typed', () => {
    const echo = commandEchoView('U0REQUEST', '/zeus-recover undo bk_1', 'Undo this restore');
    expect(toPlainText(echo)).toBe('@U0REQUEST clicked Undo this restore (`/zeus-recover undo bk_1`)');
    expect(toPlainText(echo)).not.toContain(' ran ');
  });
});
