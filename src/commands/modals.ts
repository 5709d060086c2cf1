import type { App } from '@slack/bolt';
import { errorView } from '../views/errors.js';
import { type HandlerContext, viewValues } from './context.js';
import { validateModalSubmission } from './grammar.js';

/** Form submissions: field errors go back inline (`response_action: errors`), the rest as for commands. */
export function registerModals(app: App, ctx: HandlerContext): void {
  app.view('zeus_recover_modal', async ({ ack, body, view, client }) => {
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
    ctx.metrics.commands.inc({ command: checked.command.kind, outcome: reply.ok ? 'ok' : 'error' });
    if (!reply.ok) {
      await client.chat.postEphemeral({
        channel: channelId,
        user: body.user.id,
        ...errorView({
          message: reply.message,
          hint: reply.hint ?? null,
          code: null,
          mentions: reply.mentions,
        }),
      });
    }
  });

  app.view('deny_reason_modal', async ({ ack, body, view, client }) => {
    const reason = (viewValues(view.state).deny_reason ?? '').trim();
    if (!reason) {
      await ack({
        response_action: 'errors',
        errors: { deny_reason: 'Say why, so the requester knows what to do instead.' },
      });
      return;
    }
    await ack();
    const reply = await ctx.workflow.deny(view.private_metadata, { userId: body.user.id }, reason);
    if (!reply.ok && reply.channelId) {
      await client.chat.postEphemeral({
        channel: reply.channelId,
        user: body.user.id,
        ...errorView({
          message: reply.message,
          hint: reply.hint ?? null,
          code: null,
          mentions: reply.mentions,
        }),
      });
    }
  });
}

/** The command a form submission stands for, as it is recorded in the audit log. */
function describe(cmd: { kind: string } & Record<string, unknown>): string {
  const parts = [cmd.kind];
  if (typeof cmd.id === 'string') parts.push(cmd.id);
  if (typeof cmd.backupId === 'string') parts.push(cmd.backupId);
  const source = cmd.source as { kind: string; tier?: string; backupId?: string } | undefined;
  if (source)
    parts.push('--from', source.kind === 'tier' ? String(source.tier) : `backup:${source.backupId}`);
  if (typeof cmd.fromStep === 'number') parts.push('--from-step', String(cmd.fromStep));
  if (typeof cmd.reason === 'string' && cmd.reason) parts.push('--reason', cmd.reason);
  return `${parts.join(' ')} (form)`;
}
