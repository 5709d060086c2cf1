import { type Logger, WebClient, WebClientEvent } from '@slack/web-api';
import { ErrorCode, RecoveryError } from '../errors.js';
import { classifySlackError } from './delivery.js';

/** A file for an incident thread (an export). */
export interface ThreadUpload {
  channelId: string;
  threadTs: string;
  conversationId: string;
  filename: string;
  bytes: Buffer;
}

/** Each of the three calls gets this long: a hung Slack fails the export instead of holding it. */
export const UPLOAD_TIMEOUT_MS = 30_000;

/**
 * Uploads to a thread in Slack's three steps, each with a deadline. The first two (an upload
 * address, then the bytes to it) show nothing to anyone, so they may be tried again; the third
 * (files.completeUploadExternal) shares the file, and asked again after an answer was lost
 * (a timeout, a reset, a 5xx after Slack took it) it can share the file twice. So it is sent
 * once, and an unclear answer is reported as such rather than retried.
 */
export function createThreadUploader(
  token: string,
  options: {
    slackApiUrl?: string;
    timeoutMs?: number;
    logger?: Logger;
    /** Told of each rate-limited call (its method), as the bot's own client is. */
    onRateLimited?: (method: string) => void;
  } = {},
): (file: ThreadUpload) => Promise<void> {
  const timeoutMs = options.timeoutMs ?? UPLOAD_TIMEOUT_MS;
  const common = {
    ...(options.slackApiUrl ? { slackApiUrl: options.slackApiUrl } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    timeout: timeoutMs,
  };
  const retrying = new WebClient(token, {
    ...common,
    retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 2000 },
  });
  const once = new WebClient(token, { ...common, retryConfig: { retries: 0 } });
  for (const client of [retrying, once]) {
    client.on(WebClientEvent.RATE_LIMITED, (_retryAfter: number, { url }: { url: string }) =>
      options.onRateLimited?.(url.split('/').pop() ?? 'unknown'),
    );
  }

  return async ({ channelId, threadTs, conversationId, filename, bytes }) => {
    const again = `Try the export again in a minute, or use the CLI: \`zeus-recover export ${conversationId}\`.`;
    const notShared = (step: string, err: unknown, reason: string) =>
      new RecoveryError(
        ErrorCode.Internal,
        `Slack did not take the ${step} for ${filename} (${reason}); nothing was shared.`,
        again,
        {
          cause: err,
        },
      );

    let target: { uploadUrl: string; fileId: string };
    try {
      const res = await retrying.files.getUploadURLExternal({ filename, length: bytes.length });
      if (!res.upload_url || !res.file_id) throw new Error('no upload_url or file_id in the answer');
      target = { uploadUrl: res.upload_url, fileId: res.file_id };
    } catch (err) {
      throw notShared('upload request', err, classifySlackError(err).error);
    }

    try {
      const res = await fetch(target.uploadUrl, {
        method: 'POST',
        body: new Uint8Array(bytes),
        headers: { 'content-type': 'application/octet-stream' },
        signal: AbortSignal.timeout(timeoutMs),
      });
      await res.arrayBuffer();
      if (res.status !== 200) throw new Error(`HTTP ${res.status}`);
    } catch (err) {
      throw notShared('file bytes', err, err instanceof Error ? err.message : String(err));
    }

    try {
      await once.files.completeUploadExternal({
        files: [{ id: target.fileId, title: filename }],
        channel_id: channelId,
        thread_ts: threadTs,
      });
    } catch (err) {
      const failure = classifySlackError(err);
      if (failure.type === 'transient' && failure.ambiguous) {
        throw new RecoveryError(
          ErrorCode.Internal,
          `Slack gave no clear answer when sharing ${filename} (${failure.error}); it may have shared it anyway.`,
          `Look in the thread before exporting again; if it is not there, ${again.charAt(0).toLowerCase()}${again.slice(1)}`,
          { cause: err },
        );
      }
      throw notShared('share', err, failure.error);
    }
  };
}
