import { ErrorCode } from '@slack/web-api';
import { describe, expect, it } from 'vitest';
import { classifySlackError } from '../../src/slack/delivery.js';

/**
 * Whether a failed chat.postMessage may still have posted decides whether the delivery worker
 * looks in Slack before posting again. Shapes as @slack/web-api 8 throws them (fetch-based).
 */

const requestError = (original: unknown) => ({ code: ErrorCode.RequestError, original });
const socketError = (code: string) => requestError(new TypeError('fetch failed', { cause: { code } }));

describe('classifySlackError: may Slack have acted anyway?', () => {
  it.each<[string, unknown, string, boolean]>([
    [
      'client timeout',
      requestError(new DOMException('timed out', 'TimeoutError')),
      'request_error: timeout',
      true,
    ],
    ['connection reset', socketError('ECONNRESET'), 'request_error: ECONNRESET', true],
    ['socket closed mid-answer', socketError('UND_ERR_SOCKET'), 'request_error: UND_ERR_SOCKET', true],
    ['HTTP 503', { code: ErrorCode.HTTPError, statusCode: 503 }, 'http_503', true],
    ['HTTP 504 from a proxy', { code: ErrorCode.HTTPError, statusCode: 504 }, 'http_504', true],
    [
      'Slack internal_error',
      { code: ErrorCode.PlatformError, data: { error: 'internal_error' } },
      'internal_error',
      true,
    ],
    ['something else thrown', new Error('boom'), 'unexpected: Error', true],
    ['connection refused', socketError('ECONNREFUSED'), 'request_error: ECONNREFUSED', false],
    ['no such host', socketError('ENOTFOUND'), 'request_error: ENOTFOUND', false],
    ['HTTP 400', { code: ErrorCode.HTTPError, statusCode: 400 }, 'http_400', false],
    [
      'Slack service_unavailable',
      { code: ErrorCode.PlatformError, data: { error: 'service_unavailable' } },
      'service_unavailable',
      false,
    ],
  ])('%s', (_, err, error, ambiguous) => {
    expect(classifySlackError(err)).toEqual({ type: 'transient', error, ambiguous });
  });

  it('refusals are never ambiguous: rate limits, blocked channels, refused content', () => {
    expect(classifySlackError({ code: ErrorCode.RateLimitedError, retryAfter: 3 })).toMatchObject({
      type: 'rate_limited',
      retryAfterMs: 3000,
    });
    expect(classifySlackError({ code: ErrorCode.PlatformError, data: { error: 'not_in_channel' } })).toEqual({
      type: 'blocked',
      error: 'not_in_channel',
    });
    expect(classifySlackError({ code: ErrorCode.PlatformError, data: { error: 'invalid_blocks' } })).toEqual({
      type: 'content',
      error: 'invalid_blocks',
    });
  });
});
