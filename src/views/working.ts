import { code, escapeMrkdwn } from './escape.js';
import { context, type EphemeralMessage, ephemeral, message, section } from './slack.js';

/**
 * The private notes around a command whose story goes to the thread: "working on it" at once,
 * then, in its place (response_url, replace_original), a link to the thread message. Only one
 * note per command stays, so the channel does not fill up with them.
 */

/** `what`: the command as typed after the slash command, e.g. `inspect c-lost`. */
export function workingNote(what: string): EphemeralMessage {
  const text = `⏳ Working on ${code(what)}… the result goes to the incident thread.`;
  return ephemeral(message(text, [context(text)]));
}

/** A bulk restore or resume: its preview, approval and progress go to the job's own thread. */
export function bulkWorkingNote(what: string): EphemeralMessage {
  const text = `⏳ Working on ${code(what)}… the preview and approval go to the job's thread.`;
  return ephemeral(message(text, [context(text)]));
}

/** A permalink as Slack returns it; anything else is not put in a link. */
function safeLink(link: string | null | undefined): string | null {
  return link && /^https?:\/\/[^\s|<>]+$/.test(link) ? link : null;
}

/** `done`: the workflow's plain sentence, e.g. "Inspected c-lost; the report is in the incident thread." */
export function postedNote(
  done: string,
  link: string | null | undefined,
): EphemeralMessage & { replace_original: true } {
  const url = safeLink(link);
  const text = url ? `✅ ${escapeMrkdwn(done)} <${url}|Open it in the thread>` : `✅ ${escapeMrkdwn(done)}`;
  return { ...ephemeral(message(text, [section(text)])), replace_original: true };
}
