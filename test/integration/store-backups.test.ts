import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createBackupStore } from '../../src/store/backups.js';
import type { NewBackup } from '../../src/store/types.js';
import { useMigratedStore } from '../helpers/store.js';

const SCHEMA = 'zr_bk';
const fixture = useMigratedStore('zr_bk', SCHEMA, createBackupStore);

function sample(overrides: Partial<NewBackup> = {}): NewBackup {
  const value = Buffer.from('{"id":"c-1","steps":[]}');
  return {
    conversationId: 'c-1',
    key: 'zeus:conversation:c-1',
    existed: true,
    value,
    checksum: createHash('sha256').update(value).digest('hex'),
    ttlMs: 86_400_000,
    actor: 'slack:U123',
    reason: 'stuck conversation',
    requestId: 'rq_1',
    takenFor: 'restore',
    ...overrides,
  };
}

describe('backup store', () => {
  it('round-trips the exact bytes, including NUL and invalid UTF-8', async () => {
    const value = Buffer.concat([
      Buffer.from('{"a":"'),
      Buffer.from([0x00, 0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82, 0x0a, 0x5c, 0x27, 0x80]),
      Buffer.from('"} \r\n\t'),
    ]);
    const created = await fixture.store.create(sample({ value, checksum: 'x' }));
    const got = await fixture.store.get(created.id);
    expect(got?.value).toBeInstanceOf(Buffer);
    expect(got?.value?.equals(value)).toBe(true);
    expect(created.value?.equals(value)).toBe(true);
  });

  it('returns what it stored, with an id bk_ + 20 url-safe chars and a server timestamp', async () => {
    const input = sample({ ttlMs: 9_007_199_254 });
    const created = await fixture.store.create(input);
    expect(created.id).toMatch(/^bk_[A-Za-z0-9_-]{20}$/);
    expect(created.takenAt).toBeInstanceOf(Date);
    expect(Math.abs(created.takenAt.getTime() - Date.now())).toBeLessThan(60_000);
    expect(created).toMatchObject({ ...input, value: input.value });
    expect(await fixture.store.get(created.id)).toEqual(created);
  });

  it('stores a key that did not exist as existed=false with null value and TTL', async () => {
    const created = await fixture.store.create(
      sample({
        conversationId: 'c-gone',
        existed: false,
        value: null,
        checksum: null,
        ttlMs: null,
        requestId: null,
      }),
    );
    expect(await fixture.store.get(created.id)).toMatchObject({
      existed: false,
      value: null,
      checksum: null,
      ttlMs: null,
      requestId: null,
    });
  });

  it('refuses a backup whose existed flag contradicts its value', async () => {
    await expect(fixture.store.create(sample({ existed: false }))).rejects.toThrow(
      /backups_value_iff_existed/,
    );
    await expect(fixture.store.create(sample({ existed: true, value: null }))).rejects.toThrow(
      /backups_value_iff_existed/,
    );
  });

  it('answers null for an unknown id', async () => {
    expect(await fixture.store.get('bk_AAAAAAAAAAAAAAAAAAAA')).toBeNull();
    expect(await fixture.store.get("bk_'; DROP TABLE x; --")).toBeNull();
  });

  it('lists one conversation newest first, limited', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      ids.push((await fixture.store.create(sample({ conversationId: 'c-list', reason: `r${i}` }))).id);
    }
    await fixture.store.create(sample({ conversationId: 'c-other' }));
    const all = await fixture.store.listForConversation('c-list', 10);
    expect(all.map((b) => b.id)).toEqual([...ids].reverse());
    for (let i = 1; i < all.length; i++) {
      expect(all[i - 1]?.takenAt.getTime()).toBeGreaterThanOrEqual(all[i]?.takenAt.getTime() ?? 0);
    }
    expect((await fixture.store.listForConversation('c-list', 2)).map((b) => b.id)).toEqual(
      ids.slice(2).reverse(),
    );
    expect(await fixture.store.listForConversation('c-none', 10)).toEqual([]);
  });

  it('gives distinct ids to many backups', async () => {
    const made = await Promise.all(
      Array.from({ length: 50 }, () => fixture.store.create(sample({ conversationId: 'c-many' }))),
    );
    expect(new Set(made.map((b) => b.id)).size).toBe(50);
  });
});
