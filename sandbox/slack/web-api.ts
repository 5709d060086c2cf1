import { checkBlocks, checkHomeView, checkView } from './block-kit.js';
import {
  type Json,
  type ResponseTarget,
  randomId,
  type SandboxMessage,
  type Workspace,
  withIds,
} from './workspace.js';

/**
 * Slack's Web API methods the bot calls, answered from the in-memory workspace with Slack's own
 * response shapes and error codes (`channel_not_found`, `invalid_blocks`, `expired_trigger_id`, …).
 * @slack/web-api POSTs form-encoded bodies with object arguments JSON-encoded, to `<base>/<method>`.
 * The one implementation, for the demo and for every test that needs a Slack.
 */

export type ApiResult = Json & { ok: boolean };

export interface ApiContext {
  ws: Workspace;
  /** `http://127.0.0.1:PORT`, for upload and permalink URLs. */
  origin: string;
}

const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

function str(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function bool(value: unknown): boolean {
  return value === true || value === 'true' || value === '1' || value === 1;
}

/** Fields @slack/web-api sends as JSON strings inside a form body. */
const JSON_FIELDS = new Set([
  'blocks',
  'attachments',
  'view',
  'files',
  'metadata',
  'unfurls',
  'user_auth_blocks',
]);

export function decodeField(key: string, value: string): unknown {
  if (!JSON_FIELDS.has(key)) return value;
  const trimmed = value.trimStart();
  if (!trimmed.startsWith('[') && !trimmed.startsWith('{')) return value;
  try {
    return JSON.parse(value) as unknown;
  } catch {
    return value;
  }
}

function invalidBlocks(problems: string[]): ApiResult {
  return {
    ok: false,
    error: 'invalid_blocks',
    response_metadata: { messages: problems },
  };
}

function hasContent(args: Json): boolean {
  const text = str(args.text);
  return (text !== undefined && text !== '') || Array.isArray(args.blocks) || Array.isArray(args.attachments);
}

function subtype(m: SandboxMessage): string | undefined {
  if (m.files.length > 0) return 'file_share';
  if (m.threadTs !== null && m.replyBroadcast) return 'thread_broadcast';
  return m.botId === null ? undefined : 'bot_message';
}

export function messageJson(ws: Workspace, m: SandboxMessage, withMetadata = false): Json {
  const sub = subtype(m);
  return {
    type: 'message',
    ...(sub === undefined ? {} : { subtype: sub }),
    ...(m.botId === null ? {} : { bot_id: m.botId, app_id: ws.options.appId }),
    ...(withMetadata && m.metadata ? { metadata: m.metadata } : {}),
    text: m.text,
    user: m.user,
    ts: m.ts,
    team: ws.options.teamId,
    ...(m.threadTs === null ? {} : { thread_ts: m.threadTs }),
    ...(m.blocks === null ? {} : { blocks: m.blocks }),
    ...(m.edits > 0 ? { edited: { user: m.user, ts: m.ts } } : {}),
  };
}

function postMessage(ctx: ApiContext, args: Json): ApiResult {
  const { ws } = ctx;
  const channel = ws.postChannel(str(args.channel) ?? '');
  if (!channel) return { ok: false, error: 'channel_not_found' };
  if (!hasContent(args)) return { ok: false, error: 'no_text' };
  if (args.blocks !== undefined) {
    const problems = checkBlocks(args.blocks, 'message');
    if (problems.length > 0) return invalidBlocks(problems);
  }
  const text = str(args.text) ?? '';
  if (text.length > 40_000) return { ok: false, error: 'msg_too_long' };
  let threadTs = str(args.thread_ts) ?? null;
  if (threadTs === '') threadTs = null;
  if (threadTs !== null) {
    const parent = ws.message(channel.id, threadTs);
    if (!parent) return { ok: false, error: 'thread_not_found' };
    // Slack files a reply to a reply under the thread's parent.
    threadTs = parent.threadTs ?? parent.ts;
  }
  const bot = ws.options.bot;
  const stored = ws.addMessage({
    channel: channel.id,
    threadTs,
    user: bot.id,
    botId: bot.botId,
    text,
    blocks: Array.isArray(args.blocks) ? withIds(args.blocks) : null,
    replyBroadcast: threadTs !== null && bool(args.reply_broadcast),
    files: [],
    metadata:
      isJson(args.metadata) &&
      typeof args.metadata.event_type === 'string' &&
      isJson(args.metadata.event_payload)
        ? { event_type: args.metadata.event_type, event_payload: args.metadata.event_payload }
        : null,
  });
  return { ok: true, channel: channel.id, ts: stored.ts, message: messageJson(ws, stored) };
}

/** Slack ts as a number of microseconds, for ordering and `oldest`/`latest`. */
function tsMicros(ts: string): number {
  const [seconds = '0', fraction = '0'] = ts.split('.');
  return Number(seconds) * 1_000_000 + Number(fraction.padEnd(6, '0').slice(0, 6));
}

/**
 * conversations.history (top level and broadcast replies, newest first) and conversations.replies
 * (the parent, then its replies oldest first), within `oldest`/`latest`, a cursor's page at a
 * time. The bot asks only after a post whose answer was lost, to find it by its metadata.
 */
function conversationMessages(ctx: ApiContext, args: Json, method: 'history' | 'replies'): ApiResult {
  const { ws } = ctx;
  const channel = ws.channel(str(args.channel) ?? '');
  if (!channel) return { ok: false, error: 'channel_not_found' };
  const inclusive = bool(args.inclusive);
  const oldest = str(args.oldest);
  const latest = str(args.latest);
  const inRange = (ts: string) => {
    const t = tsMicros(ts);
    const lo = oldest ? tsMicros(oldest) : Number.NEGATIVE_INFINITY;
    const hi = latest ? tsMicros(latest) : Number.POSITIVE_INFINITY;
    return inclusive ? t >= lo && t <= hi : t > lo && t < hi;
  };
  let found: SandboxMessage[];
  if (method === 'history') {
    found = ws
      .messages()
      .filter((m) => m.channel === channel.id && (m.threadTs === null || m.replyBroadcast) && inRange(m.ts))
      .sort((a, b) => tsMicros(b.ts) - tsMicros(a.ts));
  } else {
    const parent = ws.message(channel.id, str(args.ts) ?? '');
    if (!parent) return { ok: false, error: 'thread_not_found' };
    const replies = ws
      .messages()
      .filter((m) => m.channel === channel.id && m.threadTs === parent.ts && inRange(m.ts))
      .sort((a, b) => tsMicros(a.ts) - tsMicros(b.ts));
    found = [parent, ...replies];
  }
  const limit = Math.min(Math.max(Number(str(args.limit) ?? 100) || 100, 1), 999);
  const cursor = str(args.cursor);
  const start = cursor ? Number(Buffer.from(cursor, 'base64url').toString()) : 0;
  if (!Number.isInteger(start) || start < 0) return { ok: false, error: 'invalid_cursor' };
  const more = start + limit < found.length;
  const withMetadata = bool(args.include_all_metadata);
  return {
    ok: true,
    messages: found.slice(start, start + limit).map((m) => messageJson(ws, m, withMetadata)),
    has_more: more,
    response_metadata: { next_cursor: more ? Buffer.from(String(start + limit)).toString('base64url') : '' },
  };
}

function update(ctx: ApiContext, args: Json): ApiResult {
  const { ws } = ctx;
  const channel = ws.postChannel(str(args.channel) ?? '');
  if (!channel) return { ok: false, error: 'channel_not_found' };
  const message = ws.message(channel.id, str(args.ts) ?? '');
  if (!message) return { ok: false, error: 'message_not_found' };
  if (message.botId !== ws.options.bot.botId) return { ok: false, error: 'cant_update_message' };
  if (args.blocks !== undefined) {
    const problems = checkBlocks(args.blocks, 'message');
    if (problems.length > 0) return invalidBlocks(problems);
  }
  const text = str(args.text);
  if (text !== undefined && text.length > 40_000) return { ok: false, error: 'msg_too_long' };
  // As in Slack: fields not sent are kept; `blocks: []` removes the blocks.
  if (text !== undefined) message.text = text;
  if (Array.isArray(args.blocks)) message.blocks = args.blocks.length === 0 ? null : withIds(args.blocks);
  message.edits++;
  ws.changed();
  return {
    ok: true,
    channel: channel.id,
    ts: message.ts,
    text: message.text,
    message: messageJson(ws, message),
  };
}

function postEphemeral(ctx: ApiContext, args: Json): ApiResult {
  const { ws } = ctx;
  const channel = ws.postChannel(str(args.channel) ?? '');
  if (!channel) return { ok: false, error: 'channel_not_found' };
  const user = ws.user(str(args.user) ?? '');
  if (!user || user.isBot) return { ok: false, error: 'user_not_in_channel' };
  if (!hasContent(args)) return { ok: false, error: 'no_text' };
  if (args.blocks !== undefined) {
    const problems = checkBlocks(args.blocks, 'message');
    if (problems.length > 0) return invalidBlocks(problems);
  }
  const threadTs = str(args.thread_ts);
  const parent = threadTs ? ws.message(channel.id, threadTs) : undefined;
  const stored = ws.addEphemeral({
    user: user.id,
    channel: channel.id,
    threadTs: parent ? (parent.threadTs ?? parent.ts) : null,
    from: 'app',
    text: str(args.text) ?? '',
    blocks: Array.isArray(args.blocks) ? withIds(args.blocks) : null,
  });
  return { ok: true, message_ts: stored.ts };
}

function openView(ctx: ApiContext, args: Json, mode: 'open' | 'push'): ApiResult {
  const triggerId = str(args.trigger_id);
  if (triggerId === undefined) return { ok: false, error: 'invalid_arguments' };
  const trigger = ctx.ws.takeTrigger(triggerId);
  if (trigger === 'expired') return { ok: false, error: 'expired_trigger_id' };
  if (trigger === 'invalid') return { ok: false, error: 'invalid_trigger_id' };
  if (!isJson(args.view)) return { ok: false, error: 'invalid_arguments' };
  const problems = checkView(args.view);
  if (problems.length > 0) {
    return { ok: false, error: 'invalid_arguments', response_metadata: { messages: problems } };
  }
  const opened = ctx.ws.openView(trigger.user, args.view, mode);
  if (opened === 'push_limit_reached') return { ok: false, error: 'push_limit_reached' };
  return { ok: true, view: { ...opened.view, hash: opened.hash } };
}

function updateView(ctx: ApiContext, args: Json): ApiResult {
  const { ws } = ctx;
  const viewId = str(args.view_id);
  const externalId = str(args.external_id);
  const open = viewId ? ws.findView(viewId) : externalId ? ws.findViewByExternalId(externalId) : undefined;
  if (!open) return { ok: false, error: 'not_found' };
  const hash = str(args.hash);
  if (hash !== undefined && hash !== open.hash) return { ok: false, error: 'hash_conflict' };
  if (!isJson(args.view)) return { ok: false, error: 'invalid_arguments' };
  const problems = checkView(args.view);
  if (problems.length > 0) {
    return { ok: false, error: 'invalid_arguments', response_metadata: { messages: problems } };
  }
  const updated = ws.updateView(open, args.view);
  return { ok: true, view: { ...updated.view, hash: updated.hash } };
}

/** views.publish: a person's Home tab, replaced whole; needs the user and a valid `home` view. */
function publishView(ctx: ApiContext, args: Json): ApiResult {
  const user = ctx.ws.user(str(args.user_id) ?? '');
  if (!user) return { ok: false, error: 'user_not_found' };
  if (!isJson(args.view)) return { ok: false, error: 'invalid_arguments' };
  const problems = checkHomeView(args.view);
  if (problems.length > 0) {
    return { ok: false, error: 'invalid_arguments', response_metadata: { messages: problems } };
  }
  return { ok: true, view: ctx.ws.publishHome(user.id, args.view) };
}

function userInfo(ctx: ApiContext, args: Json): ApiResult {
  const { ws } = ctx;
  const user = ws.user(str(args.user) ?? '');
  if (!user) return { ok: false, error: 'user_not_found' };
  return {
    ok: true,
    user: {
      id: user.id,
      team_id: ws.options.teamId,
      name: user.name,
      real_name: user.realName,
      deleted: false,
      is_bot: user.isBot,
      is_app_user: false,
      tz: 'Europe/Paris',
      profile: { display_name: user.name, real_name: user.realName, title: user.title },
    },
  };
}

function getUploadUrl(ctx: ApiContext, args: Json): ApiResult {
  const filename = str(args.filename);
  const length = Number(str(args.length));
  if (filename === undefined || filename === '' || !Number.isInteger(length) || length < 0) {
    return { ok: false, error: 'invalid_arguments' };
  }
  const id = `F${randomId(10).toUpperCase()}`;
  ctx.ws.addFile({
    id,
    filename,
    title: filename,
    length,
    bytes: null,
    completed: false,
    channel_id: null,
    thread_ts: null,
    initial_comment: null,
  });
  return { ok: true, upload_url: `${ctx.origin}/upload/${id}`, file_id: id };
}

function completeUpload(ctx: ApiContext, args: Json): ApiResult {
  const { ws } = ctx;
  const list = Array.isArray(args.files) ? args.files.filter(isJson) : [];
  if (list.length === 0) return { ok: false, error: 'invalid_arguments' };
  const files = [];
  for (const entry of list) {
    const file = ws.file(str(entry.id) ?? '');
    if (!file || file.bytes === null) return { ok: false, error: 'file_not_found' };
    const title = str(entry.title);
    if (title !== undefined) file.title = title;
    files.push(file);
  }
  const channelArg = str(args.channel_id);
  const channel = channelArg === undefined ? undefined : ws.postChannel(channelArg);
  if (channelArg !== undefined && !channel) return { ok: false, error: 'channel_not_found' };
  const threadTs = str(args.thread_ts) ?? null;
  if (channel && threadTs !== null && !ws.message(channel.id, threadTs))
    return { ok: false, error: 'thread_not_found' };
  const comment = str(args.initial_comment) ?? null;
  for (const file of files) {
    file.completed = true;
    file.channel_id = channel?.id ?? null;
    file.thread_ts = threadTs;
    file.initial_comment = comment;
  }
  if (channel) {
    // A shared file is a message of its own, in the thread when thread_ts is given.
    ws.addMessage({
      channel: channel.id,
      threadTs,
      user: ws.options.bot.id,
      botId: ws.options.bot.botId,
      text: comment ?? '',
      blocks: null,
      replyBroadcast: false,
      files: files.map((f) => ({ id: f.id, name: f.filename, size: f.bytes?.length ?? 0 })),
    });
  }
  return {
    ok: true,
    files: files.map((f) => ({
      id: f.id,
      name: f.filename,
      title: f.title,
      size: f.bytes?.length ?? 0,
      mimetype: 'application/octet-stream',
      permalink: `${ctx.origin}/files/${f.id}`,
    })),
  };
}

/** One Web API call, already authenticated; unknown methods answer `unknown_method` as Slack does. */
export function callApi(ctx: ApiContext, method: string, args: Json): ApiResult {
  const { ws } = ctx;
  const opts = ws.options;
  switch (method) {
    case 'api.test':
      return { ok: true, args };
    case 'auth.test':
      return {
        ok: true,
        url: `https://${opts.teamDomain}.slack.com/`,
        team: opts.teamName,
        user: opts.bot.name,
        team_id: opts.teamId,
        user_id: opts.bot.id,
        bot_id: opts.bot.botId,
        is_enterprise_install: false,
      };
    case 'chat.postMessage':
      return postMessage(ctx, args);
    case 'chat.update':
      return update(ctx, args);
    case 'chat.delete': {
      const channel = ws.postChannel(str(args.channel) ?? '');
      if (!channel) return { ok: false, error: 'channel_not_found' };
      const ts = str(args.ts) ?? '';
      const message = ws.message(channel.id, ts);
      if (!message) return { ok: false, error: 'message_not_found' };
      if (message.botId !== opts.bot.botId) return { ok: false, error: 'cant_delete_message' };
      ws.deleteMessage(channel.id, ts);
      return { ok: true, channel: channel.id, ts };
    }
    case 'chat.postEphemeral':
      return postEphemeral(ctx, args);
    case 'chat.getPermalink': {
      const channel = ws.postChannel(str(args.channel) ?? '');
      const ts = str(args.message_ts);
      if (!channel) return { ok: false, error: 'channel_not_found' };
      if (ts === undefined || !ws.message(channel.id, ts)) return { ok: false, error: 'message_not_found' };
      return {
        ok: true,
        channel: channel.id,
        permalink: `${ctx.origin}/archives/${channel.id}/p${ts.replace('.', '')}`,
      };
    }
    case 'views.open':
      return openView(ctx, args, 'open');
    case 'views.push':
      return openView(ctx, args, 'push');
    case 'views.update':
      return updateView(ctx, args);
    case 'views.publish':
      return publishView(ctx, args);
    case 'conversations.info': {
      const channel = ws.channel(str(args.channel) ?? '');
      if (!channel) return { ok: false, error: 'channel_not_found' };
      return {
        ok: true,
        channel: {
          id: channel.id,
          name: channel.name,
          // Ids say the kind, as Slack's do: C… public, G… private.
          is_channel: channel.id.startsWith('C'),
          is_group: channel.id.startsWith('G'),
          is_im: false,
          is_private: channel.id.startsWith('G'),
          is_archived: false,
          is_member: true,
          created: 1_700_000_000,
          topic: { value: channel.topic, creator: '', last_set: 0 },
        },
      };
    }
    case 'conversations.history':
      return conversationMessages(ctx, args, 'history');
    case 'conversations.replies':
      return conversationMessages(ctx, args, 'replies');
    case 'usergroups.users.list': {
      const group = ws.usergroup(str(args.usergroup) ?? '');
      if (!group) return { ok: false, error: 'no_such_subteam' };
      return { ok: true, users: [...group.members] };
    }
    case 'users.info':
      return userInfo(ctx, args);
    case 'files.getUploadURLExternal':
      return getUploadUrl(ctx, args);
    case 'files.completeUploadExternal':
      return completeUpload(ctx, args);
    default:
      return { ok: false, error: 'unknown_method' };
  }
}

/**
 * A POST to a response_url the local Slack handed out, as Slack applies it: replace or delete
 * the original, post in the channel, or (the default) show an ephemeral to the person.
 */
export function applyResponse(ws: Workspace, target: ResponseTarget, args: Json): void {
  const content = {
    text: str(args.text) ?? '',
    blocks: Array.isArray(args.blocks) ? withIds(args.blocks) : null,
  };
  const original = target.original;
  if (bool(args.delete_original)) {
    if (original?.kind === 'message') ws.deleteMessage(target.channel, original.ts);
    if (original?.kind === 'ephemeral') ws.dismissEphemeral(target.user, original.id);
    return;
  }
  if (bool(args.replace_original) && original) {
    if (original.kind === 'ephemeral') {
      ws.replaceEphemeral(original.id, content);
      return;
    }
    const message = ws.message(target.channel, original.ts);
    if (message) {
      message.text = content.text;
      message.blocks = content.blocks;
      message.edits++;
      ws.changed();
      return;
    }
  }
  if (args.response_type === 'in_channel') {
    postAsBot(ws, target.channel, target.threadTs, content);
    return;
  }
  const shown = ws.addEphemeral({
    user: target.user,
    channel: target.channel,
    threadTs: target.threadTs,
    from: 'app',
    ...content,
  });
  // A command answered with an empty ack: a later replace_original replaces this private answer.
  if (original === null) target.original = { kind: 'ephemeral', id: shown.id };
}

/** A message from the app itself (an in_channel answer), as chat.postMessage would store it. */
export function postAsBot(
  ws: Workspace,
  channel: string,
  threadTs: string | null,
  content: { text: string; blocks: Json[] | null },
): SandboxMessage {
  const bot = ws.options.bot;
  return ws.addMessage({
    channel,
    threadTs,
    user: bot.id,
    botId: bot.botId,
    ...content,
    replyBroadcast: false,
    files: [],
  });
}
