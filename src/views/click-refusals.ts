/**
 * Private answers to a button click the app will not act on. Plain text: `tell` in the action
 * handlers puts them through the error view, which escapes them.
 */
export const CLICK_REFUSALS = {
  /** A click whose payload names another channel than the request's (a forwarded message, a DM). */
  otherChannel: {
    message: 'This request belongs to another channel; approve, deny or cancel it there, in its thread.',
    hint: 'Nothing was done.',
  },
  /** The request's channel could not be read to compare (Postgres down or busy). */
  channelUnknown: {
    message: 'Could not check which channel this request belongs to, so nothing was done.',
    hint: 'Try the button again in a few seconds.',
  },
  undoOutsideIncident: { message: 'Undo works only in the incident channel the restore ran in.' },
  notABackup: {
    message: 'That button does not name a backup this app made, so nothing was done.',
    hint: 'Use the Undo button on the restore result, or `/zeus-recover undo <backup id> --reason <why>`.',
  },
  reportOutsideIncident: { message: 'Restore and Diff work only in an incident channel.' },
  notAReport: {
    message: 'That button does not name a conversation and tier this app reported, so nothing was done.',
    hint: 'Run `/zeus-recover inspect <id>` again and use the buttons under the new report.',
  },
} as const;
