import { describe, expect, it } from 'vitest';
import { MODAL_ACTIONS, MODAL_SOURCES, VIEW_CALLBACK_IDS } from '../../../src/slack-ids.js';
import {
  DENY_REASON_BLOCK_ID,
  denyReasonModal,
  MODAL_BLOCKS,
  type ModalView,
  recoveryModal,
  toPlainText,
} from '../../../src/views/index.js';
import { cancelReasonModal } from '../../../src/views/modal.js';
import { REQUEST_ID } from './fixtures.js';

type Input = { type: 'input'; block_id: string; optional?: boolean; element: Record<string, unknown> };
const inputs = (view: ModalView): Input[] => view.blocks.filter((b): b is Input => b.type === 'input');
const byId = (view: ModalView, id: string): Input | undefined => inputs(view).find((b) => b.block_id === id);
const optionValues = (input: Input | undefined) =>
  (input?.element.options as Array<{ value: string }> | undefined)?.map((o) => o.value);

describe('recoveryModal', () => {
  const view = recoveryModal({ channelId: 'C0INC1234' });

  it('is the zeus_recover_modal form with stable block ids', () => {
    expect(view.callback_id).toBe('zeus_recover_modal');
    expect(VIEW_CALLBACK_IDS).toContain(view.callback_id);
    expect(view.title.text).toBe('Zeus recovery');
    expect(view.submit?.text).toBe('Continue');
    expect(view.close?.text).toBe('Cancel');
    expect(JSON.parse(view.private_metadata ?? '')).toEqual({ channelId: 'C0INC1234' });
    expect(inputs(view).map((b) => b.block_id)).toEqual([
      'conversation_id',
      'action',
      'source',
      'backup_id',
      'from_step',
    ]);
    expect(Object.values(MODAL_BLOCKS).sort()).toEqual(
      inputs(view)
        .map((b) => b.block_id)
        .sort(),
    );
    for (const b of inputs(view)) expect(b.element.action_id).toBe(b.block_id);
  });

  it('uses the element each field needs', () => {
    expect(byId(view, 'conversation_id')?.element.type).toBe('plain_text_input');
    expect(byId(view, 'action')?.element.type).toBe('static_select');
    expect(byId(view, 'action')?.optional).toBeUndefined();
    expect(optionValues(byId(view, 'action'))).toEqual([...MODAL_ACTIONS]);
    expect(optionValues(byId(view, 'source'))).toEqual([...MODAL_SOURCES]);
    expect(byId(view, 'source')?.optional).toBe(true);
    expect(byId(view, 'backup_id')?.optional).toBe(true);
    expect(byId(view, 'from_step')?.element).toMatchObject({
      type: 'number_input',
      is_decimal_allowed: false,
    });
    // The reason is asked next, in its own form, where it is required (operationReasonModal).
    expect(byId(view, 'reason')).toBeUndefined();
  });

  it('prefills what it is given, and ignores values it cannot show', () => {
    const filled = recoveryModal({
      channelId: 'C1',
      initial: {
        conversationId: 'c-1',
        action: 'restore',
        source: 's3',
        backupId: 'bk_x',
        fromStep: 4,
      },
    });
    expect(byId(filled, 'conversation_id')?.element.initial_value).toBe('c-1');
    expect(byId(filled, 'action')?.element.initial_option).toMatchObject({ value: 'restore' });
    expect(byId(filled, 'source')?.element.initial_option).toMatchObject({ value: 's3' });
    expect(byId(filled, 'from_step')?.element.initial_value).toBe('4');

    const odd = recoveryModal({
      channelId: 'C1',
      initial: { action: 'drop-table', source: 'redis2', fromStep: 1.5 },
    });
    expect(byId(odd, 'action')?.element).not.toHaveProperty('initial_option');
    expect(byId(odd, 'source')?.element).not.toHaveProperty('initial_option');
    expect(byId(odd, 'from_step')?.element).not.toHaveProperty('initial_value');
  });

  it('reads as a person sees it', () => {
    expect(
      toPlainText(recoveryModal({ channelId: 'C1', initial: { action: 'inspect' } })),
    ).toMatchInlineSnapshot(`
      "== Zeus recovery ==
      Conversation id (optional): [placeholder: c-7f3a9e]
        As it appears in Zeus. Not needed for undo.
      Action: [Inspect — every tier side by side ▾] (Inspect — every tier side by side / Validate — integrity and agreement / Diff — what a restore would change / Restore Redis from a good copy (reason, approval) / Undo a restore (reason, approval) / Export the stored copy as a file / Replay from a step (reason, approval))
      Source (optional): [Choose… ▾] (PostgreSQL (history) / S3 (archive) / A backup (enter its id below) / Redis (export only))
        For diff and restore (and export: which tier).
      Backup id (optional): [placeholder: bk_…]
        For undo, or a restore from a backup. The restore result shows it.
      Replay from step (optional): [ ]
        Only for replay.
      [Cancel] [Continue]"
    `);
  });
});

describe('denyReasonModal', () => {
  it('asks for a required reason and carries the request id', () => {
    const view = denyReasonModal(REQUEST_ID, 'restore c-1 from postgres');
    expect(view.callback_id).toBe('deny_reason_modal');
    expect(view.private_metadata).toBe(REQUEST_ID);
    const [input] = inputs(view);
    expect(input?.block_id).toBe(DENY_REASON_BLOCK_ID);
    expect(input?.optional).toBeUndefined();
    expect(input?.element).toMatchObject({
      type: 'plain_text_input',
      multiline: true,
      action_id: 'deny_reason',
    });
  });

  it('escapes the operation it names', () => {
    expect(JSON.stringify(denyReasonModal(REQUEST_ID, 'restore <!channel>'))).not.toContain('<!channel>');
  });
});

describe('cancelReasonModal', () => {
  it('asks for a required reason, names what is cancelled, and carries the request id', () => {
    const view = cancelReasonModal('rq_1', 'restore c-1 from postgres');
    expect(view.callback_id).toBe('cancel_reason_modal');
    expect(view.private_metadata).toBe('rq_1');
    const input = view.blocks.find((b) => b.type === 'input') as {
      optional?: boolean;
      label: { text: string };
    };
    expect(input.optional).toBeUndefined();
    expect(input.label.text).toBe('Reason');
    expect(JSON.stringify(view.blocks)).toContain('Cancel: *restore c-1 from postgres*');
  });
});
