import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CoreDeps } from '../../src/recovery/deps.js';
import { executeRestore, planUndo } from '../../src/recovery/execute.js';
import { planRestore } from '../../src/recovery/plan.js';
import { makeConversation } from '../helpers/conversations.js';
import { type Stack, startStack } from '../helpers/stack.js';

/**
 * Property tests on the real stores: the bot never changes a byte of what it stores, reads or
 * puts back, whatever the document looks like (formatting, key order, any Unicode, escapes,
 * numbers beyond 2^53, and for what Redis held before: any bytes at all).
 */

let stack: Stack;
let deps: CoreDeps;
let dir: string;
let n = 0;
const actor = { id: 'cli:property', reason: 'property test' };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'zr-prop-'));
  stack = await startStack();
  deps = (await stack.runtime()).deps;
});
afterAll(async () => {
  await stack?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** A valid conversation, serialised the way some writer might: odd spacing, escapes, raw big numbers. */
const conversationText = (id: string) =>
  fc
    .record({
      steps: fc.integer({ min: 1, max: 6 }),
      texts: fc.array(fc.string({ unit: 'binary', maxLength: 40 }), { minLength: 6, maxLength: 6 }),
      indent: fc.constantFrom(0, 1, 2, 4, '\t', ' \t'),
      big: fc.bigInt({ min: 2n ** 53n, max: 2n ** 80n }),
      trailing: fc.constantFrom('', '\n', '\r\n', '  \n\n'),
      escapeSlashes: fc.boolean(),
    })
    .map(({ steps, texts, indent, big, trailing, escapeSlashes }) => {
      const doc = JSON.parse(makeConversation(id, steps)) as {
        steps: Array<Record<string, unknown>>;
      } & Record<string, unknown>;
      doc.steps.forEach((s, i) => {
        s.content = texts[i % texts.length];
      });
      doc.x_note = texts.join('');
      let text = JSON.stringify(doc, null, indent);
      // A number no JavaScript number can hold, written as Zeus wrote it.
      text = text.replace(/^\{/, `{"x_big": ${big},`);
      if (escapeSlashes) text = text.replace(/\//g, '\\/');
      return Buffer.from(text + trailing, 'utf8');
    });

/** What Redis may hold before: nothing, any bytes at all, or another valid copy. */
const before = (id: string) =>
  fc.oneof(
    fc.constant(null),
    fc.uint8Array({ minLength: 1, maxLength: 3000 }).map((a) => Buffer.from(a)),
    conversationText(id),
  );

describe('restore then undo', () => {
  it('puts back exactly the bytes Redis held (or its absence), whatever they were', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat().chain((seed) => {
          const id = `c-prop${seed % 1000}-${++n}`;
          return fc.tuple(fc.constant(id), before(id), conversationText(id), fc.boolean());
        }),
        async ([id, original, target, withTtl]) => {
          fc.pre(original === null || !original.equals(target));
          const key = stack.redis.key(id);
          if (original !== null) {
            if (withTtl) await stack.redis.client.set(key, original, 'EX', 3600);
            else await stack.redis.client.set(key, original);
          }
          // From a file: the tiers' own reads are the next property; this one is about the write.
          const path = join(dir, `${id}.json`);
          await writeFile(path, target);

          const restored = await executeRestore(
            deps,
            await planRestore(deps, id, { kind: 'file', path }),
            actor,
          );
          expect((await stack.redis.client.getBuffer(key))?.equals(target)).toBe(true);
          const backup = await deps.backups.get(restored.backupId);
          expect(backup?.value === null ? null : backup?.value.toString('base64')).toBe(
            original?.toString('base64') ?? null,
          );

          await executeRestore(deps, await planUndo(deps, restored.backupId), actor);
          const after = await stack.redis.client.getBuffer(key);
          if (original === null) expect(after).toBeNull();
          else expect(after?.toString('base64')).toBe(original.toString('base64'));
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});

describe('storing and reading', () => {
  it('a backup row gives back exactly the bytes it was given', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 5000 }), async (raw) => {
        const value = Buffer.from(raw);
        const made = await deps.backups.create({
          conversationId: `c-propbk${++n}`,
          key: 'redis key x',
          existed: true,
          value,
          checksum: null,
          ttlMs: null,
          actor: actor.id,
          reason: actor.reason,
          requestId: null,
          takenFor: 'restore',
        });
        const got = await deps.backups.get(made.id);
        expect(got?.value?.toString('base64')).toBe(value.toString('base64'));
      }),
      { numRuns: 60 },
    );
  }, 60_000);

  it('the Redis and S3 tiers read exactly the stored bytes; Postgres exactly what it holds as text', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.nat().chain((seed) => {
          const id = `c-proprd${seed % 1000}-${++n}`;
          return fc.tuple(
            fc.constant(id),
            fc.uint8Array({ minLength: 1, maxLength: 4000 }),
            conversationText(id),
          );
        }),
        async ([id, raw, doc]) => {
          const bytes = Buffer.from(raw);
          // jsonb refuses \u0000 (so Zeus cannot have stored one there either).
          fc.pre(!doc.includes('\\u0000'));
          await stack.redis.client.set(stack.redis.key(id), bytes);
          await stack.s3.put(`archive/${id}.json`, doc);
          await stack.seed('postgres', id, doc);
          const [redis, s3, postgres] = await Promise.all([
            deps.redis.read(id),
            deps.s3.read(id),
            deps.postgres.read(id),
          ]);
          expect(redis.status === 'found' && redis.bytes.toString('base64')).toBe(bytes.toString('base64'));
          expect(s3.status === 'found' && s3.bytes.toString('base64')).toBe(doc.toString('base64'));
          const { rows } = await stack.db.pool.query<{ t: string }>(
            'SELECT state::text AS t FROM conversations WHERE id = $1',
            [id],
          );
          expect(postgres.status === 'found' && postgres.bytes.toString('utf8')).toBe(rows[0]?.t);
        },
      ),
      { numRuns: 40 },
    );
  }, 120_000);
});
