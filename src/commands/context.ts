import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { Reply, Workflow } from '../workflow/workflow.js';

/** What every Slack handler gets: the workflow to call and the two checks made before it. */
export interface HandlerContext {
  workflow: Workflow;
  idPattern: RegExp;
  incidentChannelPattern: string;
  /** Resolves a channel's name when the payload does not carry it (private channels). */
  isIncidentChannel(channelId: string, nameFromPayload: string | undefined): Promise<boolean>;
  /** The channel a request was made in (null: no such request); clicks count only from there. */
  requestChannel(requestId: string): Promise<string | null>;
  /** App Home (absent: the tab is not served); `opened` records the visit and queues a refresh. */
  home?: { opened(userId: string): Promise<void> };
  logger: Logger;
  metrics: Metrics;
}

/** Values of a submitted view, by block id: a text input's value or a select's choice. */
export function viewValues(state: {
  values: Record<
    string,
    Record<string, { value?: string | null; selected_option?: { value: string } | null }>
  >;
}): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const [blockId, actions] of Object.entries(state.values)) {
    const first = Object.values(actions)[0];
    out[blockId] = first?.selected_option?.value ?? first?.value ?? undefined;
  }
  return out;
}

/** The metrics label of a reply: `ok`, or the error's code (`error` when it has none). */
export function outcome(reply: Pick<Reply, 'ok' | 'code'>): string {
  return reply.ok ? 'ok' : (reply.code ?? 'error');
}
