/**
 * Every failure a user can meet carries a stable code (for machines, metrics and tests) and a
 * hint that says what to do next (for the person at 3 a.m.). The cause goes to the log only.
 */
export const ErrorCode = {
  InvalidId: 'invalid_id',
  InvalidInput: 'invalid_input',
  Config: 'config_error',
  NotFound: 'not_found',
  /** The wanted state already holds (Redis has exactly that copy): nothing was done, and nothing is wrong with the command. */
  NothingToDo: 'nothing_to_do',
  SourceInvalid: 'source_invalid',
  TierUnreachable: 'tier_unreachable',
  Conflict: 'conflict',
  Locked: 'restore_in_progress',
  BackupNotFound: 'backup_not_found',
  ValidationFailed: 'validation_failed',
  AuditBroken: 'audit_broken',
  Forbidden: 'forbidden',
  RequestState: 'request_state',
  Stale: 'stale_preview',
  ZeusApi: 'zeus_api_error',
  /**
   * A write was sent but whether it landed could not be settled (Redis holds neither the old nor
   * the new value, or could not be read back): a person must look before anything else is done.
   */
  OutcomeUnknown: 'outcome_unknown',
  /** Too much load on this replica right now (its connections are taken): try again shortly. */
  Busy: 'busy',
  Internal: 'internal_error',
} as const;
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode];

export class RecoveryError extends Error {
  readonly code: ErrorCode;
  readonly hint: string;
  readonly details: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    hint: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'RecoveryError';
    this.code = code;
    this.hint = hint;
    this.details = options.details ?? {};
  }

  /** One line for a person: what happened, then what to do. */
  toUserText(): string {
    return `${this.message} ${this.hint}`.trim();
  }
}

export function isRecoveryError(err: unknown): err is RecoveryError {
  return err instanceof RecoveryError;
}

export function errorMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}
