import { assertNever } from '../assert-never.js';
import { isRecoveryError } from '../errors.js';
import { assertConversationId } from '../recovery/ids.js';
import { assertBackupId } from '../recovery/sources.js';
import { MODAL_ACTIONS, MODAL_BLOCK_IDS, type ModalBlockId } from '../slack-ids.js';
import { TIERS } from '../slack-verbs.js';
import { normaliseText } from './normalise-text.js';
import type { GrammarOptions, SlackRestoreSource, ThreadCommand } from './parsed-command.js';
import { parseStep, slackSource } from './values.js';

/**
 * The recovery form's check: the same values as the text grammar, read from the form's blocks,
 * with every problem reported under the field that has it.
 */

/** A restore, undo or replay the form chose: its reason is asked next (the reason form). */
export interface NeedsReason {
  kind: 'needs_reason';
  command: PendingCommand;
}

export type ModalValidation =
  | { ok: true; command: ThreadCommand | NeedsReason }
  | { ok: false; errors: Record<string, string> };

/** `restore c-1 --from postgres`: what the reason form carries and the audit log records. */
export function commandText(
  cmd: Exclude<ThreadCommand, { kind: 'restore' | 'undo' | 'replay' }> | PendingCommand,
): string {
  const from = (source: SlackRestoreSource) =>
    ` --from ${source.kind === 'tier' ? source.tier : `backup:${source.backupId}`}`;
  switch (cmd.kind) {
    case 'inspect':
    case 'validate':
      return `${cmd.kind} ${cmd.id}`;
    case 'diff':
    case 'restore':
      return `${cmd.kind} ${cmd.id}${from(cmd.source)}`;
    case 'undo':
      return `undo ${cmd.backupId}`;
    case 'export':
      return `export ${cmd.id} --tier ${cmd.tier}`;
    case 'replay':
      return `replay ${cmd.id} --from-step ${cmd.fromStep}`;
    case 'unlock':
      // Typed only (the form offers no unlock); named here so the switch stays whole.
      return `unlock ${cmd.id}`;
    default:
      return assertNever(cmd, 'command kind');
  }
}

/** A destructive command before its reason. */
export type PendingCommand =
  | { kind: 'restore'; id: string; source: SlackRestoreSource }
  | { kind: 'undo'; backupId: string }
  | { kind: 'replay'; id: string; fromStep: number };

function needsReason(cmd: PendingCommand): NeedsReason {
  return { kind: 'needs_reason', command: cmd };
}

const ID_RULE = 'Use 1–128 letters, digits, `_` or `-`, starting with a letter or digit (e.g. c-7f3a9e).';
const STEP_RULE = 'Enter the step to replay from: a whole number, 1 or more.';

/**
 * Checks a submitted form and lists every problem at once, each under the block that has it, so
 * Slack shows them next to the fields (`response_action: "errors"`).
 */
export function validateModalSubmission(
  values: Record<string, string | undefined>,
  opts: GrammarOptions,
): ModalValidation {
  const errors: Record<string, string> = {};
  const get = (block: ModalBlockId): string | undefined => {
    const value = values[block];
    if (value === undefined) return undefined;
    const clean = normaliseText(value).trim();
    return clean === '' ? undefined : clean;
  };

  const actionRaw = get(MODAL_BLOCK_IDS.action);
  const action = MODAL_ACTIONS.find((a) => a === actionRaw?.toLowerCase());
  if (actionRaw === undefined) errors[MODAL_BLOCK_IDS.action] = 'Choose an action.';
  else if (action === undefined) errors[MODAL_BLOCK_IDS.action] = 'Choose one of the listed actions.';

  let id: string | null = null;
  const idRaw = get(MODAL_BLOCK_IDS.conversationId);
  if (idRaw !== undefined && action !== 'undo') {
    try {
      id = assertConversationId(idRaw, opts.idPattern);
    } catch (err) {
      if (!isRecoveryError(err)) throw err;
      errors[MODAL_BLOCK_IDS.conversationId] = `That is not a conversation id. ${ID_RULE}`;
    }
  } else if (idRaw === undefined && action !== undefined && action !== 'undo') {
    errors[MODAL_BLOCK_IDS.conversationId] = 'Enter the conversation id, e.g. c-7f3a9e.';
  }

  const backupId = (): string | null => {
    const raw = get(MODAL_BLOCK_IDS.backupId);
    if (raw === undefined) return null;
    try {
      return assertBackupId(raw.replace(/^backup:/i, ''));
    } catch (err) {
      if (!isRecoveryError(err)) throw err;
      errors[MODAL_BLOCK_IDS.backupId] =
        'That is not a backup id: they look like bk_… (the restore result shows it).';
      return null;
    }
  };

  let command: ThreadCommand | NeedsReason | null = null;
  switch (action) {
    case undefined:
      break;
    case 'inspect':
    case 'validate':
      if (id !== null) command = { kind: action, id };
      break;
    case 'export': {
      const raw = get(MODAL_BLOCK_IDS.source)?.toLowerCase() ?? 'redis';
      const tier = TIERS.find((t) => t === raw);
      if (tier === undefined)
        errors[MODAL_BLOCK_IDS.source] = 'Export reads a tier: choose Redis, PostgreSQL or S3.';
      else if (id !== null) command = { kind: 'export', id, tier };
      break;
    }
    case 'diff':
    case 'restore': {
      const raw = get(MODAL_BLOCK_IDS.source);
      let source: SlackRestoreSource | null = null;
      if (raw === undefined) {
        errors[MODAL_BLOCK_IDS.source] =
          action === 'restore' ? 'Choose where to restore from.' : 'Choose which copy to compare with Redis.';
      } else if (raw.toLowerCase() === 'backup') {
        const bk = backupId();
        if (bk !== null) source = { kind: 'backup', backupId: bk };
        else if (errors[MODAL_BLOCK_IDS.backupId] === undefined) {
          errors[MODAL_BLOCK_IDS.backupId] =
            'Enter the backup id to restore from (bk_…, shown in the restore result).';
        }
      } else {
        const parsed = slackSource(raw);
        if ('source' in parsed) source = parsed.source;
        else if (raw.toLowerCase() === 'redis') {
          errors[MODAL_BLOCK_IDS.source] =
            'Redis is what a restore overwrites: choose PostgreSQL, S3 or a backup.';
        } else errors[MODAL_BLOCK_IDS.source] = 'Choose PostgreSQL, S3 or a backup.';
      }
      if (id !== null && source !== null) {
        command =
          action === 'diff' ? { kind: 'diff', id, source } : needsReason({ kind: 'restore', id, source });
      }
      break;
    }
    case 'undo': {
      const bk = backupId();
      if (bk === null && errors[MODAL_BLOCK_IDS.backupId] === undefined) {
        errors[MODAL_BLOCK_IDS.backupId] = 'Enter the backup id to undo (bk_…, shown in the restore result).';
      }
      if (bk !== null) command = needsReason({ kind: 'undo', backupId: bk });
      break;
    }
    case 'replay': {
      const raw = get(MODAL_BLOCK_IDS.fromStep);
      const fromStep = raw === undefined ? null : parseStep(raw);
      if (fromStep === null) errors[MODAL_BLOCK_IDS.fromStep] = STEP_RULE;
      else if (id !== null) command = needsReason({ kind: 'replay', id, fromStep });
      break;
    }
    default:
      assertNever(action, 'form action');
  }

  if (Object.keys(errors).length > 0 || command === null) {
    if (Object.keys(errors).length === 0) errors[MODAL_BLOCK_IDS.action] = 'Choose an action.';
    return { ok: false, errors };
  }
  return { ok: true, command };
}
