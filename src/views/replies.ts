/**
 * The workflow's private answers to the one person who acted (ephemeral). Plain text: the
 * handlers send them through errorView or as `text`, which escape them; the public story goes
 * to the thread from the audit entries (auditEntry.ts). Wording that names people lives in
 * approval-refusals.ts.
 */
export interface ReplyText {
  message: string;
  hint?: string;
}

const inThread = 'the report is in the incident thread';

export const replies = {
  inspected: (id: string): ReplyText => ({ message: `Inspected ${id}; ${inThread}.` }),
  /** No tier holds it: said privately, so a typo leaves no public thread behind. */
  noTierHolds: (id: string, near: readonly string[]): ReplyText => ({
    message: `No tier holds ${id} — check the id. Nothing was posted in the channel.`,
    hint:
      near.length > 0
        ? `Close matches in Redis: ${near.join(', ')} (the buttons below inspect one).`
        : 'Ids look like c-7f3a9e, as Zeus shows them; `/zeus-recover list c-7f*` lists what Redis holds.',
  }),
  validated: (id: string): ReplyText => ({ message: `Validated ${id}; ${inThread}.` }),
  diffPosted: (id: string): ReplyText => ({ message: `Diff of ${id} posted in the incident thread.` }),
  restoreRequested: (id: string, requestId: string): ReplyText => ({
    message: `Approval requested for restoring ${id} (${requestId}).`,
  }),
  undoRequested: (backupId: string, requestId: string): ReplyText => ({
    message: `Approval requested for undoing ${backupId} (${requestId}).`,
  }),
  replayRequested: (id: string, fromStep: number, requestId: string): ReplyText => ({
    message: `Approval requested for replaying ${id} from step ${fromStep} (${requestId}).`,
  }),
  unlockRequested: (id: string, requestId: string): ReplyText => ({
    message: `Approval requested for breaking the lock on ${id} (${requestId}): someone else approves it in the thread.`,
  }),
  replayNotConfigured: (): ReplyText => ({
    message: 'Replay needs the Zeus API, and it is not configured here.',
    hint: 'Set ZEUS_API_URL and ZEUS_API_TOKEN for the bot, or replay with the CLI where they are set.',
  }),
  exportTooBig: (e: { id: string; tier: string; bytes: number; limit: number; cli: string }): ReplyText => ({
    message: `${e.id} in ${e.tier} is ${e.bytes} bytes, above the ${e.limit}-byte limit for Slack uploads.`,
    hint: `Export it with the CLI instead: \`${e.cli}\``,
  }),
  exported: (id: string, tier: string, filename: string): ReplyText => ({
    message: `Exported ${id} from ${tier} to the incident thread as ${filename}.`,
  }),
  unexpected: (detail: string): ReplyText => ({
    message: `Something unexpected went wrong: ${detail.slice(0, 200)}.`,
    hint: 'Nothing further was done. Try again; if it repeats, use the CLI (`zeus-recover`) and report this.',
  }),
  noSuchRequest: (requestId: string): ReplyText => ({ message: `Request ${requestId} does not exist.` }),
  /** An approve click on a request that is gone: the way on is to ask again. */
  noSuchRequestToApprove: (requestId: string): ReplyText => ({
    message: `Request ${requestId} does not exist.`,
    hint: 'Ask for a new restore.',
  }),
  /** A stale preview was cancelled; `fresh` is whether a fresh one could be posted, or why not. */
  notApprovedStale: (stale: string, fresh: true | ReplyText): ReplyText =>
    fresh === true
      ? {
          message: `Not approved: ${stale}`,
          hint: 'A fresh preview is in the thread; approve that one if it is right.',
        }
      : {
          message: `Not approved: ${stale} No fresh preview could be made: ${fresh.message}`,
          hint: fresh.hint ?? '',
        },
  /** The preview went stale and the core makes no new one: `why` is its refusal (with its hint). */
  notApprovedNothingLeft: (why: ReplyText): ReplyText => ({
    message: `Not approved: the preview went stale, and there is nothing to approve now: ${why.message}`,
    hint: why.hint ?? 'Nothing was changed. Inspect again to see where it stands.',
  }),
  approvalCounted: (have: number, need: number): ReplyText => ({
    message: `Approval counted (${have} of ${need}).`,
  }),
  alreadyApproved: (have: number, need: number): ReplyText => ({
    message: `You already approved this (${have} of ${need}).`,
  }),
  expiredBeforeApproval: (): ReplyText => ({
    message: 'This request expired before it was approved.',
    hint: 'Ask again for a fresh preview.',
  }),
  /** `operation`: plain text naming what was approved, e.g. "replay c-1 from step 4". */
  approvedRunning: (operation: string): ReplyText => ({
    message: `Approved: ${operation}. It is running; follow it in the thread.`,
  }),
  alreadyExpired: (): ReplyText => ({ message: 'This request had already expired.' }),
  denied: (): ReplyText => ({ message: 'Denied; the requester sees your reason in the thread.' }),
  cancelled: (): ReplyText => ({ message: 'Cancelled.' }),
};
