import { describe, expect, it } from 'vitest';
import { classifyNetworkError, describeNetworkError } from '../../src/net-errors.js';
import { freePort } from '../helpers/net.js';

const errno = (code: string, extra: Record<string, unknown> = {}) =>
  Object.assign(new Error(code), { code, ...extra });

describe('classifyNetworkError', () => {
  it('finds a refused connection inside the TypeError fetch throws, and knows nothing was sent', async () => {
    const port = await freePort();
    const err = await fetch(`http://127.0.0.1:${port}/`).then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(TypeError);
    expect(classifyNetworkError(err)).toEqual({
      code: 'ECONNREFUSED',
      timedOut: false,
      mayHaveReached: false,
      retryableUnsent: true,
    });
    expect(describeNetworkError(err)).toBe(`connection refused at 127.0.0.1:${port}`);
  });

  it('looks through a happy-eyeballs AggregateError to the first address that answered with a code', () => {
    const err = new AggregateError([
      new Error('no code'),
      errno('EHOSTUNREACH', { address: '::1', port: 443 }),
    ]);
    expect(classifyNetworkError(err).code).toBe('EHOSTUNREACH');
    expect(describeNetworkError(err)).toBe('host unreachable at ::1:443');
  });

  it('a reset or a cut answer may have reached the server; a name that does not resolve was never sent and stays so', () => {
    expect(classifyNetworkError(new TypeError('fetch failed', { cause: errno('ECONNRESET') }))).toMatchObject(
      {
        mayHaveReached: true,
        retryableUnsent: false,
      },
    );
    expect(classifyNetworkError(errno('UND_ERR_SOCKET')).mayHaveReached).toBe(true);
    expect(classifyNetworkError(errno('ENOTFOUND', { hostname: 'zeus.invalid' }))).toMatchObject({
      mayHaveReached: false,
      retryableUnsent: false,
    });
    expect(describeNetworkError(errno('ENOTFOUND', { hostname: 'zeus.invalid' }))).toBe(
      'host not found: zeus.invalid',
    );
  });

  it('a client timeout has no socket code: it timed out, and the request may have arrived', () => {
    const err = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    expect(classifyNetworkError(err)).toEqual({
      code: null,
      timedOut: true,
      mayHaveReached: true,
      retryableUnsent: false,
    });
    expect(classifyNetworkError(errno('UND_ERR_CONNECT_TIMEOUT')).mayHaveReached).toBe(false);
  });

  it('leaves an error that is not a network one to its caller', () => {
    expect(describeNetworkError(new Error('NOAUTH Authentication required'))).toBeNull();
    expect(describeNetworkError(errno('57P01'))).toBeNull();
    expect(classifyNetworkError(new Error('boom'))).toMatchObject({ code: null, timedOut: false });
  });
});
