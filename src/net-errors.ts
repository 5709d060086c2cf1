/**
 * The one reading of a failed network call, shared by the tier adapters, the Zeus client and the
 * Slack deliverer: which socket error it was (however deeply fetch, undici or a happy-eyeballs
 * AggregateError wrapped it), whether any byte of the request can have reached the server, and
 * the words an SRE can act on. Each caller keeps its own decision on top (retry, "Slack may have
 * posted it", "Zeus may have acted"), so a new code is taught here once.
 */

/** No byte of the request left this host: nothing can have been acted on. */
const NOT_SENT = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EADDRNOTAVAIL',
  'UND_ERR_CONNECT_TIMEOUT',
]);
/** Of those, the ones that will not fix themselves by trying again (a wrong host name, a bad local address). */
const NOT_SENT_PERMANENT = new Set(['ENOTFOUND', 'EADDRNOTAVAIL']);

type Errno = Partial<NodeJS.ErrnoException & { address: string; port: number; hostname: string }>;

export interface NetworkFailure {
  /** The socket error's code (`ECONNREFUSED`, `UND_ERR_SOCKET`, …), or null when none was found. */
  code: string | null;
  /** The call gave up waiting (an AbortSignal timeout, `ETIMEDOUT`). */
  timedOut: boolean;
  /** False only when nothing was sent; true also for "no answer", since the request may have arrived. */
  mayHaveReached: boolean;
  /** Nothing was sent and trying again may work (refused, no route, a DNS hiccup). */
  retryableUnsent: boolean;
}

/** The innermost-first error object carrying a string `code`, looking through `cause` and `errors`. */
function findErrno(err: unknown, depth = 0): Errno | null {
  if (depth >= 5 || !err || typeof err !== 'object') return null;
  if (typeof (err as { code?: unknown }).code === 'string') return err as Errno;
  // Happy-eyeballs connects (several addresses) fail with an AggregateError of per-address errors.
  const errors = (err as { errors?: unknown }).errors;
  if (Array.isArray(errors)) {
    for (const inner of errors) {
      const found = findErrno(inner, depth + 1);
      if (found) return found;
    }
  }
  return findErrno((err as { cause?: unknown }).cause, depth + 1);
}

function hasTimeoutName(err: unknown, depth = 0): boolean {
  if (depth >= 5 || !err || typeof err !== 'object') return false;
  const name = (err as { name?: unknown }).name;
  if (name === 'TimeoutError' || name === 'AbortError') return true;
  return hasTimeoutName((err as { cause?: unknown }).cause, depth + 1);
}

export function classifyNetworkError(err: unknown): NetworkFailure {
  const code = findErrno(err)?.code ?? null;
  const notSent = code !== null && NOT_SENT.has(code);
  return {
    code,
    timedOut: code === 'ETIMEDOUT' || code === 'TimeoutError' || (code === null && hasTimeoutName(err)),
    mayHaveReached: !notSent,
    retryableUnsent: notSent && !NOT_SENT_PERMANENT.has(code),
  };
}

/**
 * The socket-level reason a server could not be reached, in words an SRE can act on
 * ("connection refused at 10.0.3.7:6379"), or null when the error is not a network one and the
 * caller should explain it in its own terms.
 */
export function describeNetworkError(err: unknown): string | null {
  const e = findErrno(err);
  const at = e?.address ? ` at ${e.address}${e.port ? `:${e.port}` : ''}` : '';
  switch (e?.code) {
    case 'ECONNREFUSED':
      return `connection refused${at}`;
    case 'ETIMEDOUT':
    case 'TimeoutError':
    case 'UND_ERR_CONNECT_TIMEOUT':
      return `connection timed out${at}`;
    case 'ECONNRESET':
      return `connection reset by the server${at}`;
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return `host unreachable${at}`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `host not found${e.hostname ? `: ${e.hostname}` : ''}`;
    default:
      return null;
  }
}
