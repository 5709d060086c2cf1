import type { App } from '@slack/bolt';
import { errorView, notIncidentChannelView } from '../views/errors.js';
import { commandErrorView, helpView } from '../views/help.js';
import { recoveryModal } from '../views/modal.js';
import type { HandlerContext } from './context.js';
import { isCommandError, parseCommand } from './grammar.js';
import { SLASH_COMMAND } from './registry.js';

/** `/zeus-recover …`: answer in milliseconds (parse errors, help), otherwise ack first, work after. */
export function registerSlashCommand(app: App, ctx: HandlerContext): void {
  app.command(SLASH_COMMAND, async ({ command, ack, respond, client }) => {
    const parsed = parseCommand(command.text, { idPattern: ctx.idPattern });
    const count = (command: string, outcome: string) => ctx.metrics.commands.inc({ command, outcome });
    if (isCommandError(parsed)) {
      await ack(commandErrorView(parsed));
      count('invalid', 'usage_error');
      return;
    }
    if (parsed.kind === 'help') {
      await ack(helpView());
      count('help', 'ok');
      return;
    }
    if (parsed.kind === 'modal') {
      // trigger_id lives 3 s: open the form right after the ack, before anything slow.
      await ack();
      if (!(await ctx.isIncidentChannel(command.channel_id, command.channel_name))) {
        await respond(notIncidentChannelView(ctx.incidentChannelPattern));
        count('modal', 'wrong_channel');
        return;
      }
      count('modal', 'ok');
      await client.views.open({
        trigger_id: command.trigger_id,
        view: recoveryModal({ channelId: command.channel_id }),
      });
      return;
    }
    // The payload names public channels, so this is usually decided without a Slack call and
    // the refusal can be the ack itself; a private channel's name is looked up after the ack.
    const named =
      Boolean(command.channel_name) && !['privategroup', 'directmessage'].includes(command.channel_name);
    if (named && !(await ctx.isIncidentChannel(command.channel_id, command.channel_name))) {
      await ack(notIncidentChannelView(ctx.incidentChannelPattern));
      count(parsed.kind, 'wrong_channel');
      return;
    }
    await ack({
      response_type: 'ephemeral',
      text: `⏳ Working on \`${parsed.kind}\`… the result goes to the incident thread.`,
    });
    if (!named && !(await ctx.isIncidentChannel(command.channel_id, command.channel_name))) {
      await respond(notIncidentChannelView(ctx.incidentChannelPattern));
      count(parsed.kind, 'wrong_channel');
      return;
    }
    const reply = await ctx.workflow.command(parsed, command.text, {
      userId: command.user_id,
      channelId: command.channel_id,
    });
    count(parsed.kind, reply.ok ? 'ok' : 'error');
    if (!reply.ok)
      await respond(
        errorView({ message: reply.message, hint: reply.hint ?? null, code: null, mentions: reply.mentions }),
      );
  });
}
