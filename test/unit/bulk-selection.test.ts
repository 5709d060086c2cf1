import { describe, expect, it } from 'vitest';
import { formatProgress } from '../../src/cli/bulk-format.js';
import { decide, previewStillHolds, VerdictCache } from '../../src/recovery/bulk/decide.js';
import type { BulkJobStatus } from '../../src/recovery/bulk/job.js';
import { copyDigest, keySlot } from '../../src/recovery/bulk/redis-batch.js';
import { globToLike, parseSelection, selectionKey } from '../../src/recovery/bulk/selection.js';
import { compileIdPattern, DEFAULT_ID_PATTERN } from '../../src/recovery/ids.js';
import { makeConversation } from '../helpers/conversations.js';

const now = new Date('2026-01-02T03:04:05.000Z');
const ids = compileIdPattern(DEFAULT_ID_PATTERN);

describe('bulk selection', () => {
  it('takes a duration back from now or a timestamp, and refuses anything else', () => {
    expect(parseSelection({ since: '90m' }, now).since.toISOString()).toBe('2026-01-02T01:34:05.000Z');
    expect(parseSelection({ since: '2d' }, now).since.toISOString()).toBe('2025-12-31T03:04:05.000Z');
    const sel = parseSelection({ since: '2026-01-01T00:00:00Z', until: '1h', status: 'paused' }, now);
    expect(sel).toMatchObject({ status: 'paused', match: null });
    expect(sel.until?.toISOString()).toBe('2026-01-02T02:04:05.000Z');
    for (const bad of ['', 'yesterday', '1w', '-1h', '1h; DROP TABLE x', '2026-13-40']) {
      expect(() => parseSelection({ since: bad }, now), bad).toThrow(
        bad === '' ? /needs --since/ : /--since/,
      );
    }
    expect(() => parseSelection({ since: '1h', until: '2h' }, now)).toThrow('is before --since');
    expect(() => parseSelection({ since: '1h', status: 'zombie' }, now)).toThrow('not a conversation status');
  });

  it('accepts only safe globs, and makes them LIKE patterns with _ and % literal', () => {
    for (const hostile of ["x'--", 'c-%', 'a b', 'c-[ab]', '../x', 'c\n1', '\\', 'x'.repeat(129), '']) {
      expect(() => parseSelection({ since: '1h', match: hostile }, now), JSON.stringify(hostile)).toThrow(
        hostile === '' ? /./ : 'is not an id pattern',
      );
    }
    expect(globToLike('c_7f*')).toBe('c\\_7f%');
    expect(globToLike('c-??-*')).toBe('c-__-%');
  });

  it('keys a selection on its window to the minute, its status and glob', () => {
    const a = parseSelection({ since: '1h', match: 'c-*' }, now);
    const b = parseSelection({ since: '1h', match: 'c-*' }, new Date(now.getTime() + 10_000));
    const c = parseSelection({ since: '1h', match: 'd-*' }, now);
    expect(selectionKey(a)).toBe(selectionKey(b));
    expect(selectionKey(a)).not.toBe(selectionKey(c));
  });
});

describe('bulk decision', () => {
  const src = Buffer.from(makeConversation('c-1', 4));
  it("takes the preview's decision only while both copies are the bytes it decided on", () => {
    const old = Buffer.from(makeConversation('c-1', 2));
    const kept = {
      sourceDigest: copyDigest(src),
      redisDigest: copyDigest(old),
      group: 'older' as const,
      problem: null,
    };
    expect(previewStillHolds('c-1', src, old, ids, kept)).toEqual({ group: 'older', problem: null });
    // The source changed, Redis changed, Redis's copy went or came: decided again.
    expect(previewStillHolds('c-1', Buffer.from(makeConversation('c-1', 5)), old, ids, kept)).toBeNull();
    expect(previewStillHolds('c-1', src, Buffer.from(makeConversation('c-1', 3)), ids, kept)).toBeNull();
    expect(previewStillHolds('c-1', src, null, ids, kept)).toBeNull();
    const absent = { ...kept, redisDigest: null, group: 'absent' as const };
    expect(previewStillHolds('c-1', src, null, ids, absent)).toEqual({ group: 'absent', problem: null });
    expect(previewStillHolds('c-1', src, Buffer.from(src), ids, absent)).toBeNull();
    // Nothing kept (a list frozen before decisions were), or an id this worker's pattern refuses.
    expect(previewStillHolds('c-1', src, old, ids, null)).toBeNull();
    expect(previewStillHolds('c-1', src, old, compileIdPattern('^x-.*$'), kept)).toBeNull();
  });
  it('puts each copy in its group', () => {
    expect(decide('c-1', src, null, ids).group).toBe('absent');
    expect(decide('c-1', src, Buffer.from(src), ids).group).toBe('identical');
    // The same content with other spacing and key order is identical too.
    const reformatted = Buffer.from(JSON.stringify(JSON.parse(src.toString()), null, 2));
    expect(decide('c-1', src, reformatted, ids).group).toBe('identical');
    expect(decide('c-1', src, Buffer.from(makeConversation('c-1', 2)), ids).group).toBe('older');
    expect(decide('c-1', src, Buffer.from(makeConversation('c-1', 6)), ids).group).toBe('newer');
    expect(decide('c-1', src, Buffer.from('{broken'), ids).group).toBe('older');
    expect(decide('c-1', Buffer.from(makeConversation('c-1', 4, { status: 'x' })), null, ids)).toEqual({
      group: 'invalid',
      problem: 'status_invalid',
    });
    expect(decide('c 1', src, null, ids)).toEqual({ group: 'invalid', problem: 'invalid_id' });
  });
});

describe('bulk plumbing', () => {
  it("computes Redis Cluster's key slot, hash tags included", () => {
    // Values from CLUSTER KEYSLOT.
    expect(keySlot('foo')).toBe(12182);
    expect(keySlot('{user1000}.following')).toBe(keySlot('{user1000}.followers'));
    expect(keySlot('123456789')).toBe(0x31c3 % 16384);
  });

  it('draws a bar on a terminal and a plain line otherwise', () => {
    const s = {
      jobId: 'bj_x',
      state: 'running',
      done: 500,
      total: 2000,
      counts: { restored: 400, identical: 90, newer: 5, changed: 3, invalid: 1, failed: 1 },
    } as BulkJobStatus;
    expect(formatProgress(s, 250, true)).toBe(
      `[${'#'.repeat(8)}${'-'.repeat(22)}] 500/2000 (25%) 250 conv/s ETA 6 s failures 4`,
    );
    expect(formatProgress(s, 250, false)).toBe(
      'bulk bj_x running: 500/2000 (25%) 250 conv/s ETA 6 s failures 4',
    );
  });
});

describe('verdict cache', () => {
  it('gives the same verdict as a fresh analysis, per id and bytes, and stays within its bound', () => {
    const cache = new VerdictCache(3);
    const a = Buffer.from(makeConversation('c-1', 4));
    const b = Buffer.from(makeConversation('c-1', 6));
    expect(decide('c-1', a, b, ids, cache)).toEqual(decide('c-1', a, b, ids));
    expect(cache.size).toBe(2);
    // Same bytes under another id are another copy: the id is part of the verdict.
    expect(decide('c-2', a, null, ids, cache)).toEqual({ group: 'invalid', problem: 'id_mismatch' });
    for (let i = 3; i < 10; i++)
      decide(`c-${i}`, Buffer.from(makeConversation(`c-${i}`, 2)), null, ids, cache);
    expect(cache.size).toBe(3);
  });
});
