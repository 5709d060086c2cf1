import { describe, expect, it } from 'vitest';
import { formatPlan, formatRestore } from '../../src/cli/format.js';
import { analyzeConversation, sha256Checksum } from '../../src/recovery/conversation.js';
import type { RestorePlan } from '../../src/recovery/plan.js';
import { makeConversation } from '../helpers/conversations.js';

const ID = 'c-7f3a9e';

function side(bytes: Buffer) {
  return {
    exists: true,
    checksum: sha256Checksum(bytes),
    bytes: bytes.length,
    analysis: analyzeConversation(bytes, ID),
  };
}

function plan(current: Buffer, target: Buffer): RestorePlan {
  return {
    conversationId: ID,
    source: { kind: 'tier', tier: 'postgres' },
    sourceLabel: 'postgres',
    target: side(target),
    current: { ...side(current), ttlMs: null },
    diff: { added: [], removed: [], changed: [], unchanged: 0, identical: false },
    diffSummary: '+7 steps (1–7), −0, 0 changed',
    warnings: [],
    createdAt: '2025-12-13T03:10:00.000Z',
  };
}

describe('the CLI restore plan', () => {
  it('says a corrupt Redis copy is not valid and its steps unknown, not "? steps"', () => {
    const corrupt = Buffer.from(makeConversation(ID, 3).slice(0, 120));
    const good = Buffer.from(makeConversation(ID, 7));
    const text = formatPlan(plan(corrupt, good));
    expect(text).toContain(`Redis now: steps unknown, sha256:${sha256Checksum(corrupt).slice(7, 19)}`);
    expect(text).toMatch(/Redis now: .*, NOT valid$/m);
    expect(text).toMatch(/Will hold: 7 steps, sha256:[0-9a-f]{12}…$/m);
    expect(text).not.toContain('?');
  });
});

describe('the CLI restore result', () => {
  it('reads back a corrupt copy as "NOT valid, steps unknown"', () => {
    const corrupt = Buffer.from(makeConversation(ID, 3).slice(0, 120));
    const text = formatRestore({
      restored: true,
      conversationId: ID,
      source: 'backup:bk_x',
      backupId: 'bk_y',
      before: null,
      after: sha256Checksum(corrupt),
      ttlMs: null,
      validation: analyzeConversation(corrupt, ID),
      verified: true,
      recorded: true,
      diffSummary: '',
    });
    expect(text).toContain('Read-back: NOT valid, steps unknown');
    expect(text).not.toContain('?');
  });
});
