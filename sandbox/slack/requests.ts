import { createHmac } from 'node:crypto';
import { SLASH_COMMAND } from '../../src/slack-ids.js';

/**
 * What Slack sends to an app's Request URL (slash commands, clicks, modal submissions and
 * closes), built and signed exactly as Slack does, so the bot runs its production path (Bolt's
 * receiver verifies every request). The local Slack's page sends these for people; end-to-end
 * tests send them directly. Defaults match the local Slack's test workspace (team T_TEST,
 * channel C_INC "inc-42").
 */

type Json = Record<string, unknown>;

/** Slack gives up on an app that has not answered within 3 s and tells the user `operation_timeout`. */
export const SLACK_ACK_TIMEOUT_MS = 3000;

export const TEST_TEAM_ID = 'T_TEST';
export const TEST_TEAM_DOMAIN = 'zeus-test';
export const TEST_APP_ID = 'A_TEST';
/** The deprecated verification token Slack still sends; Bolt ignores it in favour of signatures. */
export const TEST_VERIFICATION_TOKEN = 'verification-token-unused';

export interface SignedRequest {
  /** Seconds since the epoch, as sent in `x-slack-request-timestamp`. */
  timestamp: string;
  /** `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{body}`. */
  signature: string;
}

/** Signs as Slack does (api.slack.com/authentication/verifying-requests-from-slack); `ts` defaults to now, in seconds. */
export function signRequest(
  secret: string,
  body: string,
  ts: number = Math.floor(Date.now() / 1000),
): SignedRequest {
  const timestamp = String(ts);
  const signature = `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
  return { timestamp, signature };
}

export interface SlashCommandInput {
  text: string;
  command?: string;
  user_id?: string;
  user_name?: string;
  channel_id?: string;
  channel_name?: string;
  team_id?: string;
  team_domain?: string;
  trigger_id?: string;
  response_url?: string;
  api_app_id?: string;
  token?: string;
  is_enterprise_install?: boolean;
}

let triggerSeq = 0;
/** Trigger ids look like `13345224609.738474920.8088930838d88f008e0`. */
export function newTriggerId(): string {
  triggerSeq++;
  return `${Date.now()}.${738474920 + triggerSeq}.${triggerSeq.toString(16).padStart(8, '0')}d88f008e0`;
}

/** Form-encoded, field by field as Slack posts a slash command. */
export function slashCommandBody(input: SlashCommandInput): string {
  const teamId = input.team_id ?? TEST_TEAM_ID;
  return new URLSearchParams([
    ['token', input.token ?? TEST_VERIFICATION_TOKEN],
    ['team_id', teamId],
    ['team_domain', input.team_domain ?? TEST_TEAM_DOMAIN],
    ['channel_id', input.channel_id ?? 'C_INC'],
    ['channel_name', input.channel_name ?? 'inc-42'],
    ['user_id', input.user_id ?? 'U_ALICE'],
    ['user_name', input.user_name ?? 'alice'],
    ['command', input.command ?? SLASH_COMMAND],
    ['text', input.text],
    ['api_app_id', input.api_app_id ?? TEST_APP_ID],
    ['is_enterprise_install', String(input.is_enterprise_install ?? false)],
    ['response_url', input.response_url ?? `https://hooks.slack.com/commands/${teamId}/1234/abcd`],
    ['trigger_id', input.trigger_id ?? newTriggerId()],
  ]).toString();
}

export type UserRef = string | { id: string; name?: string; team_id?: string };
export type ChannelRef = string | { id: string; name?: string };

function user(
  ref: UserRef,
  teamId = TEST_TEAM_ID,
): { id: string; username: string; name: string; team_id: string } {
  const u = typeof ref === 'string' ? { id: ref } : ref;
  const name = u.name ?? u.id.toLowerCase();
  return { id: u.id, username: name, name, team_id: u.team_id ?? teamId };
}

function channel(ref: ChannelRef): { id: string; name: string } {
  const c = typeof ref === 'string' ? { id: ref } : ref;
  return { id: c.id, name: c.name ?? (c.id === 'C_INC' ? 'inc-42' : c.id.toLowerCase()) };
}

/** Slack HTML-escapes these three in a slash command's text, whatever the app's settings. */
export function escapeCommandText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function payloadBody(payload: Json): string {
  return new URLSearchParams([['payload', JSON.stringify(payload)]]).toString();
}

/** Where a payload says it comes from: the workspace and the app. */
export interface TeamInput {
  team_id?: string;
  team_domain?: string;
  api_app_id?: string;
}

function teamOf(input: TeamInput): { id: string; domain: string; appId: string } {
  return {
    id: input.team_id ?? TEST_TEAM_ID,
    domain: input.team_domain ?? TEST_TEAM_DOMAIN,
    appId: input.api_app_id ?? TEST_APP_ID,
  };
}

export interface BlockActionsInput extends TeamInput {
  user: UserRef;
  /** The channel of the message clicked; not used for a click inside a modal (`view`). */
  channel: ChannelRef;
  /** ts of the message holding the element. */
  message_ts: string;
  action_id: string;
  value?: string;
  block_id?: string;
  /** Button label. */
  text?: string;
  /** The element clicked, as in its blocks; a button from action_id/text/value by default. */
  element?: Json;
  /** For selects: the option chosen. */
  selected_option?: Json | null;
  /** The thread the message is in, if it is a reply. */
  thread_ts?: string;
  /** Overrides the `container` Slack derives from channel/message_ts. */
  container?: Json;
  /** The message as Slack echoes it (text and blocks, or all of it); a minimal one by default. */
  message?: Json;
  /** An ephemeral message: Slack does not echo it back to the app. */
  is_ephemeral?: boolean;
  /** A click inside this open modal instead of on a message. */
  view?: Json;
  /** null: none (as for a click in a modal). */
  response_url?: string | null;
  trigger_id?: string;
}

/** `payload=<json>` of a click on an interactive element, as Slack posts `block_actions`. */
export function blockActionsBody(input: BlockActionsInput): string {
  const team = teamOf(input);
  const element = input.element ?? {
    type: 'button',
    action_id: input.action_id,
    text: { type: 'plain_text', text: input.text ?? input.action_id, emoji: true },
    ...(input.value === undefined ? {} : { value: input.value }),
  };
  const action: Json = {
    type: element.type,
    action_id: element.action_id ?? input.action_id,
    block_id: input.block_id ?? 'actions',
    action_ts: (Date.now() / 1000).toFixed(6),
  };
  if (element.type === 'button') {
    action.text = element.text;
    if (element.value !== undefined) action.value = element.value;
    if (element.style !== undefined) action.style = element.style;
  } else if (input.selected_option !== undefined) {
    action.selected_option = input.selected_option;
  }
  const payload: Json = {
    type: 'block_actions',
    user: user(input.user, team.id),
    api_app_id: team.appId,
    token: TEST_VERIFICATION_TOKEN,
    trigger_id: input.trigger_id ?? newTriggerId(),
    team: { id: team.id, domain: team.domain },
    enterprise: null,
    is_enterprise_install: false,
    state: { values: {} },
    actions: [action],
  };
  if (input.view !== undefined) {
    payload.container = input.container ?? { type: 'view', view_id: input.view.id };
    payload.view = input.view;
    if (input.response_url != null) payload.response_url = input.response_url;
    return payloadBody(payload);
  }
  const ch = channel(input.channel);
  const threaded = input.thread_ts === undefined ? {} : { thread_ts: input.thread_ts };
  payload.container = input.container ?? {
    type: 'message',
    message_ts: input.message_ts,
    channel_id: ch.id,
    is_ephemeral: input.is_ephemeral ?? false,
    ...threaded,
  };
  payload.channel = ch;
  if (input.is_ephemeral !== true) {
    payload.message = {
      type: 'message',
      subtype: 'bot_message',
      text: '',
      user: 'U_BOT',
      bot_id: 'B_BOT',
      ts: input.message_ts,
      ...threaded,
      blocks: [],
      ...input.message,
    };
  }
  const responseUrl =
    input.response_url === undefined
      ? `https://hooks.slack.com/actions/${team.id}/1234/abcd`
      : input.response_url;
  if (responseUrl !== null) payload.response_url = responseUrl;
  return payloadBody(payload);
}

/** A field of a modal's state: a string is a plain_text_input whose action_id is its block id. */
export type StateField =
  | string
  | { type: 'plain_text_input' | 'number_input'; value: string | null; action_id?: string }
  | { type: 'static_select' | 'radio_buttons'; value: string | null; action_id?: string; text?: string };

/** `view.state.values` as Slack builds it: `{ [block_id]: { [action_id]: element state } }`. */
export function stateValues(fields: Record<string, StateField>): Record<string, Record<string, unknown>> {
  const values: Record<string, Record<string, unknown>> = {};
  for (const [blockId, field] of Object.entries(fields)) {
    if (typeof field === 'string') {
      values[blockId] = { [blockId]: { type: 'plain_text_input', value: field } };
      continue;
    }
    const actionId = field.action_id ?? blockId;
    if (field.type === 'static_select' || field.type === 'radio_buttons') {
      const selected =
        field.value === null
          ? null
          : {
              text: { type: 'plain_text', text: field.text ?? field.value, emoji: true },
              value: field.value,
            };
      values[blockId] = { [actionId]: { type: field.type, selected_option: selected } };
    } else {
      values[blockId] = { [actionId]: { type: field.type, value: field.value } };
    }
  }
  return values;
}

export interface ViewSubmissionInput extends TeamInput {
  user: UserRef;
  /** The parts of the view that matter; the rest is filled in as Slack would. */
  view: {
    callback_id: string;
    private_metadata?: string;
    /** Already in Slack's shape; build it with `stateValues`. */
    state?: { values: Record<string, Record<string, unknown>> };
    id?: string;
    blocks?: unknown[];
    title?: string;
    hash?: string;
  };
  trigger_id?: string;
}

/** The view as Slack echoes it in a submission, from its parts. */
function submittedView(input: ViewSubmissionInput, team: { id: string; appId: string }): Json {
  const viewId = input.view.id ?? 'V_TEST0001';
  return {
    id: viewId,
    team_id: team.id,
    type: 'modal',
    blocks: input.view.blocks ?? [],
    private_metadata: input.view.private_metadata ?? '',
    callback_id: input.view.callback_id,
    state: input.view.state ?? { values: {} },
    hash: input.view.hash ?? '1700000000.abcdef12',
    title: { type: 'plain_text', text: input.view.title ?? 'Zeus recovery', emoji: true },
    clear_on_close: false,
    notify_on_close: false,
    close: { type: 'plain_text', text: 'Cancel', emoji: true },
    submit: { type: 'plain_text', text: 'Submit', emoji: true },
    previous_view_id: null,
    root_view_id: viewId,
    app_id: team.appId,
    external_id: '',
    app_installed_team_id: team.id,
    bot_id: 'B_BOT',
  };
}

/** The fields every interaction payload carries: its type, who, where from, and the old token. */
function interaction(type: string, input: TeamInput & { user: UserRef }, fields: Json): string {
  const team = teamOf(input);
  return payloadBody({
    type,
    team: { id: team.id, domain: team.domain },
    user: user(input.user, team.id),
    api_app_id: team.appId,
    token: TEST_VERIFICATION_TOKEN,
    ...fields,
    is_enterprise_install: false,
    enterprise: null,
  });
}

/**
 * `payload=<json>` of a modal submit, as Slack posts `view_submission`; `view` is either the
 * parts that matter or (`stored`) the whole view as the local Slack holds it.
 */
export function viewSubmissionBody(
  input: ViewSubmissionInput | (Omit<ViewSubmissionInput, 'view'> & { stored: Json }),
): string {
  return interaction('view_submission', input, {
    trigger_id: input.trigger_id ?? newTriggerId(),
    view: 'stored' in input ? input.stored : submittedView(input, teamOf(input)),
    response_urls: [],
  });
}

/** Cancel or × on a modal whose app asked to hear about it (`notify_on_close`). */
export function viewClosedBody(input: TeamInput & { user: UserRef; view: Json; cleared: boolean }): string {
  return interaction('view_closed', input, { view: input.view, is_cleared: input.cleared });
}

export interface PostToAppOptions {
  secret: string;
  /** Seconds since the epoch; default now. Use an old one to test replay protection. */
  timestamp?: number;
  /** Sign with another secret, so the signature is well-formed but wrong. */
  badSignature?: boolean;
  /** Leave out both headers (`true`) or the named one. */
  omitHeaders?: boolean | readonly ('timestamp' | 'signature')[];
  /** Extra headers, e.g. `x-slack-retry-num`. */
  headers?: Record<string, string>;
  /** Default `/slack/events`. */
  path?: string;
  timeoutMs?: number;
}

export interface AppResponse {
  status: number;
  body: string;
  /** The body parsed as JSON, or null when it is not JSON (an empty ack is ''). */
  json: unknown;
  headers: Record<string, string>;
}

/** POSTs a signed, form-encoded body to the app as Slack does (network errors throw). */
export async function postToApp(
  baseUrl: string,
  body: string,
  options: PostToAppOptions,
): Promise<AppResponse> {
  const signed = signRequest(
    options.badSignature === true ? `${options.secret}-wrong` : options.secret,
    body,
    options.timestamp,
  );
  const omit = options.omitHeaders ?? false;
  const omitted = (header: 'timestamp' | 'signature'): boolean =>
    omit === true || (Array.isArray(omit) && omit.includes(header));
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
    ...options.headers,
  };
  if (!omitted('timestamp')) headers['x-slack-request-timestamp'] = signed.timestamp;
  if (!omitted('signature')) headers['x-slack-signature'] = signed.signature;
  const url = `${baseUrl.replace(/\/+$/, '')}${options.path ?? '/slack/events'}`;
  const res = await fetch(url, {
    method: 'POST',
    headers,
    body,
    signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
  });
  const text = await res.text();
  let json: unknown = null;
  try {
    json = text === '' ? null : (JSON.parse(text) as unknown);
  } catch {
    json = null;
  }
  return { status: res.status, body: text, json, headers: Object.fromEntries(res.headers.entries()) };
}

let eventSeq = 0;

/**
 * `app_home_opened`, as the Events API posts it (JSON, signed like everything else) when a
 * person opens the app's Home tab. Post it with `content-type: application/json`.
 */
export function appHomeOpenedBody(input: { user: string; team_id?: string; api_app_id?: string }): string {
  eventSeq++;
  const now = Date.now() / 1000;
  return JSON.stringify({
    token: TEST_VERIFICATION_TOKEN,
    team_id: input.team_id ?? TEST_TEAM_ID,
    api_app_id: input.api_app_id ?? TEST_APP_ID,
    type: 'event_callback',
    event_id: `Ev${String(eventSeq).padStart(8, '0')}HOME`,
    event_time: Math.floor(now),
    event: {
      type: 'app_home_opened',
      user: input.user,
      channel: `D_HOME_${input.user}`,
      tab: 'home',
      event_ts: now.toFixed(6),
    },
  });
}

/** The headers an Events API post carries besides the signature. */
export const EVENT_HEADERS = { 'content-type': 'application/json' } as const;

/** How the app answered Slack, or that it did not in time, or could not be reached. */
export type BotResult =
  | { kind: 'answered'; status: number; body: string; json: unknown }
  | { kind: 'timeout' }
  | { kind: 'unreachable'; error: string };

/** What Slack itself does with a request to the app's Request URL: sends it signed and waits 3 s at most. */
export async function postSigned(
  requestUrl: string,
  secret: string,
  body: string,
  timeoutMs = SLACK_ACK_TIMEOUT_MS,
): Promise<BotResult> {
  try {
    const res = await postToApp(requestUrl, body, { secret, path: '', timeoutMs });
    return { kind: 'answered', status: res.status, body: res.body, json: res.json };
  } catch (err) {
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
      return { kind: 'timeout' };
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    return { kind: 'unreachable', error: cause };
  }
}
