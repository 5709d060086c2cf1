import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import { ACTION, APP_HOME_OPENED } from '../slack-ids.js';
import { type Respond, refusedElsewhere, tell } from './actions.js';
import { type HandlerContext, outcome } from './context.js';

/**
 * The App Home tab and the Renew button of an expired request.
 *
 * `app_home_opened` (Bolt acks events itself): the visit is recorded and a refresh queued;
 * the tab is published by whichever replica takes the job (server.ts), never from here.
 */
export function registerHome(app: App, ctx: HandlerContext): void {
  app.event(APP_HOME_OPENED, async ({ event }) => {
    const home = ctx.home;
    if (!home || event.tab !== 'home') return;
    try {
      await home.opened(event.user);
    } catch (err) {
      // Slack shows the tab as last published; the next change or visit publishes it again.
      ctx.logger.warn({ err, user: event.user }, 'could not queue an App Home refresh');
    }
  });

  app.action<BlockAction<ButtonAction>>(ACTION.requestRenew, async ({ ack, body, action, respond }) => {
    await ack();
    const requestId = action.value ?? '';
    const reply =
      (await refusedElsewhere(ctx, requestId, body.channel?.id)) ??
      (await ctx.workflow.renew(requestId, { userId: body.user.id, channelId: body.channel?.id ?? '' }));
    ctx.metrics.commands.inc({ command: 'renew', outcome: outcome(reply) });
    await tell(respond as Respond, reply);
  });
}
