import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ErrorCode } from '../../src/errors.js';
import { sha256Checksum } from '../../src/recovery/conversation.js';
import type { CoreDeps } from '../../src/recovery/deps.js';
import {
  diffConversation,
  executeRestore,
  exportConversation,
  inspectConversation,
  listConversations,
  planRestore,
  planUndo,
  validateConversation,
} from '../../src/recovery/index.js';
import type { Runtime } from '../../src/wiring.js';
import { makeConversation } from '../helpers/conversations.js';
import { type Stack, startStack } from '../helpers/stack.js';

let stack: Stack;
let rt: Runtime;
let deps: CoreDeps;
const actor = { id: 'cli:tester', reason: 'incident INC-1' };
let n = 0;
const freshId = () => `c-core${++n}`;

beforeAll(async () => {
  stack = await startStack();
  rt = await stack.runtime();
  deps = rt.deps;
});
afterAll(async () => stack.stop());

/** A document with unknown fields, odd key order, whitespace and a number beyond 2^53. */
function handWritten(id: string, steps = 3): string {
  const stepLines = Array.from({ length: steps }, (_, i) => {
    const k = i + 1;
    return `    {"ts": "2025-12-13T10:00:0${k}.000Z", "step": ${k}, "role": "${k % 2 ? 'user' : 'assistant'}", "content": "é ${k} — ☃", "x_trace": {"span": ${k}}}`;
  }).join(',\n');
  return `{\n  "zeus_internal": {"shard": 12345678901234567890, "tags": ["a", "b"]},\n  "id": "${id}",\n  "status": "active",\n  "steps": [\n${stepLines}\n  ],\n  "checkpoint": 1,\n  "updated_at": "2025-12-13T10:00:09.000Z"\n}\n`;
}

async function redisBytes(id: string): Promise<Buffer | null> {
  return stack.redis.client.getBuffer(stack.redis.key(id));
}

describe('inspect', () => {
  it('reads all tiers and recommends Postgres when Redis lost the conversation', async () => {
    const id = freshId();
    await stack.seed('postgres', id, makeConversation(id, 8));
    await stack.seed('s3', id, makeConversation(id, 6));
    const { report } = await inspectConversation(deps, id);
    expect(report.tiers.redis.status).toBe('missing');
    expect(report.tiers.postgres.status).toBe('found');
    expect(report.tiers.postgres.analysis?.stepCount).toBe(8);
    expect(report.tiers.s3.analysis?.stepCount).toBe(6);
    expect(report.recommendation.source).toBe('postgres');
    expect(report.recommendation.reason).toMatch(/redis/i);
  });

  it('reports checksums of the stored bytes and the Redis TTL', async () => {
    const id = freshId();
    const doc = handWritten(id);
    await stack.seed('redis', id, doc, 3600);
    const { report } = await inspectConversation(deps, id);
    expect(report.tiers.redis.analysis?.checksum).toBe(sha256Checksum(Buffer.from(doc)));
    expect(report.tiers.redis.ttlMs).toBeGreaterThan(3_000_000);
    expect(report.tiers.redis.analysis?.valid).toBe(true);
  });

  it('answers for the other tiers when one tier is unreachable', async () => {
    const id = freshId();
    await stack.seed('redis', id, makeConversation(id, 4));
    await stack.seed('postgres', id, makeConversation(id, 4));
    const broken = await stack.runtime({ S3_ENDPOINT: 'http://127.0.0.1:1', S3_TIMEOUT_MS: '1500' });
    const { report } = await inspectConversation(broken.deps, id);
    expect(report.tiers.s3.status).toBe('unreachable');
    expect(report.tiers.s3.reason).toBeTruthy();
    expect(report.tiers.redis.status).toBe('found');
    expect(report.tiers.postgres.status).toBe('found');
  });

  it('answers with Postgres down', async () => {
    const id = freshId();
    await stack.seed('redis', id, makeConversation(id, 2));
    const { createRuntime } = await import('../../src/wiring.js');
    const { loadConfig } = await import('../../src/config.js');
    const down = await createRuntime(
      loadConfig({
        ...stack.env,
        DATABASE_URL: 'postgres://postgres@127.0.0.1:1/nope',
        POSTGRES_TIMEOUT_MS: '1500',
      }),
      { migrate: false },
    );
    try {
      const { report } = await inspectConversation(down.deps, id);
      expect(report.tiers.postgres.status).toBe('unreachable');
      expect(report.tiers.redis.status).toBe('found');
    } finally {
      await down.close();
    }
  });
});

describe('restore and undo', () => {
  it('restores from S3 byte-for-byte and undo puts the previous bytes back', async () => {
    const id = freshId();
    const before = handWritten(id, 2);
    const archive = handWritten(id, 5);
    await stack.seed('redis', id, before, 7200);
    await stack.seed('s3', id, archive);

    const plan = await planRestore(deps, id, { kind: 'tier', tier: 's3' });
    expect(plan.diff.added.map((s) => s.step)).toEqual([3, 4, 5]);
    const result = await executeRestore(deps, plan, actor);
    expect(result.before).toBe(sha256Checksum(Buffer.from(before)));
    expect(result.after).toBe(sha256Checksum(Buffer.from(archive)));
    expect((await redisBytes(id))?.equals(Buffer.from(archive))).toBe(true);
    // TTL policy "keep": the restored key keeps the TTL it had.
    expect(await stack.redis.client.ttl(stack.redis.key(id))).toBeGreaterThan(7000);

    const backup = await deps.backups.get(result.backupId);
    expect(backup?.value?.equals(Buffer.from(before))).toBe(true);

    const undo = await executeRestore(deps, await planUndo(deps, result.backupId), {
      ...actor,
      reason: 'undo test',
    });
    expect((await redisBytes(id))?.equals(Buffer.from(before))).toBe(true);
    // The undo itself was backed up: the archive bytes can come back too.
    const undoBackup = await deps.backups.get(undo.backupId);
    expect(undoBackup?.value?.equals(Buffer.from(archive))).toBe(true);
    expect(undoBackup?.takenFor).toBe('undo');
  });

  it('undo to a corrupt copy warns that every step goes, naming no "null" step count', async () => {
    const id = freshId();
    const corrupt = handWritten(id, 3).slice(0, 60);
    await stack.seed('redis', id, corrupt);
    await stack.seed('s3', id, handWritten(id, 7));
    const result = await executeRestore(
      deps,
      await planRestore(deps, id, { kind: 'tier', tier: 's3' }),
      actor,
    );
    const undo = await planUndo(deps, result.backupId);
    expect(undo.warnings).toContain(
      'Redis is valid and has 7 steps; no step of the source can be read, so this restore removes them all.',
    );
    expect(undo.warnings.join(' ')).not.toContain('null');
  });

  it('restores from Postgres to exactly state::text (jsonb reorders keys), keeping unknown fields', async () => {
    const id = freshId();
    await stack.seed('postgres', id, handWritten(id, 4));
    const { rows } = await stack.db.pool.query<{ s: string }>(
      'SELECT state::text AS s FROM conversations WHERE id = $1',
      [id],
    );
    const result = await executeRestore(
      deps,
      await planRestore(deps, id, { kind: 'tier', tier: 'postgres' }),
      actor,
    );
    const stored = await redisBytes(id);
    expect(stored?.toString()).toBe(rows[0]?.s);
    expect(stored?.toString()).toContain('12345678901234567890');
    expect(stored?.toString()).toContain('x_trace');
    expect(result.before).toBeNull();
    // Undo of a restore into a missing key deletes the key again.
    await executeRestore(deps, await planUndo(deps, result.backupId), actor);
    expect(await redisBytes(id)).toBeNull();
  });

  it('restores from a file and from a backup', async () => {
    const id = freshId();
    const fileDoc = handWritten(id, 3);
    const fileDeps: CoreDeps = { ...deps, readFile: async () => Buffer.from(fileDoc) };
    await stack.seed('redis', id, makeConversation(id, 1));
    const r1 = await executeRestore(
      fileDeps,
      await planRestore(fileDeps, id, { kind: 'file', path: 'x.json' }),
      actor,
    );
    expect((await redisBytes(id))?.toString()).toBe(fileDoc);
    await executeRestore(deps, await planRestore(deps, id, { kind: 'backup', backupId: r1.backupId }), actor);
    expect((await redisBytes(id))?.toString()).toBe(makeConversation(id, 1));
  });

  it('refuses when Redis changed between plan and write, writing nothing', async () => {
    const id = freshId();
    await stack.seed('redis', id, makeConversation(id, 2));
    await stack.seed('postgres', id, makeConversation(id, 6));
    const plan = await planRestore(deps, id, { kind: 'tier', tier: 'postgres' });
    const concurrent = makeConversation(id, 3);
    await stack.seed('redis', id, concurrent);
    const backupsBefore = await deps.backups.listForConversation(id, 10);
    await expect(executeRestore(deps, plan, actor)).rejects.toMatchObject({
      code: ErrorCode.Conflict,
      message: expect.stringMatching(/Redis changed since the preview/),
    });
    expect((await redisBytes(id))?.toString()).toBe(concurrent);
    expect(await deps.backups.listForConversation(id, 10)).toHaveLength(backupsBefore.length);
  });

  it('refuses when the source changed since the preview', async () => {
    const id = freshId();
    await stack.seed('postgres', id, makeConversation(id, 6));
    const plan = await planRestore(deps, id, { kind: 'tier', tier: 'postgres' });
    await stack.seed('postgres', id, makeConversation(id, 7));
    await expect(executeRestore(deps, plan, actor)).rejects.toMatchObject({ code: ErrorCode.Stale });
    expect(await redisBytes(id)).toBeNull();
  });

  it('refuses an invalid source with its findings and touches nothing', async () => {
    const id = freshId();
    await stack.seed('s3', id, '{"id": "someone-else", "steps": []}');
    await expect(planRestore(deps, id, { kind: 'tier', tier: 's3' })).rejects.toMatchObject({
      code: ErrorCode.SourceInvalid,
    });
    expect(await redisBytes(id)).toBeNull();
  });

  it('refuses while another holder has the conversation locked', async () => {
    const id = freshId();
    await stack.seed('postgres', id, makeConversation(id, 3));
    const plan = await planRestore(deps, id, { kind: 'tier', tier: 'postgres' });
    const lease = await deps.locks.acquire(id, 'slack:U999 (request rq_x)', 60_000);
    try {
      await expect(executeRestore(deps, plan, actor)).rejects.toMatchObject({
        code: ErrorCode.Locked,
        message: expect.stringContaining('already in progress'),
      });
    } finally {
      if (lease.acquired) await lease.release();
    }
    expect(await redisBytes(id)).toBeNull();
  });

  it('applies a fixed TTL policy', async () => {
    const id = freshId();
    await stack.seed('postgres', id, makeConversation(id, 2));
    const fixed: CoreDeps = { ...deps, ttlPolicy: { kind: 'fixed', ttlMs: 600_000 } };
    const r = await executeRestore(
      fixed,
      await planRestore(fixed, id, { kind: 'tier', tier: 'postgres' }),
      actor,
    );
    expect(r.ttlMs).toBeGreaterThan(590_000);
    expect(await stack.redis.client.pttl(stack.redis.key(id))).toBeGreaterThan(590_000);
  });

  it('audits start and success, and the chain verifies', async () => {
    const id = freshId();
    await stack.seed('postgres', id, makeConversation(id, 2));
    const r = await executeRestore(
      deps,
      await planRestore(deps, id, { kind: 'tier', tier: 'postgres' }),
      actor,
    );
    const entries = (await deps.audit.after(0, 10_000)).filter((e) => e.conversationId === id);
    expect(entries.map((e) => e.action)).toEqual(['restore.started', 'restore.succeeded']);
    expect(entries[1]?.data).toMatchObject({ backupId: r.backupId });
    expect(entries.every((e) => e.actor === 'cli:tester')).toBe(true);
    expect((await deps.audit.verify()).ok).toBe(true);
  });
});

describe('hostile ids', () => {
  const hostile = ['*', '../x', 'a b', 'a\nb', 'a"b', "a'b", 'x'.repeat(129), ''];

  function recordingDeps(): { deps: CoreDeps; touched: string[] } {
    const touched: string[] = [];
    const spy = <T extends object>(name: string, target: T): T =>
      new Proxy(target, {
        get(obj, prop, receiver) {
          const value = Reflect.get(obj, prop, receiver);
          if (typeof value !== 'function') return value;
          return (...a: unknown[]) => {
            touched.push(`${name}.${String(prop)}`);
            return (value as (...x: unknown[]) => unknown).apply(obj, a);
          };
        },
      });
    return {
      touched,
      deps: {
        ...deps,
        redis: spy('redis', deps.redis),
        postgres: spy('postgres', deps.postgres),
        s3: spy('s3', deps.s3),
        backups: spy('backups', deps.backups),
        audit: spy('audit', deps.audit),
        locks: spy('locks', deps.locks),
      },
    };
  }

  it.each(hostile)('refuses %j before any store is touched', async (id) => {
    const { deps: d, touched } = recordingDeps();
    for (const op of [
      () => inspectConversation(d, id),
      () => validateConversation(d, id),
      () => exportConversation(d, id),
      () => diffConversation(d, id, { kind: 'tier', tier: 'postgres' }),
      () => planRestore(d, id, { kind: 'tier', tier: 'postgres' }),
    ]) {
      await expect(op()).rejects.toMatchObject({ code: ErrorCode.InvalidId });
    }
    expect(touched).toEqual([]);
  });
});

describe('validate, diff, export, list', () => {
  it('validate says broken when Redis is corrupt and suggests the restore', async () => {
    const id = freshId();
    await stack.seed('redis', id, '{"id": "c-core-x", "steps": [');
    await stack.seed('postgres', id, makeConversation(id, 3));
    const report = await validateConversation(deps, id);
    expect(report.verdict).toBe('broken');
    expect(report.next).toBe(`/zeus-recover restore ${id} --from postgres`);
  });

  it('validate says healthy when tiers agree', async () => {
    const id = freshId();
    await stack.seed('redis', id, makeConversation(id, 3));
    await stack.seed('postgres', id, makeConversation(id, 3));
    await stack.seed('s3', id, makeConversation(id, 3));
    const report = await validateConversation(deps, id);
    expect(report.verdict).toBe('healthy');
    expect(report.agreement.groups).toHaveLength(1);
  });

  it('diff shows steps added by a restore from Postgres', async () => {
    const id = freshId();
    await stack.seed('redis', id, makeConversation(id, 2));
    await stack.seed('postgres', id, makeConversation(id, 5));
    const d = await diffConversation(deps, id, { kind: 'tier', tier: 'postgres' });
    expect(d.diff.added.map((s) => s.step)).toEqual([3, 4, 5]);
    expect(d.diff.removed).toEqual([]);
  });

  it('export returns the exact stored bytes', async () => {
    const id = freshId();
    const doc = handWritten(id);
    await stack.seed('s3', id, doc);
    const e = await exportConversation(deps, id, 's3');
    expect(e.bytes.equals(Buffer.from(doc))).toBe(true);
    await expect(exportConversation(deps, id, 'redis')).rejects.toMatchObject({ code: ErrorCode.NotFound });
  });

  it('list pages through matching conversations with SCAN', async () => {
    const ids = Array.from({ length: 23 }, (_, i) => `lst-${String(i).padStart(2, '0')}`);
    for (const id of ids) await stack.seed('redis', id, makeConversation(id, 1));
    await stack.seed('redis', 'other-1', makeConversation('other-1', 1));
    const seen: string[] = [];
    let cursor = '0';
    let pages = 0;
    do {
      const page = await listConversations(deps, { pattern: 'lst-*', limit: 5, cursor });
      seen.push(...page.ids);
      cursor = page.cursor;
      pages++;
    } while (cursor !== '0' && pages < 100);
    expect(new Set(seen)).toEqual(new Set(ids));
    expect(seen).toHaveLength(ids.length);
    expect(pages).toBeGreaterThan(1);
  });

  it('list refuses patterns that are not id globs', async () => {
    await expect(listConversations(deps, { pattern: 'a b' })).rejects.toMatchObject({
      code: ErrorCode.InvalidInput,
    });
    await expect(listConversations(deps, { pattern: '[a-z]*' })).rejects.toMatchObject({
      code: ErrorCode.InvalidInput,
    });
  });
});
