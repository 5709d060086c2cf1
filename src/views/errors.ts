import { ErrorCode } from '../errors.js';
import { ACTION } from '../slack-ids.js';
import { code, escapeExceptMentions, escapeMrkdwn } from './escape.js';
import { clip } from './limits.js';
import {
  context,
  type EphemeralMessage,
  ephemeral,
  type KnownBlock,
  message,
  plain,
  section,
} from './slack.js';

export interface ErrorLike {
  message: string;
  /**
   * The message is the app's own wording that names people as `<@U…>` (approval refusals):
   * keep those mentions live so the reader sees who to ask. Anything else is escaped.
   */
  mentions?: boolean | undefined;
  hint?: string | null | undefined;
  code?: string | null | undefined;
}

/**
 * What to do for errors that reach a view without their hint (an audit row keeps only the code).
 * Hints elsewhere come from the `RecoveryError` itself and are better; these are the fallback.
 */
const HINTS: Partial<Record<string, string>> = {
  [ErrorCode.InvalidId]: 'Ids are 1–128 letters, digits, `_` or `-`, e.g. `c-7f3a9e`.',
  [ErrorCode.NotFound]: 'Run `inspect <id>` to see which tier has a copy.',
  [ErrorCode.SourceInvalid]:
    'Nothing was written. Run `validate <id>` and restore from a tier with a valid copy.',
  [ErrorCode.TierUnreachable]: 'Try again when the tier answers, or use another tier.',
  [ErrorCode.Conflict]:
    'Nothing was written. Check whether Zeus is writing to the conversation, then make a fresh preview.',
  [ErrorCode.Locked]: 'Another restore of this conversation is running; wait for it, then inspect again.',
  [ErrorCode.BackupNotFound]: 'Check the backup id in the restore result.',
  [ErrorCode.ValidationFailed]:
    'Inspect the conversation; the previous value is in the backup, undo if needed.',
  [ErrorCode.Stale]: 'Nothing was written. Make a fresh preview and decide on that.',
  [ErrorCode.Forbidden]: 'Ask someone on the approver list.',
  [ErrorCode.ZeusApi]: 'Check Zeus’s status and try again.',
  [ErrorCode.OutcomeUnknown]:
    'Run `inspect <id>` to see what Redis holds now, before anything else; the previous value is in the backup.',
  [ErrorCode.Busy]: 'Try again in a few seconds. Approve, deny and cancel still work.',
  [ErrorCode.Internal]: 'Try again; if it keeps failing, use the CLI and tell the bot’s owners.',
};

export function hintForCode(errorCode: string | null | undefined): string | null {
  return (errorCode && HINTS[errorCode]) || null;
}

/**
 * An error for the person who ran the command (ephemeral): what happened, then what to do. Hints
 * are app-written mrkdwn with code spans; `&`, `<`, `>` are escaped anyway since they may quote
 * user input.
 */
export function errorView(err: ErrorLike): EphemeralMessage {
  const hint = err.hint || hintForCode(err.code);
  const text = err.mentions ? escapeExceptMentions(err.message) : escapeMrkdwn(err.message);
  const blocks: KnownBlock[] = [section(`❌ ${text}${hint ? `\n*What to do:* ${escapeMrkdwn(hint)}` : ''}`)];
  if (err.code) blocks.push(context(`Error code ${code(err.code)}`));
  return ephemeral(message(`❌ ${text}${hint ? ` ${escapeMrkdwn(hint)}` : ''}`, blocks));
}

/**
 * The answer to a command refused for load, as the ack itself: nothing was started, so running
 * it again in a few seconds is safe.
 */
export function busyView(): EphemeralMessage {
  return errorView({
    message: 'zeus-recover is busy — too many commands at once; this one was not started.',
    code: ErrorCode.Busy,
  });
}

/** `^inc-` → `#inc-1234`; null when the pattern has no plain literal prefix to build on. */
function exampleChannel(pattern: string): string | null {
  const literal = /^\^([a-z0-9][a-z0-9_-]*)/.exec(pattern);
  return literal ? `#${literal[1]}1234` : null;
}

export function notIncidentChannelView(pattern: string): EphemeralMessage {
  const example = exampleChannel(pattern);
  const where = `incident channels (names matching ${code(pattern)})${example ? `, e.g. ${escapeMrkdwn(example)}` : ''}`;
  return ephemeral(
    message(`/zeus-recover works only in ${where}.`, [
      section(`⛔ \`/zeus-recover\` works only in ${where}.`),
      context(
        'Run it in the incident’s channel, so the whole response team sees the recovery and its audit trail.',
      ),
    ]),
  );
}

/** The label of a close-match button; the thread's echo of the click repeats it. */
export function inspectButtonLabel(id: string): string {
  return clip(`Inspect ${id}`, 75);
}

/**
 * An error with a button per id the person may have meant ("no tier holds c-x"): a click
 * inspects it instead of retyping the command.
 */
export function errorWithInspectButtons(err: ErrorLike, ids: readonly string[]): EphemeralMessage {
  const view = errorView(err);
  if (ids.length === 0) return view;
  const buttons: KnownBlock = {
    type: 'actions',
    block_id: 'inspect_close_matches',
    elements: ids.slice(0, 5).map((id) => ({
      type: 'button',
      action_id: ACTION.inspectId,
      text: plain(inspectButtonLabel(id)),
      value: id,
    })),
  };
  return { ...view, blocks: [...view.blocks, buttons] };
}
