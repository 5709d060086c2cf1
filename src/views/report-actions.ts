import { parseJsonObject } from '../json-value.js';
import type { Recommendation } from '../recovery/types.js';
import { ACTION } from '../slack-ids.js';
import { type KnownBlock, plain } from './slack.js';
import { TIER_LABEL } from './tiers.js';

/**
 * The buttons under a report that recommends restoring from a tier: the next step is obvious, so
 * a click replaces retyping an 80-character command. Restore asks for the reason in a form and
 * files the usual approval request; Diff posts what that restore would change.
 */

export const REPORT_ACTIONS_BLOCK_ID = 'report_actions';

export interface ReportTarget {
  id: string;
  source: 'postgres' | 's3';
}

// The buttons' value is written and read here only, so its format cannot drift between the two.
export function reportTargetValue(t: ReportTarget): string {
  return JSON.stringify({ id: t.id, source: t.source });
}

/** The value back, or null when it is not one these buttons carry. The id is checked by the handler. */
export function readReportTarget(value: string): ReportTarget | null {
  const parsed = parseJsonObject(value, 400);
  if (parsed === null) return null;
  const { id, source } = parsed;
  if (typeof id !== 'string' || (source !== 'postgres' && source !== 's3')) return null;
  return { id, source };
}

/** The button labels, which the thread's echo of a click repeats. */
export function restoreButtonLabel(source: ReportTarget['source']): string {
  return `Restore from ${TIER_LABEL[source]}…`;
}
export const DIFF_BUTTON_LABEL = 'Diff';

/** The actions block, or null when the recommendation names no tier to restore from. */
export function reportActions(id: string, rec: Recommendation): KnownBlock | null {
  if (rec.source !== 'postgres' && rec.source !== 's3') return null;
  const value = reportTargetValue({ id, source: rec.source });
  return {
    type: 'actions',
    block_id: REPORT_ACTIONS_BLOCK_ID,
    elements: [
      {
        type: 'button',
        action_id: ACTION.reportRestore,
        text: plain(restoreButtonLabel(rec.source)),
        style: 'primary',
        value,
      },
      { type: 'button', action_id: ACTION.reportDiff, text: plain(DIFF_BUTTON_LABEL), value },
    ],
  };
}
