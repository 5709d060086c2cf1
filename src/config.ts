import { z } from 'zod';
import { ErrorCode, RecoveryError } from './errors.js';
import { DEFAULT_ID_PATTERN } from './recovery/ids.js';
import { MAX_REQUIRED_APPROVALS } from './store/types.js';

/** Operations whose approval can require a typed confirmation (STEP_UP_OPERATIONS). */
export const STEP_UP_OPERATIONS = ['restore', 'undo', 'replay', 'bulk-restore', 'unlock'] as const;
export type StepUpOperation = (typeof STEP_UP_OPERATIONS)[number];

/**
 * The whole configuration surface, read once from an env-like object. The recovery core never
 * reads `process.env`; the faces (CLI, Slack app) call `loadConfig(process.env)` and pass the
 * result down. Defaults live here and nowhere else (README lists the same table).
 */

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'], { message: 'must be true or false' })
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

const int = (min: number, max: number) =>
  z.coerce
    .number({ message: 'must be a whole number' })
    .int({ message: 'must be a whole number' })
    .min(min, { message: `must be at least ${min}` })
    .max(max, { message: `must be at most ${max}` });

const url = (schemes: string[]) =>
  z.string().refine(
    (v) => {
      try {
        return schemes.includes(new URL(v).protocol.replace(':', ''));
      } catch {
        return false;
      }
    },
    { message: `must be a URL (${schemes.map((s) => `${s}://…`).join(' or ')})` },
  );

const regex = z.string().refine(
  (v) => {
    try {
      new RegExp(v);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'must be a valid regular expression' },
);

const list = z.string().transform((v) =>
  v
    .split(/[\s,]+/)
    .map((s) => s.trim())
    .filter(Boolean),
);

const optional = <T extends z.ZodTypeAny>(schema: T) =>
  z.preprocess((v) => (v === '' ? undefined : v), schema.optional());

const envSchema = z.object({
  // Slack
  SLACK_BOT_TOKEN: optional(z.string().startsWith('xoxb-', { message: 'must be a bot token (xoxb-…)' })),
  SLACK_SIGNING_SECRET: optional(z.string().min(8, { message: 'looks too short for a signing secret' })),
  SLACK_APP_TOKEN: optional(
    z.string().startsWith('xapp-', { message: 'must be an app-level token (xapp-…)' }),
  ),
  SLACK_API_URL: optional(url(['http', 'https'])),
  PORT: optional(int(0, 65535)).default(3000),
  // Unset: every interface, as a container needs; the demo binds 127.0.0.1.
  HOST: optional(
    z.string().regex(/^(?:[A-Za-z0-9][A-Za-z0-9.-]*|[0-9A-Fa-f:.]+)$/, {
      message: 'must be a host name or an IP address (127.0.0.1, ::1, 0.0.0.0)',
    }),
  ),
  // Stores
  REDIS_URL: optional(url(['redis', 'rediss'])),
  REDIS_CLUSTER_NODES: optional(list),
  REDIS_KEY_PREFIX: optional(z.string()).default('zeus:conversation:'),
  REDIS_TIMEOUT_MS: optional(int(50, 120_000)).default(2000),
  DATABASE_URL: optional(url(['postgres', 'postgresql'])),
  ZEUS_CONVERSATIONS_TABLE: optional(
    z.string().regex(/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/, {
      message: 'must be a table name like conversations or zeus.conversations',
    }),
  ).default('conversations'),
  BOT_DB_SCHEMA: optional(
    z.string().regex(/^[a-z_][a-z0-9_]*$/, { message: 'must be a lower-case SQL identifier' }),
  ).default('zeus_recover'),
  POSTGRES_TIMEOUT_MS: optional(int(50, 120_000)).default(3000),
  S3_BUCKET: optional(z.string().min(3)).default('kosmos-conversations'),
  S3_PREFIX: optional(z.string()).default('archive/'),
  S3_ENDPOINT: optional(url(['http', 'https'])),
  S3_FORCE_PATH_STYLE: optional(bool),
  S3_CHECKSUM_WHEN_REQUIRED: optional(bool),
  S3_TIMEOUT_MS: optional(int(50, 120_000)).default(5000),
  AWS_REGION: optional(z.string()).default('us-east-1'),
  // Zeus API
  ZEUS_API_URL: optional(url(['http', 'https'])),
  ZEUS_API_TOKEN: optional(z.string()),
  // Approval and policy
  APPROVER_USER_IDS: optional(list).default([]),
  APPROVER_USERGROUP_ID: optional(
    z.string().regex(/^S[A-Z0-9]+$/, { message: 'must be a Slack user group id (S…)' }),
  ),
  REQUIRED_APPROVALS: optional(int(1, MAX_REQUIRED_APPROVALS)).default(1),
  // Approval policies (docs/approval-policies.md).
  APPROVER_GROUPS: optional(
    list.pipe(z.array(z.string().regex(/^S[A-Z0-9]+$/, { message: 'must list Slack user group ids (S…)' }))),
  ).default([]),
  STEP_UP_OPERATIONS: optional(
    list.pipe(
      z.array(
        z.enum(STEP_UP_OPERATIONS, {
          message: `must list operations among ${STEP_UP_OPERATIONS.join(', ')}`,
        }),
      ),
    ),
  ).default([]),
  MAX_DESTRUCTIVE_PER_HOUR: optional(int(1, 100_000)),
  BREAKER_FAILURES: optional(int(1, 1000)),
  BREAK_GLASS: optional(z.enum(['on', 'off'], { message: 'must be on or off' })).default('off'),
  INCIDENT_CHANNEL_PATTERN: optional(regex).default('^inc-'),
  REQUEST_TTL_MINUTES: optional(int(1, 24 * 60)).default(30),
  // The "expires soon" reply goes this many minutes before a request expires (0: never).
  REQUEST_WARN_MINUTES: optional(int(0, 24 * 60)).default(5),
  CONVERSATION_ID_PATTERN: optional(regex).default(DEFAULT_ID_PATTERN),
  RESTORE_TTL_POLICY: optional(
    z.enum(['keep', 'default', 'none'], { message: 'must be keep, default or none' }),
  ).default('keep'),
  RESTORE_DEFAULT_TTL_SECONDS: optional(int(0, 365 * 24 * 3600)).default(0),
  EXPORT_MAX_BYTES: optional(int(1, 1024 * 1024 * 1024)).default(5 * 1024 * 1024),
  REPLAY_POLL_MS: optional(int(50, 60_000)).default(2000),
  REPLAY_TIMEOUT_SECONDS: optional(int(1, 24 * 3600)).default(600),
  // Renewed every third of itself while a run is alive, so it can be short: after a crash, the
  // run is settled and told in its thread once it runs out (plus a sweep).
  LOCK_LEASE_MS: optional(int(1000, 24 * 3600 * 1000)).default(30_000),
  SWEEP_INTERVAL_MS: optional(int(100, 3600 * 1000)).default(15_000),
  // A bulk job's progress message is edited at most this often, across replicas (chat.update is Tier 3).
  BULK_PROGRESS_INTERVAL_MS: optional(int(1000, 600_000)).default(5000),
  // Bulk chunks this replica works at once (0: none here); each holds one connection of PG_POOL_SIZE.
  // Unset: 1, or 0 when the pool has no room for one (see bulkWorkers below).
  BULK_WORKERS: optional(int(0, 16)),
  // Load: what one replica takes on at once before it answers "busy".
  PG_POOL_SIZE: optional(int(2, 500)).default(10),
  PG_POOL_RESERVE: optional(int(1, 100)).default(2),
  PG_POOL_WAIT_MS: optional(int(10, 60_000)).default(1000),
  COMMAND_CONCURRENCY: optional(int(1, 1000)).default(16),
  COMMAND_QUEUE: optional(int(0, 10_000)).default(32),
  TIER_READ_MAX_MS: optional(int(1000, 600_000)).default(60_000),
  LOG_LEVEL: optional(z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'])).default('info'),
});

export type Env = Record<string, string | undefined>;

/** The variables, as the README's configuration table lists them (a test holds the two together). */
export const CONFIG_VARIABLES: readonly string[] = Object.keys(envSchema.shape);

/**
 * The configuration the faces pass down, shaped from the checked variables. `Config` is the
 * schema's output type (below), so the shape and its types have one source.
 */
function toConfig(e: z.output<typeof envSchema>) {
  const endpoint = e.S3_ENDPOINT;
  return {
    slack: {
      botToken: e.SLACK_BOT_TOKEN,
      signingSecret: e.SLACK_SIGNING_SECRET,
      appToken: e.SLACK_APP_TOKEN,
      apiUrl: e.SLACK_API_URL,
      port: e.PORT,
      host: e.HOST,
    },
    redis: {
      url: e.REDIS_URL,
      clusterNodes: e.REDIS_CLUSTER_NODES,
      keyPrefix: e.REDIS_KEY_PREFIX,
      timeoutMs: e.REDIS_TIMEOUT_MS,
    },
    postgres: {
      url: e.DATABASE_URL ?? '',
      zeusTable: e.ZEUS_CONVERSATIONS_TABLE,
      botSchema: e.BOT_DB_SCHEMA,
      timeoutMs: e.POSTGRES_TIMEOUT_MS,
    },
    s3: {
      bucket: e.S3_BUCKET,
      prefix: e.S3_PREFIX,
      endpoint,
      // S3-compatible servers (MinIO, s3rver) want path-style and plain (non aws-chunked) bodies.
      forcePathStyle: e.S3_FORCE_PATH_STYLE ?? endpoint !== undefined,
      checksumWhenRequired: e.S3_CHECKSUM_WHEN_REQUIRED ?? endpoint !== undefined,
      region: e.AWS_REGION,
      timeoutMs: e.S3_TIMEOUT_MS,
    },
    zeus: {
      apiUrl: e.ZEUS_API_URL,
      apiToken: e.ZEUS_API_TOKEN,
      replayPollMs: e.REPLAY_POLL_MS,
      replayTimeoutMs: e.REPLAY_TIMEOUT_SECONDS * 1000,
    },
    policy: {
      approverUserIds: e.APPROVER_USER_IDS,
      approverUsergroupId: e.APPROVER_USERGROUP_ID,
      requiredApprovals: e.REQUIRED_APPROVALS,
      /** Each approval from a member of a group no earlier approval counted for. */
      approverGroups: e.APPROVER_GROUPS,
      /** Operations whose Approve asks the approver to type the conversation id (or the count). */
      stepUpOperations: e.STEP_UP_OPERATIONS,
      /** Destructive requests opened per rolling hour; undefined: no limit. */
      maxDestructivePerHour: e.MAX_DESTRUCTIVE_PER_HOUR ?? null,
      /** Failed restores in a row that stop approvals until an approved reset; undefined: no breaker. */
      breakerFailures: e.BREAKER_FAILURES ?? null,
      /** A requester may approve their own request with a written reason, flagged for review. */
      breakGlass: e.BREAK_GLASS === 'on',
      incidentChannelPattern: e.INCIDENT_CHANNEL_PATTERN,
      requestTtlMinutes: e.REQUEST_TTL_MINUTES,
      /** Minutes before expiry that the requester and approvers are reminded in the thread; 0: never. */
      requestWarnMinutes: e.REQUEST_WARN_MINUTES,
      conversationIdPattern: e.CONVERSATION_ID_PATTERN,
      restoreTtlPolicy: e.RESTORE_TTL_POLICY,
      restoreDefaultTtlSeconds: e.RESTORE_DEFAULT_TTL_SECONDS,
      exportMaxBytes: e.EXPORT_MAX_BYTES,
      /** How long a conversation's lock lasts unless renewed; after a crash, work is settled once it runs out. */
      lockLeaseMs: e.LOCK_LEASE_MS,
      /** How often expired requests are closed and abandoned ones settled. */
      sweepIntervalMs: e.SWEEP_INTERVAL_MS,
      /** At most one edit of a bulk job's progress message per this many ms. */
      bulkProgressIntervalMs: e.BULK_PROGRESS_INTERVAL_MS,
    },
    /** How much one replica takes on at once; beyond it commands are answered "busy". */
    load: {
      /** Postgres connections per replica, the reserve included. */
      poolSize: e.PG_POOL_SIZE,
      /** Connections only approve, deny and cancel (and the restores they start) may take. */
      poolReserve: e.PG_POOL_RESERVE,
      /** How long anything else waits for a connection before it is answered "busy". */
      poolWaitMs: e.PG_POOL_WAIT_MS,
      /** Slash commands worked on at once. */
      commandConcurrency: e.COMMAND_CONCURRENCY,
      /** Slash commands that may wait for a turn; the next is answered "busy" at once. */
      commandQueue: e.COMMAND_QUEUE,
      /** The longest one tier read of a big value may take while its bytes keep arriving. */
      tierReadMaxMs: e.TIER_READ_MAX_MS,
      /** Bulk chunks this replica works at once; 0 leaves them to other replicas or the CLI. */
      bulkWorkers: e.BULK_WORKERS ?? (bulkWorkersThatFit(e.PG_POOL_SIZE, e.PG_POOL_RESERVE) >= 1 ? 1 : 0),
      /**
       * Why this replica works no chunks though BULK_WORKERS was not set (a small pool), for the
       * start-up log; undefined otherwise.
       */
      bulkWorkersNote:
        e.BULK_WORKERS === undefined && bulkWorkersThatFit(e.PG_POOL_SIZE, e.PG_POOL_RESERVE) < 1
          ? `BULK_WORKERS not set and PG_POOL_SIZE=${e.PG_POOL_SIZE} with PG_POOL_RESERVE=${e.PG_POOL_RESERVE} has no room for a chunk worker: this replica works no bulk chunks (other replicas or the CLI do) — set PG_POOL_SIZE to at least ${poolSizeFor(1, e.PG_POOL_RESERVE)} for one`
          : undefined,
    },
    logLevel: e.LOG_LEVEL,
  };
}

/**
 * A chunk worker holds its lock's connection for the chunk and takes one more at a time for its
 * reads and writes, outside the reserve: commands must keep 2 of the rest.
 */
function bulkWorkersThatFit(poolSize: number, poolReserve: number): number {
  return Math.floor((poolSize - poolReserve - 2) / 2);
}

function poolSizeFor(bulkWorkers: number, poolReserve: number): number {
  return poolReserve + 2 + 2 * bulkWorkers;
}

const configSchema = envSchema.transform(toConfig);

export type Config = z.output<typeof configSchema>;

export type ConfigProfile = 'cli' | 'slack';

/** What to set, per variable, when it is required and missing. */
const REQUIRED: Record<ConfigProfile, Array<[string, string]>> = {
  cli: [['DATABASE_URL', 'the PostgreSQL URL of the Zeus database, e.g. postgres://user@host:5432/zeus']],
  slack: [
    ['DATABASE_URL', 'the PostgreSQL URL of the Zeus database, e.g. postgres://user@host:5432/zeus'],
    ['SLACK_BOT_TOKEN', 'the Bot User OAuth Token (xoxb-…) from the Slack app’s OAuth & Permissions page'],
    ['SLACK_SIGNING_SECRET', 'the Signing Secret from the Slack app’s Basic Information page'],
  ],
};

/**
 * Reads and checks the configuration. Every problem is collected and reported at once, so an
 * operator fixes the deployment in one pass; values are never echoed (some are secrets).
 */
export function loadConfig(env: Env, profile: ConfigProfile = 'cli'): Config {
  const problems: string[] = [];
  const parsed = configSchema.safeParse(env);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) {
      problems.push(`${String(issue.path[0] ?? '?')}: ${issue.message}`);
    }
  }
  for (const [name, what] of REQUIRED[profile]) {
    if (!env[name]) problems.push(`${name}: not set — set it to ${what}`);
  }
  if (!env.REDIS_URL && !env.REDIS_CLUSTER_NODES) {
    problems.push(
      'REDIS_URL: not set — set REDIS_URL (redis://host:6379) or REDIS_CLUSTER_NODES (host:port,host:port)',
    );
  }
  if (env.REDIS_URL && env.REDIS_CLUSTER_NODES) {
    problems.push('REDIS_URL and REDIS_CLUSTER_NODES: both set — set only one (single node or Cluster)');
  }
  if (env.ZEUS_API_URL && !env.ZEUS_API_TOKEN) {
    problems.push('ZEUS_API_TOKEN: not set — ZEUS_API_URL is set, so the replay API needs its bearer token');
  }
  if (parsed.success && parsed.data.load.poolReserve >= parsed.data.load.poolSize) {
    problems.push(
      'PG_POOL_RESERVE: must be below PG_POOL_SIZE — commands need connections of their own besides the reserve',
    );
  }
  if (parsed.success) {
    const { poolSize, poolReserve, bulkWorkers } = parsed.data.load;
    const fit = bulkWorkersThatFit(poolSize, poolReserve);
    if (bulkWorkers > 0 && bulkWorkers > fit) {
      problems.push(
        `BULK_WORKERS: ${bulkWorkers} chunk workers take up to ${2 * bulkWorkers} of the ${poolSize - poolReserve} connections PG_POOL_SIZE leaves beside PG_POOL_RESERVE, leaving commands fewer than 2 — set BULK_WORKERS to at most ${Math.max(0, fit)} (0: this replica works no chunks) or PG_POOL_SIZE to at least ${poolSizeFor(bulkWorkers, poolReserve)}`,
      );
    }
  }
  if (parsed.success) {
    const { approverGroups, requiredApprovals, approverUserIds, approverUsergroupId } = parsed.data.policy;
    if (approverGroups.length > 0 && approverGroups.length < requiredApprovals) {
      problems.push(
        `APPROVER_GROUPS: ${approverGroups.length} group${approverGroups.length === 1 ? '' : 's'} cannot give REQUIRED_APPROVALS=${requiredApprovals} approvals from distinct groups — list more groups or lower REQUIRED_APPROVALS`,
      );
    }
    if (approverGroups.length > 0 && (approverUserIds.length > 0 || approverUsergroupId !== undefined)) {
      problems.push(
        'APPROVER_GROUPS: set with APPROVER_USER_IDS or APPROVER_USERGROUP_ID — an approval must count for one group, so set only APPROVER_GROUPS',
      );
    }
  }
  if (problems.length > 0 || !parsed.success) {
    const unique = [...new Set(problems)];
    throw new RecoveryError(
      ErrorCode.Config,
      `Configuration has ${unique.length} problem${unique.length === 1 ? '' : 's'}:\n${unique.map((p) => `  - ${p}`).join('\n')}`,
      'Set the variables above (see README, "Configuration") and start again.',
      { details: { problems: unique } },
    );
  }
  return parsed.data;
}
