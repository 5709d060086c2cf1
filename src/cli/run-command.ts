import { writeFile } from 'node:fs/promises';
import { assertNever } from '../assert-never.js';
import type { Config } from '../config.js';
import { ErrorCode, RecoveryError } from '../errors.js';
import { assertConversationId } from '../recovery/ids.js';
import {
  diffConversation,
  executeReplay,
  executeRestore,
  exportConversation,
  inspectConversation,
  listConversations,
  newRequestId,
  parseRestoreSource,
  planReplay,
  planRestore,
  planUndo,
  validateConversation,
} from '../recovery/index.js';
import { inspectJson } from '../recovery/summary.js';
import type { TierName, TierReport } from '../recovery/types.js';
import { executeUnlock, planUnlock } from '../recovery/unlock.js';
import { migrate } from '../store/migrate.js';
import { createRuntime, type Runtime } from '../wiring.js';
import { isCliVerb, type ParsedArgs, UsageError } from './args.js';
import { BULK_COMMANDS, runBulkCommand } from './bulk-command.js';
import {
  backupJson,
  formatAuditVerify,
  formatBackups,
  formatDiff,
  formatInspect,
  formatList,
  formatPlan,
  formatReplayPlan,
  formatReplayProgress,
  formatReplayResult,
  formatRestore,
  formatUnlock,
  formatUnlockPlan,
  formatValidate,
} from './format.js';
import { takeHourlySlot } from './hourly-slot.js';
import { actingUser, type CliIo } from './io.js';
import { colourOn, paint, withSpinner } from './style.js';
import { commandLine, threadStory } from './thread-story.js';
import { unreachableAdvice } from './tier-advice.js';

/** Commands that need the bot's own schema (backups, audit) and so run migrations first. */
const NEEDS_BOT_SCHEMA = new Set([
  'restore',
  'undo',
  'replay',
  'backups',
  'audit',
  'migrate',
  ...BULK_COMMANDS,
]);

/**
 * The part of the CLI that needs the stores and the SDKs. main.ts imports it only once a command
 * is known to need them, so `--help` and usage errors answer without loading any of this.
 */
export async function runCommand(args: ParsedArgs, io: CliIo, config: Config): Promise<number> {
  let runtime: Runtime | undefined;
  try {
    const migrating = NEEDS_BOT_SCHEMA.has(args.command);
    runtime = await withSpinner(
      io,
      args.json,
      migrating ? "Connecting and checking the bot's schema…" : 'Connecting…',
      createRuntime(config, { migrate: migrating }),
    );
    return await dispatch(args, runtime, io, config);
  } finally {
    await runtime?.close();
  }
}

/** Why not to look for the thread: Postgres, where it is recorded, did not answer just now. */
function postgresDown(tiers: Record<TierName, TierReport>): string | null {
  return tiers.postgres.status === 'unreachable' ? 'PostgreSQL did not answer' : null;
}

/** The report, then what to fix for each tier that did not answer. */
function withAdvice(report: string, advice: readonly string[]): string {
  return advice.length === 0 ? report : [report, '', 'To fix:', ...advice.map((a) => `  ${a}`)].join('\n');
}

function need(args: ParsedArgs, n: number, what: string): string {
  const v = args.positionals[n];
  if (!v) throw new UsageError(`${args.command} needs ${what}`, args.command);
  return v;
}

async function dispatch(args: ParsedArgs, rt: Runtime, io: CliIo, config: Config): Promise<number> {
  const botSchema = config.postgres.botSchema;
  const { deps } = rt;
  const coloured = colourOn(io, 'stdout', args.json);
  const out = (human: string, machine: unknown) =>
    io.stdout(args.json ? `${JSON.stringify(machine, null, 2)}\n` : `${coloured ? paint(human) : human}\n`);
  const wait = <T>(label: string, work: Promise<T>) => withSpinner(io, args.json, label, work);
  const TIERS = 'Reading Redis, PostgreSQL and S3';
  const actor = { id: `cli:${actingUser(io)}`, reason: args.reason ?? '' };
  const story = (conversationId: string, skip: string | null = null) =>
    threadStory({
      skip,
      rt,
      schema: botSchema,
      io,
      conversationId,
      actor: actor.id,
      commandLine: commandLine(args.argv),
    });

  // Unlock is not counted, as in Slack: it writes no conversation.
  const slot = (kind: 'restore' | 'undo' | 'replay', conversationId: string) =>
    takeHourlySlot(rt, config, { kind, actor: actor.id, conversationId });

  const verb = args.command;
  if (!isCliVerb(verb)) throw new UsageError(`unknown command "${verb}"`);
  switch (verb) {
    case 'inspect': {
      const id = need(args, 0, 'a conversation id');
      const { report } = await wait(`${TIERS} for ${id}…`, inspectConversation(deps, id));
      await (await story(report.conversationId, postgresDown(report.tiers))).tell({
        action: 'inspect.reported',
        actor: actor.id,
        conversationId: report.conversationId,
        requestId: null,
        data: { report: inspectJson(report) },
      });
      const advice = unreachableAdvice(report.tiers, config);
      out(withAdvice(formatInspect(report), advice), inspectJson(report));
      const redis = report.tiers.redis;
      // A tier that did not answer is a problem found, even when Redis is fine: the report is partial.
      return redis.status === 'found' && redis.analysis?.valid && advice.length === 0 ? 0 : 1;
    }
    case 'validate': {
      const id = need(args, 0, 'a conversation id');
      const report = await wait(`${TIERS} for ${id}…`, validateConversation(deps, id));
      await (await story(report.conversationId, postgresDown(report.tiers))).tell({
        action: 'validate.reported',
        actor: actor.id,
        conversationId: report.conversationId,
        requestId: null,
        data: { report },
      });
      const advice = unreachableAdvice(report.tiers, config);
      out(withAdvice(formatValidate(report), advice), {
        ...report,
        tiers: inspectJson({ ...report, recommendation: report.recommendation }).tiers,
      });
      return report.verdict === 'healthy' && advice.length === 0 ? 0 : 1;
    }
    case 'diff': {
      if (!args.from) throw new UsageError('diff needs --from <source>', 'diff');
      const id = need(args, 0, 'a conversation id');
      const report = await wait(
        `Reading Redis and ${args.from} for ${id}…`,
        diffConversation(deps, id, parseRestoreSource(args.from)),
      );
      await (await story(report.conversationId)).tell({
        action: 'diff.reported',
        actor: actor.id,
        conversationId: report.conversationId,
        requestId: null,
        data: { report },
      });
      out(formatDiff(report), report);
      return 0;
    }
    case 'restore': {
      if (!args.from) throw new UsageError('restore needs --from <source>', 'restore');
      const id = need(args, 0, 'a conversation id');
      const plan = await wait(
        `Reading Redis and ${args.from} for ${id}…`,
        planRestore(deps, id, parseRestoreSource(args.from)),
      );
      if (!args.json) io.stderr(`${formatPlan(plan)}\n`);
      await slot('restore', plan.conversationId);
      const thread = await story(plan.conversationId);
      await thread.tell();
      const result = await wait(
        `Restoring ${plan.conversationId} (backup, compare-and-set, read back)…`,
        executeRestore(thread.deps, plan, actor),
      );
      out(formatRestore(result), result);
      return result.validation === null || result.validation.valid ? 0 : 1;
    }
    case 'undo': {
      const backupId = need(args, 0, 'a backup id (bk_…)');
      const plan = await wait(`Reading backup ${backupId} and Redis…`, planUndo(deps, backupId));
      if (!args.json) io.stderr(`${formatPlan(plan)}\n`);
      await slot('undo', plan.conversationId);
      const thread = await story(plan.conversationId);
      await thread.tell();
      const result = await wait(
        `Putting back ${backupId} (backup, compare-and-set, read back)…`,
        executeRestore(thread.deps, plan, actor),
      );
      out(formatRestore(result), { ...result, undone: backupId });
      return 0;
    }
    case 'unlock': {
      const id = need(args, 0, 'a conversation id');
      const plan = await wait(`Reading the lock on ${id}…`, planUnlock(deps, id));
      if (!args.json) io.stderr(`${formatUnlockPlan(plan)}\n`);
      const thread = await story(plan.conversationId);
      await thread.tell();
      const result = await executeUnlock(thread.deps, plan, actor);
      out(formatUnlock(result), result);
      return 0;
    }
    case 'replay': {
      const zeus = deps.zeus;
      if (!zeus) {
        throw new RecoveryError(
          ErrorCode.Config,
          'replay needs ZEUS_API_URL and ZEUS_API_TOKEN: ZEUS_API_URL is not set.',
          "Set them to the Zeus API's address and token.",
        );
      }
      if (args.fromStep === undefined) throw new UsageError('replay needs --from-step N', 'replay');
      const id = need(args, 0, 'a conversation id');
      const plan = await wait(`Reading ${id} from Redis…`, planReplay(deps, id, args.fromStep));
      // The CLI has no approval request, so it makes an id here: the Idempotency-Key and audit link.
      const requestId = newRequestId();
      if (!args.json) io.stderr(`${formatReplayPlan(plan, requestId)}\n`);
      await slot('replay', plan.conversationId);
      const thread = await story(plan.conversationId);
      await thread.tell();
      const result = await executeReplay(
        thread.deps,
        plan,
        { ...actor, requestId },
        {
          zeus,
          pollMs: config.zeus.replayPollMs,
          timeoutMs: config.zeus.replayTimeoutMs,
          onProgress: (s) => {
            if (!args.json) io.stderr(`${formatReplayProgress(s)}\n`);
          },
        },
      );
      out(formatReplayResult(result), result);
      return result.outcome === 'done' ? 0 : 1;
    }
    case 'export': {
      const tier = (args.tier ?? 'redis') as TierName;
      if (!['redis', 'postgres', 's3'].includes(tier))
        throw new UsageError('--tier must be redis, postgres or s3', 'export');
      const id = need(args, 0, 'a conversation id');
      const result = await wait(`Reading ${id} from ${tier}…`, exportConversation(deps, id, tier));
      await (await story(result.conversationId)).tell();
      if (args.out) {
        await writeFile(args.out, result.bytes);
        io.stderr(
          `Wrote ${result.bytes.length} bytes (${result.analysis.checksum}) from ${tier} to ${args.out}\n`,
        );
      } else {
        io.stdout(result.bytes);
      }
      return 0;
    }
    case 'list': {
      const result = await wait(
        'Scanning Redis…',
        listConversations(deps, {
          ...(args.positionals[0] ? { pattern: args.positionals[0] } : {}),
          ...(args.limit ? { limit: args.limit } : {}),
          ...(args.cursor ? { cursor: args.cursor } : {}),
        }),
      );
      out(formatList(result), result);
      return 0;
    }
    case 'backups': {
      const id = assertConversationId(need(args, 0, 'a conversation id'), deps.idPattern);
      const backups = await wait(
        `Reading ${id}'s backups…`,
        deps.backups.listForConversation(id, args.limit ?? 20),
      );
      out(formatBackups(id, backups), { conversationId: id, backups: backups.map(backupJson) });
      return 0;
    }
    case 'migrate': {
      const { applied } = await wait("Updating the bot's schema…", migrate(rt.pool, botSchema));
      out(applied.length > 0 ? `Applied: ${applied.join(', ')}` : 'Schema is up to date.', { applied });
      return 0;
    }
    case 'audit': {
      if (args.positionals[0] !== 'verify')
        throw new UsageError('audit takes one subcommand: verify', 'audit');
      const result = await wait("Walking the audit log's hash chain…", deps.audit.verify());
      out(formatAuditVerify(result), result);
      return result.ok ? 0 : 1;
    }
    case 'bulk-restore':
    case 'job':
    case 'jobs':
    case 'resume':
      return runBulkCommand(args, rt, io, config);
    default:
      return assertNever(verb, 'CLI verb');
  }
}
