import { parseJsonObject } from '../json-value.js';
import { operationReasonModal, type PendingOperation } from '../views/modal.js';
import type { ModalView } from '../views/slack.js';
import { commandText, type PendingCommand } from './modal-validation.js';

/**
 * The reason form's round trip: what a button or the recovery form chose travels in the form's
 * private_metadata as the command text, and comes back to be parsed again with the reason, so
 * the grammar checks it exactly as if it had been typed.
 */

export interface ReasonFormState {
  channelId: string;
  /** `restore c-1 --from postgres`, without `--reason`. */
  text: string;
  /** The button's label when a click opened the form; absent for the recovery form. */
  clicked?: string | undefined;
}

export function reasonFormMetadata(state: ReasonFormState): string {
  return JSON.stringify({
    c: state.channelId,
    t: state.text,
    ...(state.clicked ? { k: state.clicked } : {}),
  });
}

/** The metadata back, or null when it is not one this form wrote. */
export function readReasonFormMetadata(raw: string): ReasonFormState | null {
  // Slack caps private_metadata at 3000 characters.
  const parsed = parseJsonObject(raw, 3000);
  if (parsed === null) return null;
  const { c, t, k } = parsed;
  if (typeof c !== 'string' || typeof t !== 'string' || (k !== undefined && typeof k !== 'string'))
    return null;
  return { channelId: c, text: t, clicked: k };
}

function operation(cmd: PendingCommand): PendingOperation {
  switch (cmd.kind) {
    case 'restore':
      return {
        kind: 'restore',
        id: cmd.id,
        source: cmd.source.kind === 'tier' ? cmd.source.tier : `backup:${cmd.source.backupId}`,
      };
    case 'undo':
      return { kind: 'undo', backupId: cmd.backupId };
    case 'replay':
      return { kind: 'replay', id: cmd.id, fromStep: cmd.fromStep };
  }
}

/** The reason form for `cmd`, ready for views.open or a `response_action: update`. */
export function reasonForm(cmd: PendingCommand, channelId: string, clicked?: string): ModalView {
  return operationReasonModal(
    operation(cmd),
    reasonFormMetadata({ channelId, text: commandText(cmd), clicked }),
  );
}
