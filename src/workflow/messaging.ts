import { sleep } from '../recovery/retry.js';
import type { AuditEntry, AuditEvent } from '../store/types.js';
import type { SlackMessage } from '../views/slack.js';

/**
 * What the workflow needs from the chat it tells its story in, and nothing more (Teleport's
 * access plugins call theirs MessagingBot). The composition root (server.ts) implements it with
 * the Slack Web API and the delivery worker; the workflow never holds a Slack client.
 *
 * A request's story goes to the conversation's incident thread through the audit log: an event
 * is appended with delivery to the thread, and the deliverer turns delivered entries into
 * messages. So the thread never says what the audit log does not hold, and a crash between the
 * two loses nothing (the deliverer picks up where it stopped).
 */
export interface MessagingPort {
  /** Appends `event` to the audit log for delivery to the incident thread in `channelId`, then wakes the deliverer. */
  postToThread(channelId: string, event: AuditEvent): Promise<AuditEntry>;
  /** Edits the message an audit entry was delivered as; false while it is not delivered yet. */
  updateDelivered(channelId: string, seq: number, message: SlackMessage): Promise<boolean>;
  /** Shares a file in the conversation's incident thread. */
  uploadFile(file: ThreadFile): Promise<void>;
  /** Wakes the deliverer so new audit entries reach the thread promptly. */
  wakeDeliverer(): void;
  /**
   * A link to the message an audit entry was delivered as, waiting up to `waitMs` for the
   * deliverer; null when it is not posted by then. Optional: a chat without links says "in the thread".
   */
  linkTo?(channelId: string, seq: number, waitMs: number): Promise<string | null>;
}

/**
 * Edits the message an audit entry is delivered as, waking the deliverer and trying again while
 * it is not posted yet (it usually is within a poll or two). False when it never was in `tries`.
 */
export async function editWhenDelivered(
  messaging: Pick<MessagingPort, 'updateDelivered' | 'wakeDeliverer'>,
  channelId: string,
  seq: number,
  message: SlackMessage,
  wait: { tries: number; ms: number },
): Promise<boolean> {
  for (let i = 0; i < wait.tries; i++) {
    if (await messaging.updateDelivered(channelId, seq, message)) return true;
    messaging.wakeDeliverer();
    if (i < wait.tries - 1) await sleep(wait.ms);
  }
  return false;
}

/**
 * How the chat's people and commands are written in the audit log (`slack:U123`,
 * `/zeus-recover inspect c-1`), so entries say which face they came through.
 */
export interface ChatNames {
  actor(userId: string): string;
  /** The command line for what the person typed after the command's name. */
  command(typed: string): string;
}

export interface ThreadFile {
  channelId: string;
  conversationId: string;
  filename: string;
  bytes: Buffer;
}
