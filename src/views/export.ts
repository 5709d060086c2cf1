import type { ExportRefusedData, ExportUploadedData } from './audit-data.js';
import { code, userRef } from './escape.js';
import { formatBytes, shortChecksum } from './format.js';
import { context, message, type SlackMessage, section } from './slack.js';

/** The note next to an exported file in the thread: what it is, and that it is the stored bytes. */
export function exportUploadedView(
  d: ExportUploadedData,
  conversationId: string,
  actor: string,
): SlackMessage {
  const head = `📎 ${userRef(actor)} exported ${code(conversationId)} from ${d.tier}: ${code(d.filename)}`;
  return message(`Exported ${conversationId} from ${d.tier}`, [
    section(head),
    context(
      `${formatBytes(d.bytes)} · checksum ${code(shortChecksum(d.checksum))} · the bytes exactly as stored`,
    ),
  ]);
}

/** Too large to upload to Slack: say so, and give the CLI command that does it. */
export function exportRefusedView(d: ExportRefusedData, conversationId: string): SlackMessage {
  const head = `📎 ${code(conversationId)} in ${d.tier} is ${formatBytes(d.bytes)}, above the ${formatBytes(d.limit)} limit for uploads to Slack.`;
  return message(`Export of ${conversationId} is too large for Slack`, [
    section(`${head}\nExport it with the CLI instead:\n${code(d.cli)}`),
  ]);
}
