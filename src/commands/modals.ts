import type { App } from '@slack/bolt';
import { assertNever } from '../assert-never.js';
import { DENY_REASON_BLOCK_ID, VIEW_CALLBACK } from '../slack-ids.js';
import { errorView } from '../views/errors.js';
import { type HandlerContext, outcome, viewValues } from './context.js';
import { type SlackRestoreSource, type ThreadCommand, validateModalSubmission } from './grammar.js';

/** Form submissions: field errors go back inline (`response_action: errors`), the rest as for commands. */
export function registerModals(app: App, ctx: HandlerContext): void {
  app.view(VIEW_CALLBACK.recoveryForm, async ({ ack, body, view, client }) => {
    const values = viewValues(view.state);
    const checked = validateModalSubmission(values, { idPattern: ctx.idPattern });
    if (!checked.ok) {
      await ack({ response_action: 'errors', errors: checked.errors });
      ctx.metrics.commands.inc({ command: 'form', outcome: 'field_errors' });
      return;
    }
    await ack();
    let channelId = '';
    try {
      channelId = String(
        (JSON.parse(view.private_metadata || '{}') as { channelId?: string }).channelId ?? '',
      );
    } catch {
      channelId = '';
    }
    if (!channelId || !(await ctx.isIncidentChannel(channelId, undefined))) return;
    const text = describe(checked.command);
    const reply = await ctx.workflow.command(checked.command, text, { userId: body.user.id, channelId });
    ctx.metrics.commands.inc({ command: checked.command.kind, outcome: outcome(reply) });
    if (!reply.ok) {
      await client.chat.postEphemeral({
        channel: channelId,
        user: body.user.id,
        ...errorView(reply),
      });
    }
  });

  app.view(VIEW_CALLBACK.denyReason, async ({ ack, body, view, client }) => {
    const reason = (viewValues(view.state)[DENY_REASON_BLOCK_ID] ?? '').trim();
    if (!reason) {
      await ack({
        response_action: 'errors',
        errors: { [DENY_REASON_BLOCK_ID]: 'Say why, so the requester knows what to do instead.' },
      });
      return;
    }
    await ack();
    const id = view.private_metadata;
    const reply = id.startsWith('bj_')
      ? await ctx.workflow.bulkDeny(id, { userId: body.user.id }, reason)
      : await ctx.workflow.deny(id, { userId: body.user.id }, reason);
    if (!reply.ok && reply.channelId) {
      await client.chat.postEphemeral({
        channel: reply.channelId,
        user: body.user.id,
        ...errorView(reply),
      });
    }
  });
}

/** The command a form submission stands for, as it is recorded in the audit log. */
function describe(cmd: ThreadCommand): string {
  const from = (source: SlackRestoreSource) =>
    ` --from ${source.kind === 'tier' ? source.tier : `backup:${source.backupId}`}`;
  const reason = (text: string | null) => (text ? ` --reason ${text}` : '');
  return `${commandText()} (form)`;

  function commandText(): string {
    switch (cmd.kind) {
      case 'inspect':
      case 'validate':
        return `${cmd.kind} ${cmd.id}`;
      case 'diff':
        return `diff ${cmd.id}${from(cmd.source)}`;
      case 'restore':
        return `restore ${cmd.id}${from(cmd.source)}${reason(cmd.reason)}`;
      case 'undo':
        return `undo ${cmd.backupId}${reason(cmd.reason)}`;
      case 'export':
        return `export ${cmd.id} --tier ${cmd.tier}`;
      case 'replay':
        return `replay ${cmd.id} --from-step ${cmd.fromStep}${reason(cmd.reason)}`;
      default:
        return assertNever(cmd, 'command kind');
    }
  }
}
