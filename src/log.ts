import { type Logger, type LoggerOptions, pino } from 'pino';
import { currentLogContext } from './log-context.js';

/**
 * Paths pino censors wherever they appear in a log object. Tokens and secrets must never be
 * written, and neither may conversation content (it is customer data): the bot logs ids,
 * checksums and sizes, never `content`, `state`, `bytes` or message text typed by users.
 */
export const REDACT_PATHS = [
  'token',
  '*.token',
  'botToken',
  '*.botToken',
  'appToken',
  '*.appToken',
  'signingSecret',
  '*.signingSecret',
  'apiToken',
  '*.apiToken',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-slack-signature"]',
  'password',
  '*.password',
  'secret',
  '*.secret',
  'content',
  '*.content',
  'state',
  '*.state',
  'bytes',
  '*.bytes',
  'value',
  '*.value',
  'text',
  '*.text',
  'reason',
  '*.reason',
];

export function createLogger(
  level: string,
  destination?: NodeJS.WritableStream,
  base: Record<string, unknown> = {},
): Logger {
  const options: LoggerOptions = {
    level,
    base: { service: 'zeus-recover', ...base },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
    mixin: () => ({ ...currentLogContext() }),
  };
  return destination ? pino(options, destination as pino.DestinationStream) : pino(options);
}

export type { Logger };
