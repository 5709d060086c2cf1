import type { AllMiddlewareArgs, App, SlackViewMiddlewareArgs, ViewSubmitAction } from '@slack/bolt';
import {
  BREAK_GLASS_BLOCK_ID,
  CANCEL_REASON_BLOCK_ID,
  DENY_REASON_BLOCK_ID,
  OPERATION_REASON_BLOCK_ID,
  STEP_UP_BLOCK_ID,
  VIEW_CALLBACK,
} from '../slack-ids.js';
import { errorView } from '../views/errors.js';
import type { Reply } from '../workflow/workflow.js';
import { type HandlerContext, outcome, viewValues } from './context.js';
import { isCommandError, normaliseText, parseCommand, validateModalSubmission } from './grammar.js';
import { commandText } from './modal-validation.js';
import { readReasonFormMetadata, reasonForm } from './reason-form.js';

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
    let channelId = '';
    try {
      channelId = String(
        (JSON.parse(view.private_metadata || '{}') as { channelId?: string }).channelId ?? '',
      );
    } catch {
      channelId = '';
    }
    if (checked.command.kind === 'needs_reason') {
      // A restore, undo or replay: the same form asks for the reason next, and that one is required.
      await ack({ response_action: 'update', view: reasonForm(checked.command.command, channelId) });
      return;
    }
    await ack();
    if (!channelId || !(await ctx.isIncidentChannel(channelId, undefined))) return;
    const text = `${commandText(checked.command)} (form)`;
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

  // The reason a restore, undo or replay needs, after a button or the form chose it.
  app.view(VIEW_CALLBACK.operationReason, async ({ ack, body, view, client }) => {
    const reason = normaliseText(viewValues(view.state)[OPERATION_REASON_BLOCK_ID] ?? '').trim();
    const state = readReasonFormMetadata(view.private_metadata);
    // Parsed again as if typed: the grammar checks the id, the source and the reason's length.
    const parsed = state ? parseCommand(state.text, { idPattern: ctx.idPattern, reason }) : null;
    if (parsed === null || isCommandError(parsed)) {
      const why =
        parsed === null ? 'This form lost what it was for; close it and start again.' : parsed.message;
      await ack({ response_action: 'errors', errors: { [OPERATION_REASON_BLOCK_ID]: why } });
      return;
    }
    if (parsed.kind !== 'restore' && parsed.kind !== 'undo' && parsed.kind !== 'replay') {
      await ack({
        response_action: 'errors',
        errors: { [OPERATION_REASON_BLOCK_ID]: 'This form only asks for restores, undos and replays.' },
      });
      return;
    }
    await ack();
    const channelId = state?.channelId ?? '';
    if (!channelId || !(await ctx.isIncidentChannel(channelId, undefined))) return;
    const who = { userId: body.user.id, channelId };
    const typed = state?.clicked ? state.text : `${state?.text ?? ''} (form)`;
    const reply = await ctx.workflow.command(
      parsed,
      typed,
      who,
      state?.clicked ? { clicked: state.clicked } : {},
    );
    ctx.metrics.commands.inc({ command: parsed.kind, outcome: outcome(reply) });
    if (!reply.ok)
      await client.chat.postEphemeral({ channel: channelId, user: body.user.id, ...errorView(reply) });
  });

  // The step-up confirmation and the break-glass reason: a wrong entry is a field error and counts as nothing.
  const approveForm =
    (
      blockId: string,
      check: (requestId: string, userId: string, typed: string) => Promise<string | null>,
      key: 'confirmation' | 'breakGlassReason',
    ) =>
    async ({ ack, body, view, client }: Parameters<Parameters<App['view']>[1]>[0]) => {
      const typed = normaliseText(viewValues(view.state)[blockId] ?? '');
      const requestId = view.private_metadata;
      const why = await check(requestId, body.user.id, typed);
      if (why !== null) {
        await ack({ response_action: 'errors', errors: { [blockId]: why } });
        return;
      }
      await ack();
      const who = { userId: body.user.id };
      const reply = requestId.startsWith('bj_')
        ? await ctx.workflow.bulkApprove(requestId, who, { [key]: typed })
        : await ctx.workflow.approve(requestId, who, { [key]: typed });
      const channelId = reply.channelId ?? (await ctx.requestChannel(requestId).catch(() => null));
      if (channelId) {
        await client.chat.postEphemeral({
          channel: channelId,
          user: body.user.id,
          ...(reply.ok ? { text: reply.message } : errorView(reply)),
        });
      }
    };
  app.view(
    VIEW_CALLBACK.stepUp,
    approveForm(
      STEP_UP_BLOCK_ID,
      (id, _user, typed) => ctx.workflow.checkConfirmation(id, typed),
      'confirmation',
    ),
  );
  app.view(
    VIEW_CALLBACK.breakGlass,
    approveForm(
      BREAK_GLASS_BLOCK_ID,
      (id, user, typed) => ctx.workflow.checkBreakGlassReason(id, user, typed),
      'breakGlassReason',
    ),
  );

  /**
   * A reason form with one required field (cancel, deny): an empty reason is refused under the
   * field, and what goes wrong afterwards is told privately in the request's channel.
   */
  const reasonSubmit =
    (
      blockId: string,
      ask: string,
      act: (id: string, who: { userId: string }, reason: string) => Promise<Reply>,
    ) =>
    async ({ ack, body, view, client }: SlackViewMiddlewareArgs<ViewSubmitAction> & AllMiddlewareArgs) => {
      const reason = normaliseText(viewValues(view.state)[blockId] ?? '').trim();
      if (!reason) {
        await ack({ response_action: 'errors', errors: { [blockId]: ask } });
        return;
      }
      await ack();
      const reply = await act(view.private_metadata, { userId: body.user.id }, reason);
      if (!reply.ok && reply.channelId) {
        await client.chat.postEphemeral({
          channel: reply.channelId,
          user: body.user.id,
          ...errorView(reply),
        });
      }
    };
  app.view(
    VIEW_CALLBACK.cancelReason,
    reasonSubmit(
      CANCEL_REASON_BLOCK_ID,
      'Say why, so the approvers know it no longer needs them.',
      // The same form cancels a request or a bulk job (bj_…): its metadata is the id.
      (id, who, reason) =>
        id.startsWith('bj_')
          ? ctx.workflow.bulkCancel(id, who, reason)
          : ctx.workflow.cancel(id, who, reason),
    ),
  );
  // The same form denies a request or a bulk job (bj_…): its metadata is the id.
  app.view(
    VIEW_CALLBACK.denyReason,
    reasonSubmit(
      DENY_REASON_BLOCK_ID,
      'Say why, so the requester knows what to do instead.',
      (id, who, reason) =>
        id.startsWith('bj_') ? ctx.workflow.bulkDeny(id, who, reason) : ctx.workflow.deny(id, who, reason),
    ),
  );
}
