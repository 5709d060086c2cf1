import type { RestoreSource } from '../recovery/sources.js';

/**
 * What the `/zeus-recover` grammar and the recovery form produce. Every string in a
 * `CommandError` or in form errors is plain text with backtick code spans; user input in it is
 * shortened and stripped of newlines and backticks, but `&`, `<` and `>` are NOT escaped —
 * whoever puts it into mrkdwn escapes it (once).
 */

/** Slack has no files on the bot, so `file:` (a CLI-only source) can never come out of Slack. */
export type SlackRestoreSource = Exclude<RestoreSource, { kind: 'file' }>;
export type ExportTier = 'redis' | 'postgres' | 's3';

/** Commands whose story goes to the conversation's incident thread (through the workflow). */
export type ThreadCommand =
  | { kind: 'inspect'; id: string }
  | { kind: 'validate'; id: string }
  | { kind: 'diff'; id: string; source: SlackRestoreSource }
  | { kind: 'restore'; id: string; source: SlackRestoreSource; reason: string | null }
  | { kind: 'undo'; backupId: string; reason: string | null }
  | { kind: 'export'; id: string; tier: ExportTier }
  | { kind: 'replay'; id: string; fromStep: number; reason: string | null };

/** Everything the text grammar can mean; help, the form and list are answered privately. */
export type ParsedCommand =
  | { kind: 'help' }
  | { kind: 'modal' }
  | { kind: 'list'; pattern: string | null }
  | ThreadCommand;

export interface CommandError {
  kind: 'error';
  /** What exactly is wrong, in one or two sentences. */
  message: string;
  /** The closest valid command, ready to copy (starts with `/zeus-recover`), or null. */
  suggestion: string | null;
  /** The usage line of the verb concerned, or the whole grammar when the verb is unknown. */
  usage: string;
}

export interface GrammarOptions {
  idPattern: RegExp;
}

export function isCommandError(value: ParsedCommand | CommandError): value is CommandError {
  return value.kind === 'error';
}
