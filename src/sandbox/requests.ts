import { createHmac } from 'node:crypto';
import type { Json } from './model.js';

/**
 * What Slack sends to an app's Request URL, built and signed exactly as Slack does, so the bot
 * in the sandbox runs its production path (Bolt's HTTPReceiver verifies every request).
 */

/** Slack gives up on an app that has not answered within 3 s and tells the user `operation_timeout`. */
export const SLACK_ACK_TIMEOUT_MS = 3000;

/** The deprecated verification token Slack still puts in bodies; Bolt relies on the signature. */
export const VERIFICATION_TOKEN = 'sandbox-verification-token-unused';

/** `v0=` + hex HMAC-SHA256 of `v0:{timestamp}:{raw body}` under the app's signing secret. */
export function slackSignature(secret: string, timestamp: string, body: string): string {
  return `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`;
}

export interface BotAnswer {
  kind: 'answered';
  status: number;
  body: string;
  /** The body as JSON when it is JSON (an empty ack is ''). */
  json: unknown;
}

export type BotResult = BotAnswer | { kind: 'timeout' } | { kind: 'unreachable'; error: string };

/** POSTs a form-encoded body, signed, and waits as long as Slack would. */
export async function postSigned(
  url: string,
  secret: string,
  body: string,
  timeoutMs = SLACK_ACK_TIMEOUT_MS,
): Promise<BotResult> {
  const timestamp = String(Math.floor(Date.now() / 1000));
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)',
        'x-slack-request-timestamp': timestamp,
        'x-slack-signature': slackSignature(secret, timestamp, body),
      },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text === '' ? null : (JSON.parse(text) as unknown);
    } catch {
      json = null;
    }
    return { kind: 'answered', status: res.status, body: text, json };
  } catch (err) {
    if (err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError'))
      return { kind: 'timeout' };
    const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
    return { kind: 'unreachable', error: cause };
  }
}

/** Slack HTML-escapes these three in a slash command's text, whatever the app's settings. */
export function escapeCommandText(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export interface TeamRef {
  id: string;
  domain: string;
  appId: string;
}

export interface UserRef {
  id: string;
  name: string;
}

export interface ChannelRef {
  id: string;
  name: string;
}

/** A slash command, form-encoded field by field as Slack posts it. */
export function slashCommandBody(input: {
  team: TeamRef;
  user: UserRef;
  channel: ChannelRef;
  command: string;
  text: string;
  responseUrl: string;
  triggerId: string;
}): string {
  return new URLSearchParams([
    ['token', VERIFICATION_TOKEN],
    ['team_id', input.team.id],
    ['team_domain', input.team.domain],
    ['channel_id', input.channel.id],
    ['channel_name', input.channel.name],
    ['user_id', input.user.id],
    ['user_name', input.user.name],
    ['command', input.command],
    ['text', escapeCommandText(input.text)],
    ['api_app_id', input.team.appId],
    ['is_enterprise_install', 'false'],
    ['response_url', input.responseUrl],
    ['trigger_id', input.triggerId],
  ]).toString();
}

function payloadBody(payload: Json): string {
  return new URLSearchParams([['payload', JSON.stringify(payload)]]).toString();
}

function userJson(team: TeamRef, user: UserRef): Json {
  return { id: user.id, username: user.name, name: user.name, team_id: team.id };
}

export type ActionContainer =
  | { type: 'message'; channel: ChannelRef; message: Json; threadTs: string | null }
  | { type: 'ephemeral'; channel: ChannelRef; messageTs: string; threadTs: string | null }
  | { type: 'view'; view: Json };

/** A click on an interactive element, as Slack posts `block_actions` (`payload=<json>`). */
export function blockActionsBody(input: {
  team: TeamRef;
  user: UserRef;
  container: ActionContainer;
  blockId: string;
  element: Json;
  /** For selects: the option chosen. */
  selectedOption?: Json | null;
  responseUrl: string | null;
  triggerId: string;
}): string {
  const { team, container, element } = input;
  const action: Json = {
    type: element.type,
    action_id: element.action_id,
    block_id: input.blockId,
    action_ts: (Date.now() / 1000).toFixed(6),
  };
  if (element.type === 'button') {
    action.text = element.text;
    if (element.value !== undefined) action.value = element.value;
    if (element.style !== undefined) action.style = element.style;
  } else if (input.selectedOption !== undefined) {
    action.selected_option = input.selectedOption;
  }
  const payload: Json = {
    type: 'block_actions',
    user: userJson(team, input.user),
    api_app_id: team.appId,
    token: VERIFICATION_TOKEN,
    trigger_id: input.triggerId,
    team: { id: team.id, domain: team.domain },
    enterprise: null,
    is_enterprise_install: false,
    state: { values: {} },
    actions: [action],
  };
  if (container.type === 'view') {
    payload.container = { type: 'view', view_id: container.view.id };
    payload.view = container.view;
  } else {
    const threaded = container.threadTs === null ? {} : { thread_ts: container.threadTs };
    const messageTs = container.type === 'message' ? String(container.message.ts) : container.messageTs;
    payload.container = {
      type: 'message',
      message_ts: messageTs,
      channel_id: container.channel.id,
      is_ephemeral: container.type === 'ephemeral',
      ...threaded,
    };
    payload.channel = { id: container.channel.id, name: container.channel.name };
    // Slack does not echo ephemeral messages back to the app.
    if (container.type === 'message') payload.message = container.message;
    if (input.responseUrl !== null) payload.response_url = input.responseUrl;
  }
  return payloadBody(payload);
}

/** A modal's Submit, as Slack posts `view_submission`. */
export function viewSubmissionBody(input: {
  team: TeamRef;
  user: UserRef;
  view: Json;
  triggerId: string;
}): string {
  return payloadBody({
    type: 'view_submission',
    team: { id: input.team.id, domain: input.team.domain },
    user: userJson(input.team, input.user),
    api_app_id: input.team.appId,
    token: VERIFICATION_TOKEN,
    trigger_id: input.triggerId,
    view: input.view,
    response_urls: [],
    is_enterprise_install: false,
    enterprise: null,
  });
}

/** Cancel or × on a modal whose app asked to hear about it (`notify_on_close`). */
export function viewClosedBody(input: {
  team: TeamRef;
  user: UserRef;
  view: Json;
  cleared: boolean;
}): string {
  return payloadBody({
    type: 'view_closed',
    team: { id: input.team.id, domain: input.team.domain },
    user: userJson(input.team, input.user),
    api_app_id: input.team.appId,
    token: VERIFICATION_TOKEN,
    view: input.view,
    is_cleared: input.cleared,
    is_enterprise_install: false,
    enterprise: null,
  });
}
