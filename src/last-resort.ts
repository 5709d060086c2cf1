/** What reached the process-wide handlers: nothing closer to the fault caught it. */
export type UnhandledKind = 'uncaught_exception' | 'unhandled_rejection';

/**
 * Node's default for an uncaught exception or an unhandled rejection is to end the process, and
 * with it every restore in flight on this replica (a lock held, Redis half way). A bot that
 * serves on-call engineers during an incident must not be taken down by one bad request or one
 * forgotten `.catch`: the fault is logged and counted (so it is seen and fixed) and the process
 * keeps serving. Returns the function that removes the handlers.
 */
export function installLastResort(
  proc: Pick<NodeJS.Process, 'on' | 'off'>,
  report: (kind: UnhandledKind, err: unknown) => void,
): () => void {
  const onException = (err: unknown) => safely(report, 'uncaught_exception', err);
  const onRejection = (reason: unknown) => safely(report, 'unhandled_rejection', reason);
  proc.on('uncaughtException', onException);
  proc.on('unhandledRejection', onRejection);
  return () => {
    proc.off('uncaughtException', onException);
    proc.off('unhandledRejection', onRejection);
  };
}

/** A report that throws here would be an uncaught exception of its own, reported again, forever. */
function safely(report: (kind: UnhandledKind, err: unknown) => void, kind: UnhandledKind, err: unknown) {
  try {
    report(kind, err);
  } catch (failure) {
    try {
      process.stderr.write(
        `zeus-recover: ${kind} (and reporting it failed: ${String(failure)}): ${String(err)}\n`,
      );
    } catch {
      // Nothing left to report with.
    }
  }
}
