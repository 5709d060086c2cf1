import type { AuditData } from '../audit-vocabulary.js';
import { code } from './escape.js';
import { message, type SlackMessage, section } from './slack.js';

/** A bulk job found with unfinished chunks and no worker, anywhere, to work them. */
export function bulkOrphanedView(d: AuditData<'bulk.orphaned'>): SlackMessage {
  const chunks = `${d.unfinished} chunk${d.unfinished === 1 ? '' : 's'}`;
  const what =
    d.state === 'cancelled'
      ? `Bulk restore ${code(d.jobId)} was being cancelled, and no worker is left to finish its last ${chunks}: it is now *cancelled*.`
      : `Bulk restore ${code(d.jobId)} stopped with ${chunks} unfinished and no live worker (a worker was killed and no other will take its chunks over): it is now *failed*.`;
  const next = `Nothing done so far is redone: \`/zeus-recover resume ${d.jobId} --reason "…"\` (or \`zeus-recover resume ${d.jobId} --yes --reason "…"\`) goes on from where it stopped.`;
  const text = `⚠️ ${what} ${next}`;
  return message(text, [section(text)]);
}
