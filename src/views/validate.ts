import type { ValidationReport, Verdict } from '../recovery/operations.js';
import { summarizeTier, type TierSummary } from '../recovery/summary.js';
import type { TierName } from '../recovery/types.js';
import { describeZeusStatus } from '../recovery/zeus-api.js';
import { code, escapeMrkdwn, line } from './escape.js';
import { formatTime } from './format.js';
import { recommendationText } from './inspect.js';
import { zeusStepsNote } from './replay.js';
import { reportActions } from './report-actions.js';
import { context, divider, header, type KnownBlock, message, type SlackMessage, section } from './slack.js';
import { findingLines, sameContentNote, TIER_ORDER, tierLine } from './tiers.js';

const VERDICT: Record<Verdict, string> = {
  healthy: '✅ healthy',
  degraded: '⚠️ degraded',
  broken: '❌ broken',
};
const FINDINGS_PER_TIER = 8;

export function validationView(report: ValidationReport, ctx: { now?: Date } = {}): SlackMessage {
  const id = report.conversationId;
  const cli = `zeus-recover validate ${id}`;
  const verdict = VERDICT[report.verdict] ?? escapeMrkdwn(String(report.verdict));
  const summary = line(report.summary, 1000);
  const blocks: KnownBlock[] = [header(`🩺 Validate ${id}`), section(`*${verdict}* — ${summary}`, { cli })];
  for (const name of TIER_ORDER) {
    const s = summarizeTier(report.tiers[name]);
    const lines = [tierLine(name, s, ctx.now)];
    if (s.status === 'found') lines.push(...findingLines(s, FINDINGS_PER_TIER));
    blocks.push(section(lines.join('\n'), { cli }));
  }
  const same = sameContentNote(
    Object.fromEntries(TIER_ORDER.map((name) => [name, summarizeTier(report.tiers[name])])) as Record<
      TierName,
      TierSummary
    >,
  );
  const agreement = `*Cross-tier agreement:* ${line(report.agreement.summary, 1000)}`;
  blocks.push(section(same ? `${agreement}\n${same}` : agreement, { cli }));
  // Zeus's answer is untrusted text like any store's: shown escaped, on one line.
  const zeus = report.zeus;
  if (zeus) {
    const said =
      'error' in zeus
        ? `status could not be read (${line(zeus.error, 300)})`
        : line(describeZeusStatus(zeus), 500);
    const steps = 'error' in zeus ? null : zeusStepsNote(zeus, summarizeTier(report.tiers.redis).steps);
    blocks.push(section(`*Zeus:* ${said}${steps ? `\n_${steps}_` : ''}`));
  }
  const rec = recommendationText(id, report.recommendation);
  blocks.push(divider(), section(rec.headline, { cli }));
  const actions = reportActions(id, report.recommendation);
  // The buttons are the next step when there are some; the core's hint is for the rest.
  if (actions) blocks.push(actions);
  else if (report.next) blocks.push(section(`Next: ${code(report.next)}`));
  blocks.push(context(`Validated ${escapeMrkdwn(formatTime(report.at, ctx.now))}`));
  return message(`Validate ${escapeMrkdwn(id)}: ${verdict} — ${summary}`, blocks);
}
