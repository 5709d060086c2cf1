import type { WebClient } from '@slack/web-api';
import type { Logger } from '../log.js';

/**
 * Is this an incident channel? The slash-command payload names public channels; private ones
 * (and older payloads) may say `privategroup`, so those are looked up once and cached.
 */
export function incidentChannelCheck(opts: {
  pattern: string;
  client: Pick<WebClient, 'conversations'>;
  logger: Logger;
  cacheMs?: number;
}): (channelId: string, nameFromPayload: string | undefined) => Promise<boolean> {
  const regex = new RegExp(opts.pattern);
  const cache = new Map<string, { name: string; at: number }>();
  const cacheMs = opts.cacheMs ?? 10 * 60_000;
  return async (channelId, nameFromPayload) => {
    if (nameFromPayload && nameFromPayload !== 'privategroup' && nameFromPayload !== 'directmessage') {
      return regex.test(nameFromPayload);
    }
    const hit = cache.get(channelId);
    if (hit && Date.now() - hit.at < cacheMs) return regex.test(hit.name);
    try {
      const info = await opts.client.conversations.info({ channel: channelId });
      const name = info.channel?.name ?? '';
      cache.set(channelId, { name, at: Date.now() });
      return regex.test(name);
    } catch (err) {
      // Fail closed: a destructive tool must not run where we cannot tell the channel is right.
      opts.logger.warn(
        { err, channelId },
        'could not look up channel name; treating as not an incident channel',
      );
      return false;
    }
  };
}
