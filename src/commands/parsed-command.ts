import type { BulkCommand, ThreadCommand } from '../workflow/command.js';

/**
 * What the `/zeus-recover` grammar and the recovery form produce. Every string in a
 * `CommandError` or in form errors is plain text with backtick code spans; user input in it is
 * shortened and stripped of newlines and backticks, but `&`, `<` and `>` are NOT escaped —
 * whoever puts it into mrkdwn escapes it (once).
 */

// The commands the workflow runs are its own type; the grammar produces them.
export type {
  ExportTier,
  ThreadCommand,
  ThreadRestoreSource as SlackRestoreSource,
} from '../workflow/command.js';

/** Everything the text grammar can mean; help, the form and list are answered privately. */
export type ParsedCommand =
  | { kind: 'help' }
  | { kind: 'modal' }
  | { kind: 'list'; pattern: string | null }
  | ThreadCommand
  | BulkCommand
  /** Asks to close the circuit breaker (docs/approval-policies.md); another person approves. */
  | { kind: 'breaker-reset'; reason: string };

export interface CommandError {
  kind: 'error';
  /** What exactly is wrong, in one or two sentences. */
  message: string;
  /** The closest valid command, ready to copy (starts with `/zeus-recover`), or null. */
  suggestion: string | null;
  /** The usage line of the verb concerned, or '' when no verb is known (help lists them all). */
  usage: string;
}

export interface GrammarOptions {
  idPattern: RegExp;
  /** A reason given outside the text (the reason form); `--reason` in the text wins. */
  reason?: string | undefined;
}

export function isCommandError(value: ParsedCommand | CommandError): value is CommandError {
  return value.kind === 'error';
}
