/**
 * Everything a user, a store or a config file supplies is shown literally: `<!channel>` in a
 * reason must not ping a channel and `<https://evil|click>` must not hide where a link goes.
 * Slack only gives `&`, `<` and `>` special meaning, so those three are all we encode; `*bold*`
 * in a reason may render bold, which is harmless.
 */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** One line: newlines would break list layouts and let text impersonate our own lines. */
export function oneLine(text: string): string {
  return text.replace(/\s*[\r\n]+\s*/g, ' ').trim();
}

/**
 * Free text as one escaped line of at most `max` characters. Clipped before the regexes run,
 * so a 10 MB finding from a broken store costs no more than a short one.
 */
export function line(text: string, max: number): string {
  const short = oneLine(text.slice(0, max * 2));
  return escapeMrkdwn(short.length <= max ? short : `${short.slice(0, max - 1).trimEnd()}…`);
}

/** An inline code span that user text cannot close early (Slack has no backtick escape). */
export function code(text: string): string {
  const body = oneLine(text).replace(/`/g, 'ˋ');
  return `\`${escapeMrkdwn(body === '' ? ' ' : body)}\``;
}

const SLACK_USER = /^(?:slack:)?([UW][A-Z0-9]{2,30})$/;

/**
 * An audit actor or Slack user id as people should see it: a real mention for Slack users
 * (`slack:U123` or `U123`), the OS user for CLI runs, and anything else literally.
 */
export function userRef(actor: string): string {
  const slack = SLACK_USER.exec(actor);
  if (slack) return `<@${slack[1]}>`;
  if (actor.startsWith('cli:')) return `${escapeMrkdwn(oneLine(actor.slice(4)))} (CLI)`;
  if (actor === 'system') return 'the bot';
  return escapeMrkdwn(oneLine(actor));
}

const ALLOWED_MENTION = /<@[UW][A-Z0-9]{2,30}>|<!subteam\^[A-Z0-9]{2,30}(?:\|[^<>&\r\n]{1,80})?>/g;

/** Like escapeMrkdwn, but `&amp;`, `&lt;` and `&gt;` already in the text stay as they are. */
function escapeOnce(text: string): string {
  return text
    .replace(/&(?!(?:amp|lt|gt);)/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;');
}

/**
 * For app-built text that may name approvers (`<@U…>`, `<!subteam^S…>`): those mentions stay
 * live so approvers get notified; everything else, including `<!channel>` and links, is escaped.
 * User text inside it was escaped by whoever built it (a deny reason in approval-refusals.ts),
 * so entities already there are kept: escaping them again would show `&amp;` to the reader.
 */
export function escapeExceptMentions(text: string): string {
  let out = '';
  let last = 0;
  for (const m of text.matchAll(ALLOWED_MENTION)) {
    out += escapeOnce(text.slice(last, m.index)) + m[0];
    last = m.index + m[0].length;
  }
  return out + escapeOnce(text.slice(last));
}
