import type { Recommendation } from '../recovery/types.js';
import { SLASH_COMMAND } from '../slack-ids.js';
import { code, escapeMrkdwn, line } from './escape.js';
import { formatTime } from './format.js';
import { lockLine } from './lock.js';
import { reportActions, restoreButtonLabel } from './report-actions.js';
import { context, divider, header, type KnownBlock, message, type SlackMessage, section } from './slack.js';
import {
  compactTier,
  findingLines,
  type InspectSummary,
  sameContentNote,
  TIER_LABEL,
  TIER_ORDER,
  tierLine,
} from './tiers.js';

const FINDINGS_PER_TIER = 3;

/** The recommendation in bold with its reason, then the command to run next. */
export function recommendationText(id: string, rec: Recommendation): { headline: string; next: string } {
  const reason = line(rec.reason, 1000);
  if (rec.source === 'postgres' || rec.source === 's3') {
    const from = `--from ${rec.source}`;
    return {
      headline: `*Recommendation: restore from ${TIER_LABEL[rec.source]}* — ${reason}`,
      // The buttons below do both; the command stays for those who type (and for the CLI's readers).
      next: `Next: *Diff* to preview, then *${restoreButtonLabel(rec.source)}* (below), or type ${code(`${SLASH_COMMAND} restore ${id} ${from} --reason <why>`)}`,
    };
  }
  if (rec.source === 'redis') {
    return {
      headline: `*Recommendation: keep Redis — it holds the best copy* — ${reason}`,
      next: `Nothing to restore. Full check: ${code(`${SLASH_COMMAND} validate ${id}`)}`,
    };
  }
  return {
    headline: `*Recommendation: no tier holds a usable copy* — ${reason}`,
    next: `Next: ${code(`${SLASH_COMMAND} validate ${id}`)} for every finding; a restore from a backup (${code('--from backup:<backupId>')}) may still help.`,
  };
}

/** Which tier holds a good copy, readable at a glance on a phone. */
export function inspectView(report: InspectSummary, ctx: { now?: Date } = {}): SlackMessage {
  const id = report.conversationId;
  const cli = `zeus-recover inspect ${id}`;
  const blocks: KnownBlock[] = [header(`🔎 Inspect ${id}`)];
  for (const name of TIER_ORDER) {
    const s = report.tiers[name];
    const lines = [tierLine(name, s, ctx.now)];
    if (s.status === 'found') lines.push(...findingLines(s, FINDINGS_PER_TIER));
    blocks.push(section(lines.join('\n'), { cli }));
  }
  const same = sameContentNote(report.tiers);
  if (same) blocks.push(context(same));
  const lock = lockLine(report.lock, ctx.now);
  if (lock) blocks.push(section(lock));
  const rec = recommendationText(id, report.recommendation);
  blocks.push(divider(), section(`${rec.headline}\n${rec.next}`, { cli }));
  const actions = reportActions(id, report.recommendation);
  if (actions) blocks.push(actions);
  blocks.push(
    context(
      `Inspected ${escapeMrkdwn(formatTime(report.at, ctx.now))}`,
      ...TIER_ORDER.map((name) => `${TIER_LABEL[name]}: ${code(report.tiers[name].location)}`),
    ),
  );
  const summary = TIER_ORDER.map((name) => compactTier(name, report.tiers[name])).join(', ');
  return message(`Inspect ${escapeMrkdwn(id)}: ${summary}. ${rec.headline.replace(/\*/g, '')}`, blocks);
}
