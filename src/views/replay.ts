import type { ReplayOutcome } from '../recovery/replay.js';
import { describeZeusStatus, type ZeusStatusSummary } from '../recovery/zeus-api.js';
import { SLASH_COMMAND } from '../slack-ids.js';
import type { ReplayAmbiguousData, ReplayOutcomeData } from './audit-data.js';
import { code, escapeMrkdwn, line, userRef } from './escape.js';
import { formatTime, plural } from './format.js';
import { context, fieldsSection, type KnownBlock, message, type SlackMessage, section } from './slack.js';

/** One sentence from Zeus or the core can quote Zeus's message; long enough for that, no more. */
const DETAIL_MAX = 1000;
const STATUS_MAX = 500;

export interface ReplayProgress {
  conversationId: string;
  fromStep: number;
  /** How many steps Zeus runs again. */
  steps: number;
  /** n: the conversation has steps 1..n. */
  stepCount: number;
  /** Who started it (`slack:U…`, `cli:alice`). */
  actor: string;
  /** Zeus's latest status, or null before it has answered one. */
  status: ZeusStatusSummary | null;
  startedAt: Date | string;
  /** When this rendering is made: the "updated" time. */
  now: Date;
  reason?: string | null | undefined;
  /** Set once the replay is over: the same message then reads as its end. */
  final?: { outcome: ReplayOutcome; detail: string } | undefined;
}

/** Zeus's status fields are whatever its API said, so they are untrusted text. */
function statusText(status: ZeusStatusSummary | null, none: string): string {
  return status ? line(describeZeusStatus(status), STATUS_MAX) : none;
}

function validateCommand(id: string): string {
  return `${SLASH_COMMAND} validate ${id}`;
}

function replayCommand(id: string, fromStep: number): string {
  return `${SLASH_COMMAND} replay ${id} --from-step ${fromStep}`;
}

/** Not "failed": a replay nobody saw finish may still be running, and re-running it doubles the steps. */
function checkFirst(id: string): string {
  return `Check Zeus's status with ${code(validateCommand(id))} before doing anything else. Do not run the replay again blindly: Zeus may have taken it, and a second replay would run the steps twice.`;
}

function progressHead(p: ReplayProgress): string {
  const what = `${code(p.conversationId)} from step ${p.fromStep}`;
  const count = `(${plural(p.steps, 'step')})`;
  switch (p.final?.outcome) {
    case undefined:
      return `▶️ *Replaying ${what}* ${count}…`;
    case 'done':
      return `✅ *Replayed ${what}* ${count}`;
    case 'failed':
      return `❌ *The replay of ${what} failed* ${count}`;
    case 'timed_out':
      return `⌛ *Stopped following the replay of ${what}* ${count} — Zeus may still finish it`;
    case 'unknown':
      return `❓ *The replay of ${what} has an unknown outcome* ${count}`;
  }
}

/**
 * Zeus's step counter belongs to its own run; when its total differs from the conversation's
 * step count, a "7/7" beside "6 steps" needs saying in words rather than looking like an error.
 */
export function zeusStepsNote(
  status: { total?: number | null | undefined } | null | undefined,
  conversationSteps: number | null | undefined,
): string | null {
  const total = status?.total;
  if (total === null || total === undefined || conversationSteps === null || conversationSteps === undefined)
    return null;
  if (total === conversationSteps) return null;
  return `Zeus counts ${total} steps in its own run; the conversation has ${conversationSteps} — Zeus numbers its work, not the conversation's steps.`;
}

/**
 * The one progress message in the thread, edited in place as Zeus's status changes and once more
 * with `final` when the replay ends, so the thread shows a single live line rather than a stream.
 */
export function replayProgressView(p: ReplayProgress): SlackMessage {
  const head = progressHead(p);
  const zeus = `*Zeus:* ${statusText(p.status, p.final ? '_no status_' : '_no status yet_')}`;
  const lines = [head];
  if (p.final) {
    if (p.final.detail.trim() !== '') lines.push(line(p.final.detail, DETAIL_MAX));
    if (p.final.outcome === 'timed_out' || p.final.outcome === 'unknown')
      lines.push(checkFirst(p.conversationId));
    if (p.final.outcome === 'done') lines.push(`Next: ${code(validateCommand(p.conversationId))}`);
  }
  lines.push(zeus);
  const steps = zeusStepsNote(p.status, p.stepCount);
  if (steps) lines.push(`_${steps}_`);
  const notes = [
    `Started by ${userRef(p.actor)} at ${escapeMrkdwn(formatTime(p.startedAt, p.now))}`,
    p.reason?.trim() ? `Reason: ${line(p.reason, 500)}` : '',
    `steps ${p.fromStep}–${p.stepCount} of ${p.stepCount}`,
    `updated ${escapeMrkdwn(formatTime(p.now, p.now))}`,
  ];
  const blocks: KnownBlock[] = [section(lines.join('\n')), context(...notes)];
  const detail = p.final ? `. ${line(p.final.detail, 500)}` : '';
  return message(`${head.replace(/\*/g, '')}${detail} Zeus: ${statusText(p.status, 'no status')}`, blocks);
}

function isEarlyFailure(d: ReplayOutcomeData): d is Extract<ReplayOutcomeData, { code: string }> {
  return 'code' in d;
}

function outcomeHead(d: ReplayOutcomeData, id: string): string {
  const what = `${code(id)} from step ${d.fromStep}`;
  if (isEarlyFailure(d)) {
    return d.sent
      ? `❌ *The replay of ${what} failed*`
      : `❌ *The replay of ${what} failed before anything was sent to Zeus*`;
  }
  switch (d.outcome) {
    case 'done':
      return `✅ *Replayed ${what}*`;
    case 'failed':
      return `❌ *The replay of ${what} failed*`;
    case 'timed_out':
      return `⌛ *Stopped following the replay of ${what}* — Zeus may still be running it`;
    case 'unknown':
      return `❓ *The replay of ${what} has an unknown outcome*`;
  }
}

function nextStep(d: ReplayOutcomeData, id: string): string {
  if (isEarlyFailure(d)) {
    return d.sent
      ? `The request may have reached Zeus. ${checkFirst(id)}`
      : `Nothing was sent to Zeus, so nothing changed. Once the cause is fixed, ask again with ${code(replayCommand(id, d.fromStep))}.`;
  }
  switch (d.outcome) {
    case 'done':
      return `Next: ${code(validateCommand(id))} — checks the conversation Zeus left behind.`;
    case 'failed':
      return `Next: ${code(validateCommand(id))} to see what state the conversation is in before deciding what to do.`;
    case 'timed_out':
    case 'unknown':
      return checkFirst(id);
  }
}

/** The end of a replay as the thread records it (`replay.succeeded|failed|timed_out|unknown`). */
export function replayOutcomeView(d: ReplayOutcomeData, conversationId: string): SlackMessage {
  const head = outcomeHead(d, conversationId);
  const said = isEarlyFailure(d) ? d.error : d.detail;
  const fields = [`*Zeus status*\n${statusText(d.status, '—')}`];
  if (isEarlyFailure(d)) fields.push(`*Error code*\n${code(d.code)}`);
  else fields.push(`*Replay id*\n${d.replayId ? code(d.replayId) : '—'}`);
  fields.push(`*Status checks*\n${d.polls.toLocaleString('en-US')}`);
  const blocks: KnownBlock[] = [
    section([head, line(said, DETAIL_MAX)].join('\n')),
    fieldsSection(fields),
    section(nextStep(d, conversationId)),
  ];
  if (!isEarlyFailure(d) && d.ambiguous) {
    blocks.push(context('The replay request got no clear answer from Zeus; it was not sent again.'));
  }
  return message(`${head.replace(/\*/g, '')}: ${line(said, 500)}`, blocks);
}

/**
 * The POST's fate was unclear (a timeout or reset after sending). The bot never re-sends then, so
 * the thread says what Zeus's status endpoint answered, which is what decides the outcome.
 */
export function replayAmbiguousView(d: ReplayAmbiguousData, conversationId: string): SlackMessage {
  const what = `${code(conversationId)} from step ${d.fromStep}`;
  const now =
    d.status !== null
      ? `Zeus's status says ${statusText(d.status, '—')}`
      : `Zeus's status could not be read either${d.statusError ? ` (${line(d.statusError, 300)})` : ''}`;
  const head = `⚠️ The request to replay ${what} got no clear answer (${line(d.error, 300)}); it was not sent again — ${now}.`;
  const notes = [
    d.statusBefore ? `Before sending, Zeus said ${statusText(d.statusBefore, '—')}` : '',
    "The outcome follows from Zeus's status.",
  ];
  return message(head, [section(head), context(...notes)]);
}
