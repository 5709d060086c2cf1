import { describe, expect, it } from 'vitest';
import { AuditAction } from '../../src/approval/types.js';
import { AUDIT_ACTIONS, AUDIT_DATA, isAuditAction, OUTCOME_ACTIONS } from '../../src/audit-vocabulary.js';
import { HANDLERS, renderAuditEntry } from '../../src/views/audit-entry.js';

describe('audit vocabulary', () => {
  it('gives every action a schema, and the views a renderer for each, and nothing more', () => {
    expect(AUDIT_ACTIONS.length).toBeGreaterThan(0);
    for (const action of AUDIT_ACTIONS) {
      expect(AUDIT_DATA[action], action).toBeDefined();
      expect(typeof AUDIT_DATA[action].safeParse, action).toBe('function');
    }
    expect(Object.keys(HANDLERS).sort()).toEqual([...AUDIT_ACTIONS].sort());
  });

  it('names every action the Slack face writes', () => {
    for (const action of Object.values(AuditAction)) expect(isAuditAction(action), action).toBe(true);
  });

  it('marks as outcomes exactly the actions whose data may carry the entry mark and request snapshot', () => {
    const shapes = (schema: unknown): Record<string, unknown>[] => {
      const def = (schema as { def: { type: string; shape?: object; options?: unknown[] } }).def;
      if (def.type === 'union') return (def.options ?? []).flatMap(shapes);
      return [def.shape as Record<string, unknown>];
    };
    const marked = AUDIT_ACTIONS.filter((a) =>
      shapes(AUDIT_DATA[a]).every((shape) => 'entryId' in shape && 'request' in shape),
    );
    expect(marked.sort()).toEqual([...OUTCOME_ACTIONS].sort());
  });

  it('knows only its own actions', () => {
    for (const action of ['restore.done', 'toString', '__proto__', '', 42, null]) {
      expect(isAuditAction(action), String(action)).toBe(false);
    }
  });

  it('each renderer parses its data with the vocabulary schema: a wrong shape is said, not shown', () => {
    for (const action of AUDIT_ACTIONS) {
      const msg = renderAuditEntry({
        seq: 7,
        at: new Date('2026-01-01T00:00:00Z'),
        actor: 'system',
        action,
        conversationId: 'c-1',
        requestId: null,
        data: { unexpected: true },
      });
      expect(msg?.text, action).toContain('could not be shown in full');
    }
  });

  it("shows an outcome even when the workflow's request snapshot in it is unreadable", () => {
    const data = {
      source: 'postgres',
      backupId: null,
      code: 'conflict',
      error: 'Redis changed since the preview.',
      entryId: 'e-1',
      request: { id: 'rq_1', plan: null },
    };
    const parsed = AUDIT_DATA['restore.failed'].safeParse(data);
    expect(parsed.success).toBe(true);
    expect(parsed.data?.request).toBeUndefined();
    const msg = renderAuditEntry({
      seq: 8,
      at: new Date('2026-01-01T00:00:00Z'),
      actor: 'system',
      action: 'restore.failed',
      conversationId: 'c-1',
      requestId: 'rq_1',
      data,
    });
    expect(msg?.text).not.toContain('could not be shown');
    expect(msg?.text).toContain('failed');
  });
});
