import { isReplayPlan, isUnlockPlan, type RecoveryRequest } from '../approval/types.js';
import type { RestoreResult } from '../recovery/execute.js';
import { type ActionId, SLASH_COMMAND } from '../slack-ids.js';
import { type ErrorLike, hintForCode } from './errors.js';
import { code, escapeMrkdwn, line, userRef } from './escape.js';
import { formatTime, formatTtl, plural, shortChecksum } from './format.js';
import { approversText } from './request.js';
import {
  context,
  fieldsSection,
  type KnownBlock,
  message,
  plain,
  type SlackMessage,
  section,
} from './slack.js';

export const RESTORE_UNDO_ACTION: ActionId = 'restore_undo';
export const RESTORE_ACTIONS_BLOCK_ID = 'restore_actions';

/**
 * A finished restore as the thread shows it. Built from a `RestoreResult` (live) or from the
 * `restore.succeeded` audit row, which keeps only these facts.
 */
export interface RestoreOutcome
  extends Pick<RestoreResult, 'conversationId' | 'source' | 'backupId' | 'before' | 'after' | 'ttlMs'> {
  /** Read-back validity; null when the restore deleted the key or it could not be read back. */
  valid: boolean | null;
  /** false: Redis acknowledged the write, but it could not be read back afterwards. */
  verified?: boolean | undefined;
  steps?: number | null | undefined;
  diffSummary?: string | null | undefined;
}

export interface RestoreViewContext {
  request?: RecoveryRequest | undefined;
  /** Set once an undo put this restore's backup back: the Undo button gives way to this. */
  undone?: { by: string; at: Date | string; requestId: string } | undefined;
  now?: Date | undefined;
}

/** The label the thread's echo of a click repeats. */
export const UNDO_BUTTON_LABEL = 'Undo this restore';

function undoCommand(backupId: string): string {
  return `${SLASH_COMMAND} undo ${backupId}`;
}

function headline(o: RestoreOutcome): string {
  const id = code(o.conversationId);
  const from = code(o.source);
  if (o.after === null)
    return `✅ *Removed ${id} from Redis* (restored from ${from}: the key did not exist before)`;
  if (o.valid === false) return `⚠️ *Restored ${id} from ${from}, but the copy read back is NOT valid*`;
  return `✅ *Restored ${id} from ${from}*`;
}

function readBack(o: RestoreOutcome): string {
  if (o.verified === false) return '⚠️ could not be read back (Redis acknowledged the write): run inspect';
  if (o.after === null) return 'key removed';
  const steps = o.steps === null || o.steps === undefined ? '' : `, ${plural(o.steps, 'step')}`;
  if (o.valid === null) return `not checked${steps}`;
  return `${o.valid ? '✅ valid' : '⚠️ not valid'}${steps}`;
}

export function restoreOutcomeView(o: RestoreOutcome, ctx: RestoreViewContext = {}): SlackMessage {
  const lines = [headline(o)];
  if (o.diffSummary) lines.push(line(o.diffSummary, 500));
  const fields = [
    `*Before*\n${code(shortChecksum(o.before))}`,
    `*After*\n${code(shortChecksum(o.after))}`,
    `*Backup*\n${code(o.backupId)}`,
    `*TTL*\n${o.after === null ? '—' : formatTtl(o.ttlMs, { bare: true })}`,
    `*Read-back*\n${readBack(o)}`,
  ];
  const req = ctx.request;
  if (req) fields.push(`*Requested by*\n${userRef(req.requester)}`, `*Approved by*\n${approversText(req)}`);
  const blocks: KnownBlock[] = [section(lines.join('\n')), fieldsSection(fields)];
  if (ctx.undone) {
    const at = escapeMrkdwn(formatTime(ctx.undone.at, ctx.now, { seconds: true }));
    blocks.push(
      context(
        `↩️ Undone by ${userRef(ctx.undone.by)} at ${at}: Redis holds what it held before this restore again (request ${code(ctx.undone.requestId)}).`,
      ),
    );
  } else {
    blocks.push(
      section(
        `Undo puts back exactly what Redis held before: the button asks for a reason, then one approval (or type ${code(`${undoCommand(o.backupId)} --reason <why>`)}).`,
      ),
      {
        type: 'actions',
        block_id: RESTORE_ACTIONS_BLOCK_ID,
        elements: [
          {
            type: 'button',
            action_id: RESTORE_UNDO_ACTION,
            text: plain(UNDO_BUTTON_LABEL),
            value: o.backupId,
          },
        ],
      },
    );
  }
  if (o.valid === false) {
    blocks.push(
      context(`Run ${code(`${SLASH_COMMAND} validate ${o.conversationId}`)} to see what is wrong with it.`),
    );
  }
  const text = ctx.undone
    ? `${headline(o).replace(/\*/g, '')}. Undone by ${userRef(ctx.undone.by)}.`
    : `${headline(o).replace(/\*/g, '')}. Backup ${code(o.backupId)}; undo with the button or ${code(`${undoCommand(o.backupId)} --reason <why>`)}.`;
  return message(text, blocks);
}

export function restoreResultView(result: RestoreResult, ctx: RestoreViewContext = {}): SlackMessage {
  return restoreOutcomeView(
    {
      conversationId: result.conversationId,
      source: result.source,
      backupId: result.backupId,
      before: result.before,
      after: result.after,
      ttlMs: result.ttlMs,
      valid: result.validation ? result.validation.valid : null,
      verified: result.verified,
      steps: result.validation?.stepCount ?? null,
      diffSummary: result.diffSummary,
    },
    ctx,
  );
}

export interface RestoreProgress {
  conversationId: string;
  source: string;
  backupId: string | null;
  before: string | null;
  after: string | null;
  actor?: string | null | undefined;
  reason?: string | null | undefined;
}

/** The write is under way: the backup exists, so whatever happens next can be undone. */
export function restoreProgressView(p: RestoreProgress): SlackMessage {
  const head = `▶️ Restoring ${code(p.conversationId)} from ${code(p.source)}…`;
  const detail = [
    p.backupId ? `Backup ${code(p.backupId)} taken of ${code(shortChecksum(p.before))}` : null,
    `writing ${code(shortChecksum(p.after))}`,
  ]
    .filter((x): x is string => x !== null)
    .join('; ');
  const by = [
    p.actor ? `By ${userRef(p.actor)}` : null,
    p.reason?.trim() ? `Reason: ${line(p.reason, 500)}` : null,
  ].filter((x): x is string => x !== null);
  const blocks: KnownBlock[] = [section(`${head}\n${detail}.`)];
  if (by.length > 0) blocks.push(context(...by));
  return message(`${head} ${detail}.`, blocks);
}

export interface RestoreFailureContext {
  conversationId?: string | undefined;
  source?: string | undefined;
  /** Set when the backup was taken before the failure: the previous value is safe there. */
  backupId?: string | null | undefined;
  request?: RecoveryRequest | undefined;
}

export function restoreFailedView(err: ErrorLike, ctx: RestoreFailureContext = {}): SlackMessage {
  const id = ctx.conversationId ?? ctx.request?.conversationId;
  const plan = ctx.request?.plan;
  const source =
    ctx.source ?? (plan && !isReplayPlan(plan) && !isUnlockPlan(plan) ? plan.sourceLabel : undefined);
  const what = `Restore${id ? ` of ${code(id)}` : ''}${source ? ` from ${code(source)}` : ''}`;
  const hint = err.hint || hintForCode(err.code);
  const lines = [`❌ *${what} failed*`, escapeMrkdwn(err.message)];
  if (hint) lines.push(`*What to do:* ${escapeMrkdwn(hint)}`);
  const blocks: KnownBlock[] = [section(lines.join('\n'))];
  const notes: string[] = [];
  if (ctx.backupId) {
    notes.push(
      `What Redis held before is kept in backup ${code(ctx.backupId)}${id ? `; ${code(`${SLASH_COMMAND} inspect ${id}`)} shows what it holds now` : ''}.`,
    );
  }
  if (err.code) notes.push(`Error code ${code(err.code)}`);
  if (notes.length > 0) blocks.push(context(...notes));
  return message(`${what.replace(/`/g, '')} failed: ${line(err.message, 500)}`, blocks);
}

/**
 * A write whose reply was lost, after which Redis held neither the old nor the new value, or
 * could not be read back. Neither "done" nor "failed" would be true; the reader must look.
 */
export interface RestoreUnknown {
  conversationId: string;
  source: string;
  backupId: string;
  before: string | null;
  after: string | null;
  /** What Redis held when read back; 'unreadable' when every read failed. */
  observed: string | null;
  observedUnreadable?: boolean | undefined;
  /** The core's plain sentence of what was found and what to check. */
  detail: string;
}

export function restoreUnknownView(u: RestoreUnknown): SlackMessage {
  const what = `Restore of ${code(u.conversationId)} from ${code(u.source)}`;
  const held = u.observedUnreadable ? 'could not be read' : code(shortChecksum(u.observed));
  const lines = [
    `❓ *${what}: outcome unknown — check before doing anything else*`,
    escapeMrkdwn(u.detail),
    `*What to check:* ${code(`${SLASH_COMMAND} inspect ${u.conversationId}`)}. ${code(shortChecksum(u.after))} in Redis means the restore landed; ${code(shortChecksum(u.before))} means nothing was written; anything else was written by someone else.`,
  ];
  const blocks: KnownBlock[] = [
    section(lines.join('\n')),
    fieldsSection([
      `*Before*\n${code(shortChecksum(u.before))}`,
      `*Meant to write*\n${code(shortChecksum(u.after))}`,
      `*Redis holds*\n${held}`,
      `*Backup*\n${code(u.backupId)}`,
    ]),
    context(
      `What Redis held before is kept in backup ${code(u.backupId)}: ${code(undoCommand(u.backupId))} puts it back (needs approval).`,
    ),
  ];
  return message(`${what.replace(/`/g, '')}: outcome unknown. ${line(u.detail, 500)}`, blocks);
}
