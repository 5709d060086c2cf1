import type { App, BlockAction, ButtonAction } from '@slack/bolt';
import type { Reply } from '../slack/workflow.js';
import { errorView } from '../views/errors.js';
import { denyReasonModal } from '../views/modal.js';
import type { HandlerContext } from './context.js';

type Respond = (message: {
  response_type: 'ephemeral';
  replace_original: false;
  text: string;
  blocks?: unknown[];
}) => Promise<unknown>;

async function tell(respond: Respond, reply: Reply): Promise<void> {
  if (!reply.message) return;
  const view = reply.ok
    ? { text: reply.message }
    : errorView({ message: reply.message, hint: reply.hint ?? null, code: null, mentions: reply.mentions });
  await respond({ response_type: 'ephemeral', replace_original: false, ...view } as Parameters<Respond>[0]);
}

/**
 * The buttons. The acting user is always `body.user.id` from the signed payload; a button's
 * value carries only which request (or backup) it is about.
 */
export function registerActions(app: App, ctx: HandlerContext): void {
  app.action<BlockAction<ButtonAction>>('request_approve', async ({ ack, body, action, respond }) => {
    await ack();
    await tell(respond as Respond, await ctx.workflow.approve(action.value ?? '', { userId: body.user.id }));
  });

  app.action<BlockAction<ButtonAction>>('request_cancel', async ({ ack, body, action, respond }) => {
    await ack();
    await tell(respond as Respond, await ctx.workflow.cancel(action.value ?? '', { userId: body.user.id }));
  });

  app.action<BlockAction<ButtonAction>>('request_deny', async ({ ack, body, action, respond, client }) => {
    await ack();
    const requestId = action.value ?? '';
    const check = await ctx.workflow.canDeny(requestId, body.user.id);
    if (!check.ok) {
      await tell(respond as Respond, check);
      return;
    }
    await client.views.open({ trigger_id: body.trigger_id, view: denyReasonModal(requestId) });
  });

  app.action<BlockAction<ButtonAction>>('restore_undo', async ({ ack, body, action, respond }) => {
    await ack();
    const channelId = body.channel?.id;
    if (!channelId || !(await ctx.isIncidentChannel(channelId, body.channel?.name))) {
      await tell(respond as Respond, {
        ok: false,
        message: 'Undo works only in the incident channel the restore ran in.',
      });
      return;
    }
    await tell(
      respond as Respond,
      await ctx.workflow.requestUndo(action.value ?? '', { userId: body.user.id, channelId }),
    );
  });
}
