/**
 * Everything the app registers with Slack, in one place: the app wires its handlers from these
 * constants and test/unit/manifest.test.ts holds manifest.yml to them, so a renamed command,
 * button or scope cannot drift between the code and the Slack app configuration.
 */

export const SLASH_COMMAND = '/zeus-recover';

/** Buttons on approval and result messages. */
export const ACTION_IDS = ['request_approve', 'request_deny', 'request_cancel', 'restore_undo'] as const;
export type ActionId = (typeof ACTION_IDS)[number];

/** Modals: the bare-command form, and the reason a denier must give. */
export const VIEW_CALLBACK_IDS = ['zeus_recover_modal', 'deny_reason_modal'] as const;
export type ViewCallbackId = (typeof VIEW_CALLBACK_IDS)[number];

/**
 * Bot token scopes, exactly: the manifest test fails on a missing or an extra one, because an
 * unused scope widens what a leaked token can do and a missing one fails only in production.
 */
export const REQUIRED_BOT_SCOPES = [
  // Receives /zeus-recover (slash commands; no Web API method).
  'commands',
  // chat.postMessage, chat.update, chat.postEphemeral.
  'chat:write',
  // chat.postMessage into incident channels the bot was never invited to.
  'chat:write.public',
  // conversations.info on public channels (incident channel name check).
  'channels:read',
  // conversations.info on private channels.
  'groups:read',
  // usergroups.users.list (approver user group).
  'usergroups:read',
  // users.info (names in the audit trail and messages).
  'users:read',
  // files.getUploadURLExternal + files.completeUploadExternal (export to the thread).
  'files:write',
  // conversations.history / conversations.replies: after a post whose answer was lost, delivery
  // looks for it by its metadata before posting again (no duplicate thread root or entry).
  'channels:history',
  'groups:history',
] as const;
export type BotScope = (typeof REQUIRED_BOT_SCOPES)[number];
