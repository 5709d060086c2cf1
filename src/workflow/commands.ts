import { AuditAction } from '../approval/types.js';
import { assertNever } from '../assert-never.js';
import { ErrorCode, RecoveryError } from '../errors.js';
import { addLogContext } from '../log-context.js';
import {
  backupNotFound,
  diffConversation,
  exportConversation,
  inspectConversation,
  listConversations,
  planRestore,
  planUndo,
} from '../recovery/index.js';
import { planReplay } from '../recovery/replay.js';
import { inspectJson } from '../recovery/summary.js';
import type { InspectReport } from '../recovery/types.js';
import { planUnlock, type UnlockPlan } from '../recovery/unlock.js';
import { alreadyUndoneText } from '../views/approval-refusals.js';
import { replies } from '../views/replies.js';
import type { ThreadCommand } from './command.js';
import type { Actor, ListReply, Reply, WorkflowContext } from './context.js';

/** How long the private answer waits for the thread message to link to; after that it says "in the thread". */
const LINK_WAIT_MS = 5000;

/** Ids of one SCAN page looked at for close matches of an unknown id; a hint, not a search. */
const CLOSE_MATCHES_SCANNED = 200;

/** Up to three ids Redis holds that start like `id`, nearest in length first: a typo's likely target. */
function closeIds(id: string, ids: readonly string[]): string[] {
  return ids
    .filter((other) => other !== id)
    .sort((x, y) => Math.abs(x.length - id.length) - Math.abs(y.length - id.length) || x.localeCompare(y))
    .slice(0, 3);
}

/**
 * The commands people type: reports go straight to the incident thread, and the destructive
 * ones open a request that waits for approval (decisions.ts).
 */
export function createCommands(ctx: WorkflowContext) {
  const { core, policy, messaging, names, actorId, record, failure, openRequest, reportValidation } = ctx;

  /**
   * `typed`: the command as the person typed it (the handler undoes the chat's escaping), or as
   * the button or form stands for it. `clicked`: the button's label when a click asked for it, so
   * the thread says "clicked Undo" rather than claiming a command was typed. `link`: wait for the
   * thread message and return its link (for a private note that can be replaced by it); a form
   * submission has no such note, so it does not hold its slot waiting for one. `workDone`: called
   * with the reply when the work is done, before waiting for that link (the handler gives its
   * turn back and counts the outcome then: a slow link is not a slow command).
   */
  async function command(
    cmd: ThreadCommand,
    typed: string,
    who: Actor,
    opts: { clicked?: string; link?: boolean; workDone?: (reply: Reply) => void } = {},
  ): Promise<Reply> {
    try {
      const conversationId = cmd.kind === 'undo' ? null : 'id' in cmd ? cmd.id : null;
      if (conversationId) addLogContext({ conversationId });
      // An id no tier holds (a typo) gets a private answer: a public thread would stay forever.
      const inspected = cmd.kind === 'inspect' ? await inspectConversation(core, cmd.id) : null;
      if (inspected && noTierHolds(inspected.report))
        return await unknownId(inspected.report.conversationId, typed, who);
      const unlock = cmd.kind === 'unlock' ? await lockToBreak(cmd.id, typed, who) : null;
      if (unlock && 'ok' in unlock) return unlock;
      const undoOf = cmd.kind === 'undo' ? await backupConversation(cmd.backupId) : null;
      // A backup id nobody took names no conversation, so no thread: echoed, it would sit in the
      // channel itself. Answered privately, like an id no tier holds.
      if (cmd.kind === 'undo' && undoOf === null) return await unknownBackup(cmd.backupId, typed, who);
      const echo = await messaging.postToThread(who.channelId, {
        action: AuditAction.CommandReceived,
        actor: actorId(who.userId),
        conversationId: conversationId ?? undoOf,
        requestId: null,
        // Views escape it when they show it.
        data: { command: names.command(typed), ...(opts.clicked ? { clicked: opts.clicked } : {}) },
      });
      const reply = await perform(cmd, who, inspected, unlock);
      // The private "working on it" note becomes a link to the thread, so notes do not pile up.
      opts.workDone?.(reply);
      if (!reply.ok || !opts.link || !messaging.linkTo) return reply;
      return {
        ...reply,
        link: await messaging.linkTo(who.channelId, echo.seq, LINK_WAIT_MS).catch(() => null),
      };
    } catch (err) {
      return failure(err);
    }
  }

  /** What each command does once it is recorded; its story goes to the thread. */
  async function perform(
    cmd: ThreadCommand,
    who: Actor,
    inspected: Awaited<ReturnType<typeof inspectConversation>> | null,
    unlock: UnlockPlan | null,
  ): Promise<Reply> {
    switch (cmd.kind) {
      case 'inspect': {
        const { report } = inspected ?? (await inspectConversation(core, cmd.id));
        await record(who.channelId, {
          action: AuditAction.InspectReported,
          actor: actorId(who.userId),
          conversationId: report.conversationId,
          requestId: null,
          data: { report: inspectJson(report) },
        });
        return { ok: true, ...replies.inspected(cmd.id) };
      }
      case 'validate':
        await reportValidation(cmd.id, who.channelId, actorId(who.userId));
        return { ok: true, ...replies.validated(cmd.id) };
      case 'diff': {
        const report = await diffConversation(core, cmd.id, cmd.source);
        await record(who.channelId, {
          action: AuditAction.DiffReported,
          actor: actorId(who.userId),
          conversationId: cmd.id,
          requestId: null,
          data: { report },
        });
        return { ok: true, ...replies.diffPosted(cmd.id) };
      }
      case 'export':
        return await exportToThread(cmd.id, cmd.tier, who);
      case 'restore': {
        const plan = await planRestore(core, cmd.id, cmd.source);
        const request = await openRequest('restore', plan, who, cmd.reason);
        return { ok: true, ...replies.restoreRequested(cmd.id, request.id) };
      }
      case 'undo': {
        const plan = await planUndo(core, cmd.backupId);
        const request = await openRequest('undo', plan, who, cmd.reason);
        return { ok: true, ...replies.undoRequested(cmd.backupId, request.id) };
      }
      case 'replay': {
        if (!core.zeus) {
          return {
            ok: false,
            ...replies.replayNotConfigured(),
            code: ErrorCode.Config,
          };
        }
        const plan = await planReplay(core, cmd.id, cmd.fromStep);
        const request = await openRequest('replay', plan, who, cmd.reason);
        return {
          ok: true,
          ...replies.replayRequested(cmd.id, cmd.fromStep, request.id),
        };
      }
      case 'unlock': {
        // Not counted by the hourly limit nor stopped by the breaker (docs/approval-policies.md).
        const request = await openRequest(
          'unlock',
          unlock ?? (await planUnlock(core, cmd.id)),
          who,
          cmd.reason,
        );
        return { ok: true, ...replies.unlockRequested(cmd.id, request.id) };
      }
      default:
        return assertNever(cmd, 'command kind');
    }
  }

  /**
   * The lock an unlock would break, or the private answer when none is held: no request and
   * nothing in the thread for it, only the audit log's record that it was asked.
   */
  async function lockToBreak(id: string, typed: string, who: Actor): Promise<UnlockPlan | Reply> {
    try {
      return await planUnlock(core, id);
    } catch (err) {
      if (!(err instanceof RecoveryError) || err.code !== ErrorCode.NothingToDo) throw err;
      await recordUndelivered(id, typed, who);
      return failure(err);
    }
  }

  /** A command answered only privately: in the audit log all the same, not delivered to the channel. */
  async function recordUndelivered(id: string | null, typed: string, who: Actor): Promise<void> {
    await core.audit.append({
      action: AuditAction.CommandReceived,
      actor: actorId(who.userId),
      conversationId: id,
      requestId: null,
      data: { command: names.command(typed) },
    });
  }

  /** Every tier answered and none holds it; an unreachable tier might, so that is not "unknown". */
  function noTierHolds(report: InspectReport): boolean {
    return Object.values(report.tiers).every((t) => t.status === 'missing');
  }

  /**
   * The private answer to an id no tier holds, with ids Redis holds that start the same way. In
   * the audit log all the same, just not delivered to the channel (like list).
   */
  async function unknownId(id: string, typed: string, who: Actor): Promise<Reply> {
    await recordUndelivered(id, typed, who);
    const prefix = id.slice(0, Math.max(2, Math.min(id.length - 2, 8)));
    // Zeus's ids are lower case; one typed with caps lock (C-7F3A9E) is looked for both ways.
    const prefixes = [...new Set([prefix, prefix.toLowerCase()])];
    const pages = await Promise.all(
      prefixes.map((p) =>
        listConversations(core, { pattern: `${p}*`, limit: CLOSE_MATCHES_SCANNED })
          .then((page) => page.ids)
          .catch(() => [] as string[]),
      ),
    );
    const near = closeIds(id, pages.flat());
    return { ok: false, ...replies.noTierHolds(id, near), code: ErrorCode.NotFound, near };
  }

  /** An undo of a backup that does not exist: the core's refusal says where to find the right id. */
  async function unknownBackup(backupId: string, typed: string, who: Actor): Promise<Reply> {
    await recordUndelivered(null, typed, who);
    return failure(backupNotFound(backupId));
  }

  /** `<id>-<tier>-<UTC timestamp>.json`, e.g. `c-7f3a9e-redis-20251213T031200Z.json`. */
  function exportFileName(id: string, tier: string, at: Date): string {
    const stamp = at
      .toISOString()
      .replace(/[-:]/g, '')
      .replace(/\.\d{3}Z$/, 'Z');
    return `${id}-${tier}-${stamp}.json`;
  }

  async function exportToThread(id: string, tier: 'redis' | 'postgres' | 's3', who: Actor): Promise<Reply> {
    const result = await exportConversation(core, id, tier);
    const actor = actorId(who.userId);
    const size = result.bytes.length;
    if (size > policy.exportMaxBytes) {
      const cli = `zeus-recover export ${id} --tier ${tier} --out ${id}-${tier}.json`;
      await record(who.channelId, {
        action: AuditAction.ExportRefused,
        actor,
        conversationId: id,
        requestId: null,
        data: { tier, bytes: size, limit: policy.exportMaxBytes, cli },
      });
      return {
        ok: false,
        ...replies.exportTooBig({ id, tier, bytes: size, limit: policy.exportMaxBytes, cli }),
      };
    }
    const filename = exportFileName(id, tier, (core.clock ?? (() => new Date()))());
    await messaging.uploadFile({
      channelId: who.channelId,
      conversationId: id,
      filename,
      bytes: result.bytes,
    });
    await record(who.channelId, {
      action: AuditAction.ExportUploaded,
      actor,
      conversationId: id,
      requestId: null,
      data: { tier, filename, bytes: size, checksum: result.analysis.checksum },
    });
    return { ok: true, ...replies.exported(id, tier, filename) };
  }

  async function backupConversation(backupId: string): Promise<string | null> {
    return (await core.backups.get(backupId))?.conversationId ?? null;
  }

  /**
   * Before the Undo button's reason form: a backup an undo already put back is not offered again
   * (a second click is answered privately and posts nothing to the thread).
   */
  async function canUndo(backupId: string): Promise<Reply> {
    try {
      const conversationId = await backupConversation(backupId);
      if (conversationId === null) return failure(backupNotFound(backupId));
      const done = await ctx.requests.undoneBy(conversationId, backupId);
      if (done) {
        const now = (core.clock ?? (() => new Date()))();
        return { ok: false, message: alreadyUndoneText(done, backupId, now), mentions: true };
      }
      return { ok: true, message: '' };
    } catch (err) {
      return failure(err);
    }
  }

  /**
   * A page of `list`, for the person who asked only: it names no conversation, so there is no
   * thread for it. It is in the audit log all the same, just not delivered to the channel.
   */
  async function list(
    query: { pattern: string | null; cursor: string | null; limit: number },
    who: Actor,
  ): Promise<ListReply> {
    try {
      const page = query.cursor === null ? '' : ` (next page, cursor ${query.cursor})`;
      await core.audit.append({
        action: AuditAction.CommandReceived,
        actor: actorId(who.userId),
        conversationId: null,
        requestId: null,
        data: { command: names.command(`list${query.pattern === null ? '' : ` ${query.pattern}`}${page}`) },
      });
      const result = await listConversations(core, {
        limit: query.limit,
        ...(query.pattern === null ? {} : { pattern: query.pattern }),
        ...(query.cursor === null ? {} : { cursor: query.cursor }),
      });
      return { ok: true, result };
    } catch (err) {
      return { ...failure(err), ok: false };
    }
  }

  return { command, list, canUndo };
}
