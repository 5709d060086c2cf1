import { RecoveryError } from '../../src/errors.js';

/**
 * The RecoveryError `p` rejects with. Anything else fails the test: resolving, or rejecting with
 * another error (rethrown as it is, so the test shows it).
 */
export async function recoveryError(p: Promise<unknown>): Promise<RecoveryError> {
  const outcome = await p.then(
    () => ({ rejected: false as const }),
    (err: unknown) => ({ rejected: true as const, err }),
  );
  if (!outcome.rejected) throw new Error('expected a RecoveryError, but it resolved');
  if (!(outcome.err instanceof RecoveryError)) throw outcome.err;
  return outcome.err;
}
