import { describe, expect, it } from 'vitest';
import { renderAuditEntry, toPlainText } from '../../../src/views/index.js';
import { HOSTILE, NOW } from './fixtures.js';

const entry = (actor: string, action: string, data: Record<string, unknown>) => ({
  seq: 7,
  at: NOW,
  actor,
  action,
  conversationId: 'c-7f3a9e',
  requestId: null,
  data,
});
const restored = {
  source: 'postgres',
  backupId: 'bk_abc',
  before: null,
  after: 'sha256:aa',
  ttlMs: null,
  valid: true,
};

describe('entries the CLI wrote, in the thread', () => {
  it('echo the command line marked "via CLI (<OS user>)"', () => {
    const msg = renderAuditEntry(
      entry('cli:alice', 'command.received', { command: 'zeus-recover restore c-7f3a9e --from postgres' }),
    );
    expect(msg?.text).toBe('🖥️ via CLI (alice): `zeus-recover restore c-7f3a9e --from postgres`');
  });

  it('mark every other entry too, and leave Slack-made entries unmarked', () => {
    const cli = renderAuditEntry(entry('cli:alice', 'restore.succeeded', restored));
    expect(cli?.text).toContain('via CLI (alice)');
    expect(toPlainText(cli?.blocks ?? [])).toContain('via CLI (alice)');
    const slack = renderAuditEntry(entry('slack:U0ALICE', 'restore.succeeded', restored));
    expect(slack?.text).not.toContain('via CLI');
  });

  it('show a hostile OS user literally', () => {
    const msg = renderAuditEntry(entry(`cli:${HOSTILE}`, 'restore.succeeded', restored));
    expect(msg?.text).not.toMatch(/<!channel>|<https?:/);
  });
});
