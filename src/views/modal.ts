import {
  CANCEL_REASON_BLOCK_ID,
  MODAL_ACTIONS,
  MODAL_BLOCK_IDS,
  MODAL_SOURCES,
  OPERATION_REASON_BLOCK_ID,
  REASON_MAX_LENGTH,
  VIEW_CALLBACK,
  type ViewCallbackId,
} from '../slack-ids.js';
import { code, escapeMrkdwn, oneLine } from './escape.js';
import { clip } from './limits.js';
import {
  type InputBlock,
  type KnownBlock,
  type ModalView,
  mrkdwn,
  type PlainTextOption,
  plain,
} from './slack.js';

/**
 * Block ids of the recovery form. They come from the registry, and the form's validation reports
 * errors under the same keys, so the form and its checks cannot drift apart. Each input's
 * action_id equals its block id.
 */
export const MODAL_BLOCKS = MODAL_BLOCK_IDS;
export const RECOVERY_MODAL_CALLBACK_ID: ViewCallbackId = 'zeus_recover_modal';
export const DENY_REASON_CALLBACK_ID: ViewCallbackId = 'deny_reason_modal';
export const DENY_REASON_BLOCK_ID = 'deny_reason';

const ID_MAX_LENGTH = 128;

const ACTION_LABELS: Record<(typeof MODAL_ACTIONS)[number], string> = {
  inspect: 'Inspect — every tier side by side',
  validate: 'Validate — integrity and agreement',
  diff: 'Diff — what a restore would change',
  restore: 'Restore Redis from a good copy (reason, approval)',
  undo: 'Undo a restore (reason, approval)',
  export: 'Export the stored copy as a file',
  replay: 'Replay from a step (reason, approval)',
};

const SOURCE_LABELS: Record<(typeof MODAL_SOURCES)[number], string> = {
  postgres: 'PostgreSQL (history)',
  s3: 'S3 (archive)',
  backup: 'A backup (enter its id below)',
  redis: 'Redis (export only)',
};

const option = (value: string, label: string): PlainTextOption => ({ text: plain(label), value });

export interface RecoveryModalInitial {
  conversationId: string;
  action: string;
  source: string;
  backupId: string;
  fromStep: number;
}

function select(
  blockId: string,
  label: string,
  options: PlainTextOption[],
  initial: string | undefined,
  extra: Partial<InputBlock> = {},
): InputBlock {
  const chosen = options.find((o) => o.value === initial);
  return {
    type: 'input',
    block_id: blockId,
    label: plain(label),
    ...extra,
    element: {
      type: 'static_select',
      action_id: blockId,
      placeholder: plain('Choose…'),
      options,
      ...(chosen ? { initial_option: chosen } : {}),
    },
  };
}

function textInput(
  blockId: string,
  label: string,
  opts: {
    placeholder: string;
    initial?: string | undefined;
    maxLength: number;
    multiline?: boolean;
    hint?: string;
  },
): InputBlock {
  return {
    type: 'input',
    block_id: blockId,
    optional: true,
    label: plain(label),
    ...(opts.hint ? { hint: plain(opts.hint) } : {}),
    element: {
      type: 'plain_text_input',
      action_id: blockId,
      placeholder: plain(opts.placeholder),
      max_length: opts.maxLength,
      ...(opts.multiline ? { multiline: true } : {}),
      ...(opts.initial ? { initial_value: clip(opts.initial, opts.maxLength) } : {}),
    },
  };
}

/** The form behind a bare `/zeus-recover`: the same choices as the command, nothing to remember. */
export function recoveryModal(opts: {
  channelId: string;
  initial?: Partial<RecoveryModalInitial>;
}): ModalView {
  const init = opts.initial ?? {};
  const fromStep =
    init.fromStep !== undefined && Number.isInteger(init.fromStep) && init.fromStep >= 1
      ? init.fromStep
      : null;
  const blocks: KnownBlock[] = [
    textInput(MODAL_BLOCKS.conversationId, 'Conversation id', {
      placeholder: 'c-7f3a9e',
      initial: init.conversationId,
      maxLength: ID_MAX_LENGTH,
      hint: 'As it appears in Zeus. Not needed for undo.',
    }),
    select(
      MODAL_BLOCKS.action,
      'Action',
      MODAL_ACTIONS.map((a) => option(a, ACTION_LABELS[a])),
      init.action,
    ),
    select(
      MODAL_BLOCKS.source,
      'Source',
      MODAL_SOURCES.map((s) => option(s, SOURCE_LABELS[s])),
      init.source,
      { optional: true, hint: plain('For diff and restore (and export: which tier).') },
    ),
    textInput(MODAL_BLOCKS.backupId, 'Backup id', {
      placeholder: 'bk_…',
      initial: init.backupId,
      maxLength: 80,
      hint: 'For undo, or a restore from a backup. The restore result shows it.',
    }),
    {
      type: 'input',
      block_id: MODAL_BLOCKS.fromStep,
      optional: true,
      label: plain('Replay from step'),
      hint: plain('Only for replay.'),
      element: {
        type: 'number_input',
        action_id: MODAL_BLOCKS.fromStep,
        is_decimal_allowed: false,
        min_value: '1',
        ...(fromStep !== null ? { initial_value: String(fromStep) } : {}),
      },
    },
  ];
  return {
    type: 'modal',
    callback_id: RECOVERY_MODAL_CALLBACK_ID,
    title: plain('Zeus recovery'),
    submit: plain('Continue'),
    close: plain('Cancel'),
    private_metadata: JSON.stringify({ channelId: opts.channelId }),
    blocks,
  };
}

/** A deny needs a reason: the requester and the thread should know why. */
export function denyReasonModal(requestId: string, operation?: string): ModalView {
  const blocks: KnownBlock[] = [];
  if (operation) {
    blocks.push({ type: 'section', text: mrkdwn(`Deny: *${escapeMrkdwn(clip(oneLine(operation), 500))}*`) });
  }
  blocks.push({
    type: 'input',
    block_id: DENY_REASON_BLOCK_ID,
    label: plain('Why are you denying it?'),
    hint: plain('Shown to the requester and in the incident thread.'),
    element: {
      type: 'plain_text_input',
      action_id: DENY_REASON_BLOCK_ID,
      multiline: true,
      max_length: REASON_MAX_LENGTH,
      placeholder: plain('e.g. Zeus is still writing to it — wait for the deploy to finish'),
    },
  });
  return {
    type: 'modal',
    callback_id: DENY_REASON_CALLBACK_ID,
    title: plain('Deny request'),
    submit: plain('Deny'),
    close: plain('Back'),
    private_metadata: requestId,
    blocks,
  };
}

/** Withdrawing a request needs a reason too: the approvers asked to look at it should know why. */
export function cancelReasonModal(requestId: string, operation: string): ModalView {
  return {
    type: 'modal',
    callback_id: VIEW_CALLBACK.cancelReason,
    title: plain('Cancel request'),
    submit: plain('Cancel it'),
    close: plain('Back'),
    private_metadata: requestId,
    blocks: [
      { type: 'section', text: mrkdwn(`Cancel: *${escapeMrkdwn(clip(oneLine(operation), 500))}*`) },
      {
        type: 'input',
        block_id: CANCEL_REASON_BLOCK_ID,
        label: plain('Reason'),
        hint: plain('Shown in the incident thread and kept in the audit log.'),
        element: {
          type: 'plain_text_input',
          action_id: CANCEL_REASON_BLOCK_ID,
          multiline: true,
          max_length: REASON_MAX_LENGTH,
          placeholder: plain('e.g. Redis came back by itself; nothing to restore'),
        },
      },
    ],
  };
}

/** A restore, undo or replay chosen by a button or the form, before its reason. */
export type PendingOperation =
  | { kind: 'restore'; id: string; source: string }
  | { kind: 'undo'; backupId: string }
  | { kind: 'replay'; id: string; fromStep: number };

const OPERATION_TITLE: Record<PendingOperation['kind'], string> = {
  restore: 'Restore',
  undo: 'Undo a restore',
  replay: 'Replay',
};

function operationWhat(op: PendingOperation): string {
  const c = (t: string) => code(t);
  switch (op.kind) {
    case 'restore':
      return `*Restore ${c(op.id)} from ${c(op.source)}*\nRedis is backed up first, so it can be undone. Someone else approves it in the incident thread.`;
    case 'undo':
      return `*Undo: put backup ${c(op.backupId)} back into Redis*\nWhat Redis holds now is backed up first. Someone else approves it in the incident thread.`;
    case 'replay':
      return `*Replay ${c(op.id)} from step ${op.fromStep}*\nZeus runs those steps again. Someone else approves it in the incident thread.`;
  }
}

/**
 * The reason a restore, undo or replay needs, asked after a button or the form chose what to do.
 * Required (not "(optional)"): the approver reads it and the audit log keeps it.
 */
export function operationReasonModal(op: PendingOperation, metadata: string): ModalView {
  return {
    type: 'modal',
    callback_id: VIEW_CALLBACK.operationReason,
    title: plain(OPERATION_TITLE[op.kind]),
    submit: plain('Ask for approval'),
    close: plain('Cancel'),
    private_metadata: metadata,
    blocks: [
      { type: 'section', text: mrkdwn(operationWhat(op)) },
      {
        type: 'input',
        block_id: OPERATION_REASON_BLOCK_ID,
        label: plain('Reason'),
        hint: plain('Shown to the approver and kept in the audit log.'),
        element: {
          type: 'plain_text_input',
          action_id: OPERATION_REASON_BLOCK_ID,
          multiline: true,
          max_length: REASON_MAX_LENGTH,
          placeholder: plain('e.g. INC-4242: lost in the Redis failover'),
        },
      },
    ],
  };
}
