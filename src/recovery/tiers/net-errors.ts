/**
 * The socket-level reason a tier could not be reached, in words an SRE can act on
 * ("connection refused at 10.0.3.7:6379"), or null when the error is not a network one and the
 * adapter should explain it in its own terms.
 */
export function describeNetworkError(err: unknown): string | null {
  const e = (err instanceof AggregateError && err.errors[0] ? err.errors[0] : err) as Partial<
    NodeJS.ErrnoException & { address: string; port: number; hostname: string }
  >;
  const at = e?.address ? ` at ${e.address}${e.port ? `:${e.port}` : ''}` : '';
  switch (e?.code) {
    case 'ECONNREFUSED':
      return `connection refused${at}`;
    case 'ETIMEDOUT':
    case 'TimeoutError':
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
