import type { DiffReport } from '../recovery/operations.js';
import type { StepSummary } from '../recovery/types.js';
import { SLASH_COMMAND } from '../slack-ids.js';
import { code, escapeMrkdwn, line, oneLine } from './escape.js';
import { firstLines, formatTime, plural } from './format.js';
import { clip } from './limits.js';
import { context, header, type KnownBlock, message, type SlackMessage, section } from './slack.js';

/** Per kind of change: enough to see the shape of it; the CLI lists every step. */
const STEPS_SHOWN = 15;

function role(r: string | null): string {
  return r === null ? '?' : escapeMrkdwn(clip(oneLine(r.slice(0, 80)), 40));
}

function stepLine(mark: string, s: StepSummary, now: Date | undefined): string {
  return `${mark} #${s.step} ${role(s.role)} · ${s.ts ? escapeMrkdwn(formatTime(s.ts, now, { seconds: true })) : 'no time'}`;
}

function changedLine(c: DiffReport['diff']['changed'][number], now: Date | undefined): string {
  const roles = c.from.role === c.to.role ? role(c.to.role) : `${role(c.from.role)} → ${role(c.to.role)}`;
  return `~ #${c.step} ${roles} · ${c.to.ts ? escapeMrkdwn(formatTime(c.to.ts, now, { seconds: true })) : 'no time'}`;
}

/** What a restore from the report's source would change in Redis, step by step. */
export function diffView(report: DiffReport, ctx: { now?: Date } = {}): SlackMessage {
  const { conversationId: id, diff } = report;
  const source = report.source;
  const cli = `zeus-recover diff ${id} --from ${source}`;
  const summary = line(report.summary, 1000);
  const blocks: KnownBlock[] = [header(`↔️ Diff ${id}: Redis ← ${source}`), section(`*${summary}*`, { cli })];
  if (report.sourceAnalysis && !report.sourceAnalysis.valid) {
    blocks.push(
      section(
        `⚠️ The ${code(source)} copy is not valid — a restore from it would be refused. Run ${code(`${SLASH_COMMAND} validate ${id}`)}.`,
      ),
    );
  }
  if (diff.identical) {
    blocks.push(
      section(
        `✅ No step differs: Redis and ${code(source)} hold the same ${plural(diff.unchanged, 'step')}.`,
      ),
    );
  } else {
    const groups: Array<[string, string[]]> = [
      [
        `*Added* (${diff.added.length})`,
        firstLines(diff.added, STEPS_SHOWN, (s) => stepLine('+', s, ctx.now), 'step'),
      ],
      [
        `*Removed* (${diff.removed.length})`,
        firstLines(diff.removed, STEPS_SHOWN, (s) => stepLine('−', s, ctx.now), 'step'),
      ],
      [
        `*Changed* (${diff.changed.length})`,
        firstLines(diff.changed, STEPS_SHOWN, (c) => changedLine(c, ctx.now), 'step'),
      ],
    ];
    for (const [title, lines] of groups) {
      if (lines.length > 0) blocks.push(section([title, ...lines].join('\n'), { cli }));
    }
  }
  const next =
    source === 'redis' || diff.identical
      ? null
      : `Restore: ${code(`${SLASH_COMMAND} restore ${id} --from ${source} --reason <why>`)}`;
  blocks.push(context(`Unchanged: ${plural(diff.unchanged, 'step')}`, ...(next ? [next] : [])));
  return message(`Diff ${escapeMrkdwn(id)}, Redis ← ${escapeMrkdwn(source)}: ${summary}`, blocks);
}
