import { errorMessage } from '../../errors.js';
import { luaSetWithTtl } from '../tiers/lua-ttl.js';
import type { RedisClient } from '../tiers/redis.js';
import { shadowKeyFor } from '../tiers/shadow-key.js';
import type { TtlPolicy } from '../types.js';
import { type CasOp, type CasOutcome, groupByNode, sha1, slotsKnown } from './redis-batch.js';

/**
 * Bulk's writes through shadow keys, as a single restore writes (tiers/redis.ts): each new value
 * goes to a shadow key in its live key's slot (short TTL), every shadow is read back and must hold
 * exactly the planned bytes, then one script per key promotes it only if the live key still holds
 * what was read. Three pipelines per node per batch instead of one (docs/benchmarks.md has the
 * cost). A refused or failed op leaves its live key untouched and its shadow removed (or expiring).
 */

/**
 * KEYS: live, shadow. ARGV: SHA-1 of the expected live bytes ('' = must be absent), SHA-1 of
 * the validated shadow, ttl kind, ttl ms. 1 promoted, 0 live changed, -4 shadow gone or changed.
 */
const BULK_PROMOTE_LUA = `
local shadow = redis.call('GET', KEYS[2])
if (not shadow) or redis.sha1hex(shadow) ~= ARGV[2] then
  redis.call('DEL', KEYS[2])
  return -4
end
local current = redis.call('GET', KEYS[1])
if (ARGV[1] == '' and current) or (ARGV[1] ~= '' and ((not current) or redis.sha1hex(current) ~= ARGV[1])) then
  redis.call('DEL', KEYS[2])
  return 0
end
${luaSetWithTtl('shadow', 3, 4)}
redis.call('DEL', KEYS[2])
return 1
`;
const BULK_PROMOTE_COMMAND = 'zeusRecoverBulkPromote';
type WithBulkPromote = {
  [BULK_PROMOTE_COMMAND]: (live: string, shadow: string, ...argv: string[]) => unknown;
};

/** As the single restore's (execute.ts SHADOW_TTL_MS): outlives a batch, not a crash for long. */
const SHADOW_TTL_MS = 60_000;

export type PromoteStage = 'shadow-written' | 'shadows-read';

export async function promoteMany(
  client: RedisClient,
  ops: readonly CasOp[],
  ttl: TtlPolicy,
  tag: string,
  /** Awaited between the stages (tests change keys there). */
  onStage?: (stage: PromoteStage) => Promise<void>,
): Promise<CasOutcome[]> {
  if (!(BULK_PROMOTE_COMMAND in client)) {
    client.defineCommand(BULK_PROMOTE_COMMAND, { numberOfKeys: 2, lua: BULK_PROMOTE_LUA });
  }
  await slotsKnown(client);
  const out: CasOutcome[] = new Array(ops.length);
  const shadows = ops.map((op) => shadowKeyFor(op.key, tag));
  const groups = groupByNode(
    client,
    ops.map((op) => op.key),
  );
  const fail = (i: number, reason: string) => {
    out[i] = { status: 'error', reason };
  };
  // A key no shadow can share a slot with cannot take this path: refused, nothing written.
  shadows.forEach((s, i) => {
    if (s === null) fail(i, 'no shadow key can share this key’s hash slot; nothing written');
  });
  const live = (group: number[]) => group.filter((i) => out[i] === undefined);

  await stage(client, groups.map(live), out, 'shadow write failed; nothing written', (pipeline, i) =>
    pipeline.set(shadows[i] as string, (ops[i] as CasOp).next, 'PX', SHADOW_TTL_MS),
  );
  await onStage?.('shadow-written');
  const held = await stage(
    client,
    groups.map(live),
    out,
    'shadow read-back failed; nothing written',
    (pipeline, i) => pipeline.getBuffer(shadows[i] as string),
  );
  const invalid: number[] = [];
  held.forEach((bytes, i) => {
    if (out[i] !== undefined) return;
    if (!(bytes instanceof Buffer) || !bytes.equals((ops[i] as CasOp).next)) {
      fail(
        i,
        'shadow copy failed validation (it read back different from the planned bytes); nothing written',
      );
      invalid.push(i);
    }
  });
  if (invalid.length > 0) {
    const drop = client.pipeline();
    for (const i of invalid) drop.del(shadows[i] as string);
    await drop.exec().catch(() => undefined);
  }
  await onStage?.('shadows-read');
  const [ttlKind, ttlMs] = ttl.kind === 'fixed' ? ['fixed', String(ttl.ttlMs)] : [ttl.kind, ''];
  const replies = await stage(
    client,
    groups.map(live),
    out,
    'promote failed; it may have landed',
    (pipeline, i) => {
      const op = ops[i] as CasOp;
      (pipeline as unknown as WithBulkPromote)[BULK_PROMOTE_COMMAND](
        op.key,
        shadows[i] as string,
        op.expected === null ? '' : sha1(op.expected),
        sha1(op.next),
        ttlKind,
        ttlMs,
      );
    },
  );
  replies.forEach((reply, i) => {
    if (out[i] !== undefined) return;
    const r = Number(reply);
    if (r === 1) out[i] = { status: 'ok' };
    else if (r === 0) out[i] = { status: 'changed' };
    else fail(i, 'shadow copy gone or changed before its promote; nothing written');
  });
  return out;
}

/**
 * One pipeline per node of the ops still undecided; a failed command or pipeline decides its ops
 * as errors (with `failure`), the others get their replies back by index.
 */
async function stage(
  client: RedisClient,
  groups: number[][],
  out: CasOutcome[],
  failure: string,
  add: (pipeline: ReturnType<RedisClient['pipeline']>, index: number) => unknown,
): Promise<unknown[]> {
  const replies: unknown[] = new Array(out.length);
  await Promise.all(
    groups.map(async (group) => {
      if (group.length === 0) return;
      const pipeline = client.pipeline();
      for (const i of group) add(pipeline, i);
      let results: Array<[Error | null, unknown]> | null;
      try {
        results = await pipeline.exec();
      } catch (err) {
        for (const i of group) out[i] = { status: 'error', reason: `${failure}: ${errorMessage(err)}` };
        return;
      }
      group.forEach((index, n) => {
        const [err, reply] = results?.[n] ?? [new Error('no reply'), null];
        if (err) out[index] = { status: 'error', reason: `${failure}: ${errorMessage(err)}` };
        else replies[index] = reply;
      });
    }),
  );
  return replies;
}
