/**
 * The command grammar's public face: the text after `/zeus-recover` and the recovery form both
 * become a `ParsedCommand`. Each job has its own file: tokenizer.ts splits the text in one
 * pass, src/slack-verbs.ts holds the Slack face of the verb table, arguments.ts and values.ts check what
 * follows a verb, suggestions.ts writes the "did you mean", parse-command.ts puts them together,
 * modal-validation.ts checks the form.
 */

export { USAGE_LINES, usageText } from '../slack-verbs.js';
export { validateModalSubmission } from './modal-validation.js';
export { normaliseText } from './normalise-text.js';
export { MAX_COMMAND_LENGTH, parseCommand } from './parse-command.js';
export {
  type CommandError,
  type ExportTier,
  type GrammarOptions,
  isCommandError,
  type ParsedCommand,
  type SlackRestoreSource,
  type ThreadCommand,
} from './parsed-command.js';
export { editDistance } from './suggestions.js';
export { type Scan, scanCommand, type Token } from './tokenizer.js';
export { parseStep } from './values.js';
