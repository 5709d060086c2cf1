import { ErrorCode, RecoveryError } from '../errors.js';

/** Default conversation id rule from design.md: 1–128 of [A-Za-z0-9_-], first alphanumeric. */
export const DEFAULT_ID_PATTERN = '^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$';

export function compileIdPattern(source: string): RegExp {
  return new RegExp(source);
}

/** Printable form of a refused id: hostile input must not break the message that refuses it. */
function describe(id: string): string {
  const shown = id.length > 40 ? `${id.slice(0, 40)}…` : id;
  return JSON.stringify(shown);
}

/**
 * Refuses anything that is not a plain conversation id before any store sees it: keys are
 * built from ids, so `*`, `../x`, spaces or newlines would otherwise reach SCAN patterns,
 * S3 keys and logs.
 */
export function assertConversationId(
  id: unknown,
  pattern: RegExp = compileIdPattern(DEFAULT_ID_PATTERN),
): string {
  if (typeof id !== 'string' || id.length === 0) {
    throw new RecoveryError(
      ErrorCode.InvalidId,
      'No conversation id was given.',
      'Pass the id as it appears in Zeus, e.g. `c-7f3a9e`.',
    );
  }
  // Length is checked separately so a configured pattern cannot accidentally lift the bound.
  if (id.length > 128 || !pattern.test(id) || /[\r\n]/.test(id)) {
    throw new RecoveryError(
      ErrorCode.InvalidId,
      `${describe(id)} is not a valid conversation id.`,
      'Ids are 1–128 characters of letters, digits, `_` and `-`, starting with a letter or digit (e.g. `c-7f3a9e`).',
      { details: { length: id.length } },
    );
  }
  return id;
}
