import { writeFile } from 'node:fs/promises';
import { assertNever } from '../assert-never.js';
import type { Config } from '../config.js';
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
import type { TierName } from '../recovery/types.js';
import { migrate } from '../store/migrate.js';
import { createRuntime, type Runtime } from '../wiring.js';
import { isCliVerb, type ParsedArgs, UsageError } from './args.js';
import { BULK_COMMANDS, runBulkCommand } from './bulk-command.js';
import {
  formatAuditVerify,
  formatDiff,
  formatInspect,
  formatList,
  formatPlan,
  formatReplayPlan,
  formatReplayProgress,
  formatReplayResult,
  formatRestore,
  formatValidate,
} from './format.js';
import { actingUser, type CliIo } from './io.js';
import { commandLine, threadStory } from './thread-story.js';

/** Commands that need the bot's own schema (backups, audit) and so run migrations first. */
const NEEDS_BOT_SCHEMA = new Set(['restore', 'undo', 'replay', 'audit', 'migrate', ...BULK_COMMANDS]);

/**
 * The part of the CLI that needs the stores and the SDKs. main.ts imports it only once a command
 * is known to need them, so `--help` and usage errors answer without loading any of this.
 */
export async function runCommand(args: ParsedArgs, io: CliIo, config: Config): Promise<number> {
  let runtime: Runtime | undefined;
  try {
    runtime = await createRuntime(config, { migrate: NEEDS_BOT_SCHEMA.has(args.command) });
    return await dispatch(args, runtime, io, config);
  } finally {
    await runtime?.close();
  }
}

function need(args: ParsedArgs, n: number, what: string): string {
  const v = args.positionals[n];
  if (!v) throw new UsageError(`${args.command} needs ${what}`);
  return v;
}

async function dispatch(args: ParsedArgs, rt: Runtime, io: CliIo, config: Config): Promise<number> {
  const botSchema = config.postgres.botSchema;
  const { deps } = rt;
  const out = (human: string, machine: unknown) =>
    io.stdout(args.json ? `${JSON.stringify(machine, null, 2)}\n` : `${human}\n`);
  const actor = { id: `cli:${actingUser(io)}`, reason: args.reason ?? '' };
  const story = (conversationId: string) =>
    threadStory({
      rt,
      schema: botSchema,
      io,
      conversationId,
      actor: actor.id,
      commandLine: commandLine(args.argv),
    });

  const verb = args.command;
  if (!isCliVerb(verb)) throw new UsageError(`unknown command "${verb}"`);
  switch (verb) {
    case 'inspect': {
      const { report } = await inspectConversation(deps, need(args, 0, 'a conversation id'));
      await (await story(report.conversationId)).tell({
        action: 'inspect.reported',
        actor: actor.id,
        conversationId: report.conversationId,
        requestId: null,
        data: { report: inspectJson(report) },
      });
      out(formatInspect(report), inspectJson(report));
      const redis = report.tiers.redis;
      return redis.status === 'found' && redis.analysis?.valid ? 0 : 1;
    }
    case 'validate': {
      const report = await validateConversation(deps, need(args, 0, 'a conversation id'));
      await (await story(report.conversationId)).tell({
        action: 'validate.reported',
        actor: actor.id,
        conversationId: report.conversationId,
        requestId: null,
        data: { report },
      });
      out(formatValidate(report), {
        ...report,
        tiers: inspectJson({ ...report, recommendation: report.recommendation }).tiers,
      });
      return report.verdict === 'healthy' ? 0 : 1;
    }
    case 'diff': {
      if (!args.from) throw new UsageError('diff needs --from <postgres|s3|backup:<id>|file:<path>>');
      const report = await diffConversation(
        deps,
        need(args, 0, 'a conversation id'),
        parseRestoreSource(args.from),
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
      if (!args.from) throw new UsageError('restore needs --from <postgres|s3|backup:<id>|file:<path>>');
      const plan = await planRestore(deps, need(args, 0, 'a conversation id'), parseRestoreSource(args.from));
      if (!args.json) io.stderr(`${formatPlan(plan)}\n`);
      const thread = await story(plan.conversationId);
      await thread.tell();
      const result = await executeRestore(thread.deps, plan, actor);
      out(formatRestore(result), result);
      return result.validation === null || result.validation.valid ? 0 : 1;
    }
    case 'undo': {
      const plan = await planUndo(deps, need(args, 0, 'a backup id (bk_…)'));
      if (!args.json) io.stderr(`${formatPlan(plan)}\n`);
      const thread = await story(plan.conversationId);
      await thread.tell();
      const result = await executeRestore(thread.deps, plan, actor);
      out(formatRestore(result), { ...result, undone: args.positionals[0] });
      return 0;
    }
    case 'replay': {
      const zeus = deps.zeus;
      if (!zeus) throw new UsageError('replay needs ZEUS_API_URL and ZEUS_API_TOKEN');
      if (args.fromStep === undefined) throw new UsageError('replay needs --from-step <N>');
      const plan = await planReplay(deps, need(args, 0, 'a conversation id'), args.fromStep);
      // The CLI has no approval request, so it makes an id here: the Idempotency-Key and audit link.
      const requestId = newRequestId();
      if (!args.json) io.stderr(`${formatReplayPlan(plan, requestId)}\n`);
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
        throw new UsageError('--tier must be redis, postgres or s3');
      const result = await exportConversation(deps, need(args, 0, 'a conversation id'), tier);
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
      const result = await listConversations(deps, {
        ...(args.positionals[0] ? { pattern: args.positionals[0] } : {}),
        ...(args.limit ? { limit: args.limit } : {}),
        ...(args.cursor ? { cursor: args.cursor } : {}),
      });
      out(formatList(result), result);
      return 0;
    }
    case 'migrate': {
      const { applied } = await migrate(rt.pool, botSchema);
      out(applied.length > 0 ? `Applied: ${applied.join(', ')}` : 'Schema is up to date.', { applied });
      return 0;
    }
    case 'audit': {
      if (args.positionals[0] !== 'verify') throw new UsageError('audit takes one subcommand: verify');
      const result = await deps.audit.verify();
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
