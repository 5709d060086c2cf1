/**
 * Everything the app registers with Slack, in one place: the app wires its handlers from these
 * constants and test/unit/manifest.test.ts holds manifest.yml to them, so a renamed command,
 * button or scope cannot drift between the code and the Slack app configuration.
 *
 * A leaf, outside src/commands on purpose: the handlers register from it and the views build
 * their buttons and forms from it, and neither has to import the other to agree.
 */

export const SLASH_COMMAND = '/zeus-recover';

/** Buttons, by what they do; every `app.action` registration and every view's button use these. */
export const ACTION = {
  approve: 'request_approve',
  deny: 'request_deny',
  cancel: 'request_cancel',
  undo: 'restore_undo',
  /** On a private `list` page: the next page (its value carries the pattern and SCAN cursor). */
  listNextPage: 'list_next_page',
  /** A bulk restore's card and progress message; the value is the job id. */
  bulkApprove: 'bulk_approve',
  bulkDeny: 'bulk_deny',
  bulkCancel: 'bulk_cancel',
  /** On an inspect or validate report that recommends a source: the reason form for that restore. */
  reportRestore: 'report_restore',
  /** Beside it: the diff of that restore, posted in the thread. */
  reportDiff: 'report_diff',
  /** Under "no tier holds c-x": inspect a close match (the value is its id) instead of retyping it. */
  inspectId: 'inspect_id',
  /** On an expired request's card: file it again with a fresh preview; the value is the request id. */
  requestRenew: 'request_renew',
  /** On a break-glass approval: someone else has looked at it (docs/approval-policies.md). */
  markReviewed: 'request_mark_reviewed',
  /** On a breaker reset request; the value is the reset id. */
  breakerResetApprove: 'breaker_reset_approve',
} as const;
export type ActionId = (typeof ACTION)[keyof typeof ACTION];
export const ACTION_IDS: readonly ActionId[] = Object.values(ACTION);

/** Modals: the bare-command form, and the reason a denier must give. */
export const VIEW_CALLBACK = {
  recoveryForm: 'zeus_recover_modal',
  denyReason: 'deny_reason_modal',
  /** The reason a restore, undo or replay needs, asked after a button or the form chose what to do. */
  operationReason: 'operation_reason_modal',
  /** Why the requester withdraws a request (Cancel request). */
  cancelReason: 'cancel_reason_modal',
  /** STEP_UP_OPERATIONS: the approver types the conversation id (or the count) before it counts. */
  stepUp: 'step_up_confirm_modal',
  /** BREAK_GLASS=on: the requester's reason for approving their own request. */
  breakGlass: 'break_glass_modal',
} as const;
export type ViewCallbackId = (typeof VIEW_CALLBACK)[keyof typeof VIEW_CALLBACK];
export const VIEW_CALLBACK_IDS: readonly ViewCallbackId[] = Object.values(VIEW_CALLBACK);

// Form constants: the views build the forms from them and the handlers read submissions by them.

/** Block ids of the recovery form; errors for `response_action: "errors"` use the same keys. */
export const MODAL_BLOCK_IDS = {
  conversationId: 'conversation_id',
  action: 'action',
  source: 'source',
  backupId: 'backup_id',
  fromStep: 'from_step',
} as const;
export type ModalBlockId = (typeof MODAL_BLOCK_IDS)[keyof typeof MODAL_BLOCK_IDS];

/** Option values of the form's action select (list and help stay slash-only). */
export const MODAL_ACTIONS = ['inspect', 'validate', 'diff', 'restore', 'undo', 'export', 'replay'] as const;
export type ModalAction = (typeof MODAL_ACTIONS)[number];

/**
 * Option values of the form's source select. `backup` means "the id in the backup_id block";
 * `redis` is meaningful only for export (`backup:<id>` is accepted too).
 */
export const MODAL_SOURCES = ['postgres', 's3', 'backup', 'redis'] as const;

/**
 * Events the app subscribes to (manifest `settings.event_subscriptions.bot_events`). App Home
 * needs `app_home_opened` and `views.publish`, neither of which takes a scope.
 */
export const APP_HOME_OPENED = 'app_home_opened';
export const BOT_EVENTS = [APP_HOME_OPENED] as const;

/** The deny form's one input. */
export const DENY_REASON_BLOCK_ID = 'deny_reason';

/** The step-up form's one input (the typed conversation id or count). */
export const STEP_UP_BLOCK_ID = 'step_up_confirmation';

/** The break-glass form's one input. */
export const BREAK_GLASS_BLOCK_ID = 'break_glass_reason';

/** The operation reason form's one input. */
export const OPERATION_REASON_BLOCK_ID = 'operation_reason';

/** The cancel form's one input. */
export const CANCEL_REASON_BLOCK_ID = 'cancel_reason';

/** Reasons go into the audit log and into Slack messages; a paragraph is plenty. */
export const REASON_MAX_LENGTH = 1000;

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
