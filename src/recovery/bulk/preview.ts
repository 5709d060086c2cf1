import { ErrorCode, RecoveryError } from '../../errors.js';
import type { BulkStore, Freezer, KeptDecision, SourceRow } from '../../store/bulk-jobs.js';
import type { AuditLog } from '../../store/types.js';
import type { RedisClient } from '../tiers/redis.js';
import type { TtlPolicy } from '../types.js';
import { decide, GROUPS, type Group, type VerdictCache } from './decide.js';
import { copyDigest, type MemoryInfo, memoryInfo, readKeys } from './redis-batch.js';
import { type Selection, selectionFilter, selectionJson } from './selection.js';
import { warmDecisions } from './verdict-pool.js';

/** Everything the bulk restore needs, passed in by the face that runs it. */
export interface BulkDeps {
  store: BulkStore;
  redis: RedisClient;
  keyPrefix: string;
  idPattern: RegExp;
  ttlPolicy: TtlPolicy;
  audit: AuditLog;
  clock?: () => Date;
  /** Shared by the preview and the chunks this process works: each copy is analysed once. */
  verdicts?: VerdictCache;
  /** How chunks write Redis: the direct compare-and-set (the default) or through shadow keys (the bench's A/B). */
  writeVia?: 'shadow' | 'cas';
}

/** Rows fetched from the cursor at a time: a bounded slice of the selection in memory. */
export const PREVIEW_BATCH = 500;
const SAMPLE_SIZE = 5;
/** What Redis spends on a key besides its value (dict entry, key string, object header), roughly. */
const KEY_OVERHEAD_BYTES = 96;

export interface MemoryCheck extends MemoryInfo {
  /** What the restore would add to Redis's memory: new keys, and growth of overwritten ones. */
  bytesToWrite: number;
  /** null when Redis has no limit. */
  headroomBytes: number | null;
  fits: boolean;
  evicting: boolean;
}

export interface BulkPreview {
  selection: Record<string, unknown>;
  overwrite: boolean;
  total: number;
  bytes: number;
  groups: Record<Group, number>;
  samples: Record<Group, string[]>;
  /** Bytes of the conversations that would be written (absent, older, and newer with --overwrite). */
  bytesToRestore: number;
  /** How many would be written. */
  toRestore: number;
  /** Why invalid sources are invalid, by finding code. */
  invalidReasons: Record<string, number>;
  memory: MemoryCheck;
  /** Set when the restore must not run (Redis would evict or refuse writes). */
  refusal: string | null;
}

class Tally {
  total = 0;
  bytes = 0;
  toRestore = 0;
  bytesToRestore = 0;
  growth = 0;
  groups = Object.fromEntries(GROUPS.map((g) => [g, 0])) as Record<Group, number>;
  samples = Object.fromEntries(GROUPS.map((g) => [g, [] as string[]])) as Record<Group, string[]>;
  invalidReasons: Record<string, number> = {};
}

/** Tallies one batch; its decisions, to be frozen with the list (bulk/job.ts takes them at write time). */
async function tallyBatch(
  deps: BulkDeps,
  rows: SourceRow[],
  overwrite: boolean,
  t: Tally,
): Promise<KeptDecision[]> {
  const current = await readKeys(
    deps.redis,
    rows.map((r) => `${deps.keyPrefix}${r.id}`),
    { ttl: false },
  );
  const sources = rows.map((row) => Buffer.from(row.state, 'utf8'));
  if (deps.verdicts) {
    await warmDecisions(
      deps.verdicts,
      rows.map((row, i) => ({
        id: row.id,
        source: sources[i] as Buffer,
        current: current[i]?.bytes ?? null,
      })),
      deps.idPattern,
    );
  }
  return rows.map((row, i) => {
    const source = sources[i] as Buffer;
    const cur = current[i]?.bytes ?? null;
    const { group, problem } = decide(row.id, source, cur, deps.idPattern, deps.verdicts);
    t.total++;
    t.bytes += source.length;
    t.groups[group]++;
    if (t.samples[group].length < SAMPLE_SIZE) t.samples[group].push(row.id);
    if (problem) t.invalidReasons[problem] = (t.invalidReasons[problem] ?? 0) + 1;
    const writes = group === 'absent' || group === 'older' || (group === 'newer' && overwrite);
    if (writes) {
      t.toRestore++;
      t.bytesToRestore += source.length;
      t.growth +=
        cur === null ? source.length + KEY_OVERHEAD_BYTES + row.id.length : source.length - cur.length;
    }
    return {
      id: row.id,
      sourceDigest: copyDigest(source),
      redisDigest: cur === null ? null : copyDigest(cur),
      group,
      problem,
    };
  });
}

function checkMemory(
  info: MemoryInfo,
  bytesToWrite: number,
): { memory: MemoryCheck; refusal: string | null } {
  const evicting = info.policies.some((p) => p !== 'noeviction');
  const headroom = info.maxBytes === 0 ? null : info.maxBytes - info.usedBytes;
  const fits = headroom === null || bytesToWrite <= headroom;
  const memory: MemoryCheck = { ...info, bytesToWrite, headroomBytes: headroom, fits, evicting };
  if (fits) return { memory, refusal: null };
  const mb = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MB`;
  const policy = info.policies.join(', ');
  const refusal = evicting
    ? `Redis would evict keys: the restore adds about ${mb(bytesToWrite)} but only ${mb(Math.max(0, headroom ?? 0))} is free under maxmemory (${mb(info.maxBytes)}), and its maxmemory-policy is ${policy}`
    : `Redis would refuse writes: the restore adds about ${mb(bytesToWrite)} but only ${mb(Math.max(0, headroom ?? 0))} is free under maxmemory (${mb(info.maxBytes)}, maxmemory-policy ${policy})`;
  return { memory, refusal };
}

/**
 * Reads the selection as a stream (never all of it in memory) and Redis for each batch, and
 * writes nothing. With `freeze`, the list is frozen into a job in the same snapshot the preview
 * read, unless the preview refuses (then nothing is created).
 */
export async function previewBulk<T>(
  deps: BulkDeps,
  selection: Selection,
  options: { overwrite: boolean },
  freeze?: (preview: BulkPreview, tx: Freezer) => Promise<T>,
): Promise<{ preview: BulkPreview; frozen: T | undefined }> {
  const tally = new Tally();
  let preview: BulkPreview | undefined;
  const finish = async (): Promise<BulkPreview> => {
    const info = await memoryInfo(deps.redis);
    const { memory, refusal } = checkMemory(info, Math.max(0, tally.growth));
    return {
      selection: selectionJson(selection),
      overwrite: options.overwrite,
      total: tally.total,
      bytes: tally.bytes,
      groups: tally.groups,
      samples: tally.samples,
      bytesToRestore: tally.bytesToRestore,
      toRestore: tally.toRestore,
      invalidReasons: tally.invalidReasons,
      memory,
      refusal,
    };
  };
  const frozen = await deps.store.streamSelection(
    selectionFilter(selection),
    PREVIEW_BATCH,
    (rows) => tallyBatch(deps, rows, options.overwrite, tally),
    freeze
      ? async (tx) => {
          preview = await finish();
          refuseIfUnsafe(preview);
          return freeze(preview, tx);
        }
      : undefined,
  );
  return { preview: preview ?? (await finish()), frozen };
}

/** An empty selection or a Redis without room: a clear error, and nothing written. */
export function refuseIfUnsafe(preview: BulkPreview): void {
  if (preview.total === 0) {
    throw new RecoveryError(
      ErrorCode.NotFound,
      `No conversation in ${preview.selection.since as string}…${(preview.selection.until as string | null) ?? 'now'} matches the selection.`,
      'Nothing was written. Widen --since/--until, or check --status and --match.',
    );
  }
  if (preview.refusal) {
    throw new RecoveryError(
      ErrorCode.Conflict,
      `${preview.refusal}.`,
      'Nothing was written. Free memory or raise maxmemory, or restore a narrower selection (--until, --status, --match).',
      { details: { memory: preview.memory } },
    );
  }
}
