import { createHmac } from 'node:crypto';
import { SLASH_COMMAND } from '../../src/commands/registry.js';

/**
 * Requests shaped and signed as Slack sends them to the app (slash commands, button clicks,
 * modal submissions), for end-to-end tests over real HTTP. Defaults match the Slack stand-in
 * (team T_TEST, channel C_INC "inc-42").
 */

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

function user(ref: UserRef): { id: string; username: string; name: string; team_id: string } {
  const u = typeof ref === 'string' ? { id: ref } : ref;
  const name = u.name ?? u.id.toLowerCase();
  return { id: u.id, username: name, name, team_id: u.team_id ?? TEST_TEAM_ID };
}

function channel(ref: ChannelRef): { id: string; name: string } {
  const c = typeof ref === 'string' ? { id: ref } : ref;
  return { id: c.id, name: c.name ?? (c.id === 'C_INC' ? 'inc-42' : c.id.toLowerCase()) };
}

function payloadBody(payload: Record<string, unknown>): string {
  return new URLSearchParams([['payload', JSON.stringify(payload)]]).toString();
}

export interface BlockActionsInput {
  user: UserRef;
  channel: ChannelRef;
  /** ts of the message holding the button. */
  message_ts: string;
  action_id: string;
  value?: string;
  block_id?: string;
  /** Button label. */
  text?: string;
  /** The thread the message is in, if it is a reply. */
  thread_ts?: string;
  /** Overrides the `container` Slack derives from channel/message_ts. */
  container?: Record<string, unknown>;
  /** The message as Slack echoes it (text and blocks); a minimal one by default. */
  message?: { text?: string; blocks?: unknown[] };
  response_url?: string;
  trigger_id?: string;
  team_id?: string;
}

/** `payload=<json>` of a button click on a message, as Slack posts `block_actions`. */
export function blockActionsBody(input: BlockActionsInput): string {
  const ch = channel(input.channel);
  const teamId = input.team_id ?? TEST_TEAM_ID;
  const actionTs = (Date.now() / 1000).toFixed(6);
  const threaded = input.thread_ts === undefined ? {} : { thread_ts: input.thread_ts };
  return payloadBody({
    type: 'block_actions',
    user: user(input.user),
    api_app_id: TEST_APP_ID,
    token: TEST_VERIFICATION_TOKEN,
    container: input.container ?? {
      type: 'message',
      message_ts: input.message_ts,
      channel_id: ch.id,
      is_ephemeral: false,
      ...threaded,
    },
    trigger_id: input.trigger_id ?? newTriggerId(),
    team: { id: teamId, domain: TEST_TEAM_DOMAIN },
    enterprise: null,
    is_enterprise_install: false,
    channel: ch,
    message: {
      type: 'message',
      subtype: 'bot_message',
      text: input.message?.text ?? '',
      user: 'U_BOT',
      bot_id: 'B_BOT',
      ts: input.message_ts,
      ...threaded,
      blocks: input.message?.blocks ?? [],
    },
    state: { values: {} },
    response_url: input.response_url ?? `https://hooks.slack.com/actions/${teamId}/1234/abcd`,
    actions: [
      {
        type: 'button',
        action_id: input.action_id,
        block_id: input.block_id ?? 'actions',
        text: { type: 'plain_text', text: input.text ?? input.action_id, emoji: true },
        ...(input.value === undefined ? {} : { value: input.value }),
        action_ts: actionTs,
      },
    ],
  });
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

export interface ViewSubmissionInput {
  user: UserRef;
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
  team_id?: string;
}

/** `payload=<json>` of a modal submit, as Slack posts `view_submission`. */
export function viewSubmissionBody(input: ViewSubmissionInput): string {
  const teamId = input.team_id ?? TEST_TEAM_ID;
  const viewId = input.view.id ?? 'V_TEST0001';
  return payloadBody({
    type: 'view_submission',
    team: { id: teamId, domain: TEST_TEAM_DOMAIN },
    user: user(input.user),
    api_app_id: TEST_APP_ID,
    token: TEST_VERIFICATION_TOKEN,
    trigger_id: input.trigger_id ?? newTriggerId(),
    view: {
      id: viewId,
      team_id: teamId,
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
      app_id: TEST_APP_ID,
      external_id: '',
      app_installed_team_id: teamId,
      bot_id: 'B_BOT',
    },
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  });
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

/** POSTs a signed, form-encoded body to the app as Slack does. */
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
