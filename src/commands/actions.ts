import type {
  AllMiddlewareArgs,
  App,
  BlockAction,
  ButtonAction,
  SlackActionMiddlewareArgs,
} from '@slack/bolt';
import { ErrorCode, isRecoveryError } from '../errors.js';
import { assertConversationId } from '../recovery/ids.js';
import { isBackupId } from '../recovery/sources.js';
import { ACTION } from '../slack-ids.js';
import { CLICK_REFUSALS } from '../views/click-refusals.js';
import { errorView, errorWithInspectButtons, inspectButtonLabel } from '../views/errors.js';
import { LIST_PAGE_SIZE, LIST_REFUSALS, listView, readNextPageValue } from '../views/list.js';
import { cancelReasonModal, denyReasonModal } from '../views/modal.js';
import { breakGlassModal, stepUpModal } from '../views/policies.js';
import {
  DIFF_BUTTON_LABEL,
  type ReportTarget,
  readReportTarget,
  restoreButtonLabel,
} from '../views/report-actions.js';
import { UNDO_BUTTON_LABEL } from '../views/restore.js';
import type { ModalView } from '../views/slack.js';
import { postedNote } from '../views/working.js';
import type { Reply } from '../workflow/workflow.js';
import { type HandlerContext, outcome } from './context.js';
import { commandText } from './modal-validation.js';
import { reasonForm } from './reason-form.js';

export type Respond = (message: {
  response_type: 'ephemeral';
  replace_original: boolean;
  text: string;
  blocks?: unknown[];
}) => Promise<unknown>;

export async function tell(respond: Respond, reply: Reply): Promise<void> {
  if (!reply.message) return;
  const view = reply.ok ? { text: reply.message } : errorView(reply);
  await respond({ response_type: 'ephemeral', replace_original: false, ...view } as Parameters<Respond>[0]);
}

/**
 * A decision counts only where the request was made: the approval message lives in that
 * channel's thread, and a click carrying another channel (a forwarded or copied message, a DM,
 * a crafted payload) is not the team in that channel deciding. A request that does not exist
 * passes, so the workflow says so.
 */
export async function refusedElsewhere(
  ctx: HandlerContext,
  requestId: string,
  channelId: string | undefined,
): Promise<Reply | null> {
  let expected: string | null;
  try {
    expected = await ctx.requestChannel(requestId);
  } catch (err) {
    ctx.logger.warn({ err, requestId }, 'could not read the channel of a request');
    return {
      ok: false,
      ...CLICK_REFUSALS.channelUnknown,
      code: isRecoveryError(err) ? err.code : ErrorCode.Internal,
    };
  }
  if (expected === null || expected === channelId) return null;
  return { ok: false, ...CLICK_REFUSALS.otherChannel, code: ErrorCode.Forbidden };
}

/**
 * The channel of a click, when it is an incident channel; else the refusal to answer with (a
 * message shared or moved elsewhere is not a place to act from).
 */
async function incidentChannel(
  ctx: HandlerContext,
  channel: { id?: string; name?: string } | undefined,
  refusal: { message: string; hint?: string },
): Promise<string | Reply> {
  if (channel?.id && (await ctx.isIncidentChannel(channel.id, channel.name))) return channel.id;
  return { ok: false, ...refusal, code: ErrorCode.Forbidden };
}

function isConversationId(id: string, pattern: RegExp): boolean {
  try {
    assertConversationId(id, pattern);
    return true;
  } catch {
    return false;
  }
}

/**
 * The buttons. The acting user is always `body.user.id` from the signed payload; a button's
 * value carries only which request (or backup) it is about.
 */
export function registerActions(app: App, ctx: HandlerContext): void {
  // Approve and cancel need nothing but the request id: the same handler, a different decision.
  // Cancel needs a reason, as a deny does: the rules first, then the form (modals.ts files it).
  /**
   * A decision that needs a reason (deny, cancel, a bulk job's deny): the rules are checked first,
   * and only then the reason form opens; its submission does the rest (modals.ts). The workflow
   * is reached at click time, not at registration.
   */
  const reasonFirst =
    (
      check: (id: string, userId: string) => Promise<Reply>,
      form: (id: string, checked: Reply) => ModalView,
    ) =>
    async ({
      ack,
      body,
      action,
      respond,
      client,
    }: SlackActionMiddlewareArgs<BlockAction<ButtonAction>> & AllMiddlewareArgs) => {
      await ack();
      const id = action.value ?? '';
      const checked = (await refusedElsewhere(ctx, id, body.channel?.id)) ?? (await check(id, body.user.id));
      if (!checked.ok) {
        await tell(respond as Respond, checked);
        return;
      }
      await client.views.open({ trigger_id: body.trigger_id, view: form(id, checked) });
    };
  // The cancel form names what is cancelled (the check's message on success).
  app.action<BlockAction<ButtonAction>>(
    ACTION.cancel,
    reasonFirst(
      (id, userId) => ctx.workflow.canCancel(id, userId),
      (id, checked) => cancelReasonModal(id, checked.message),
    ),
  );
  // Approve may first need a form (step-up confirmation, break-glass reason: workflow/policies.ts).
  app.action<BlockAction<ButtonAction>>(ACTION.approve, async ({ ack, body, action, respond, client }) => {
    await ack();
    const requestId = action.value ?? '';
    const refused = await refusedElsewhere(ctx, requestId, body.channel?.id);
    if (refused) {
      await tell(respond as Respond, refused);
      return;
    }
    const click = await ctx.workflow.approveClick(requestId, { userId: body.user.id });
    if (click.form === null) {
      await tell(respond as Respond, click.reply);
      return;
    }
    const view =
      click.form === 'step_up'
        ? stepUpModal({ id: click.requestId, operation: click.operation, what: 'request' })
        : breakGlassModal(click.requestId, click.operation, click.min);
    await client.views.open({ trigger_id: body.trigger_id, view });
  });
  app.action<BlockAction<ButtonAction>>(ACTION.markReviewed, async ({ ack, body, action, respond }) => {
    await ack();
    const requestId = action.value ?? '';
    const refused = await refusedElsewhere(ctx, requestId, body.channel?.id);
    await tell(
      respond as Respond,
      refused ??
        (requestId.startsWith('bj_')
          ? await ctx.workflow.bulkMarkReviewed(requestId, { userId: body.user.id })
          : await ctx.workflow.markReviewed(requestId, { userId: body.user.id })),
    );
  });
  app.action<BlockAction<ButtonAction>>(
    ACTION.breakerResetApprove,
    async ({ ack, body, action, respond }) => {
      await ack();
      await tell(
        respond as Respond,
        await ctx.workflow.approveBreakerReset(action.value ?? '', { userId: body.user.id }),
      );
    },
  );

  app.action<BlockAction<ButtonAction>>(
    ACTION.bulkApprove,
    async ({ ack, body, action, respond, client }) => {
      await ack();
      const jobId = action.value ?? '';
      const refused = await refusedElsewhere(ctx, jobId, body.channel?.id);
      const click = refused ? null : await ctx.workflow.bulkApproveClick(jobId, { userId: body.user.id });
      if (click?.form === 'step_up' || click?.form === 'break_glass') {
        // The same forms as a request's (the typed count, the break-glass reason), their metadata the job id.
        const operation = `bulk restore of ${click.total} conversations`;
        const view =
          click.form === 'step_up'
            ? stepUpModal({ id: jobId, operation, what: 'bulk' })
            : breakGlassModal(jobId, operation, click.min);
        await client.views.open({ trigger_id: body.trigger_id, view });
        return;
      }
      await tell(respond as Respond, refused ?? (click as { reply: Reply }).reply);
    },
  );
  // A bulk job's Cancel (card or progress message) asks why, as a request's does: the same form,
  // its metadata the job id.
  app.action<BlockAction<ButtonAction>>(
    ACTION.bulkCancel,
    reasonFirst(
      (id, userId) => ctx.workflow.bulkCanCancel(id, userId),
      (id, checked) => cancelReasonModal(id, checked.message),
    ),
  );
  // The same reason form as a request's deny: its metadata is the job id.
  app.action<BlockAction<ButtonAction>>(
    ACTION.bulkDeny,
    reasonFirst(
      (id, userId) => ctx.workflow.bulkCanDeny(id, userId),
      (id) => denyReasonModal(id),
    ),
  );

  // The reason form carries only the request id; the click is the only place the channel is known.
  app.action<BlockAction<ButtonAction>>(
    ACTION.deny,
    reasonFirst(
      (id, userId) => ctx.workflow.canDeny(id, userId),
      (id) => denyReasonModal(id),
    ),
  );

  app.action<BlockAction<ButtonAction>>(ACTION.undo, async ({ ack, body, action, respond, client }) => {
    await ack();
    const channelId = await incidentChannel(ctx, body.channel, CLICK_REFUSALS.undoOutsideIncident);
    if (typeof channelId !== 'string') {
      await tell(respond as Respond, channelId);
      return;
    }
    // Checked before the workflow records the command: a malformed value is nobody's undo.
    if (!isBackupId(action.value ?? '')) {
      await tell(respond as Respond, {
        ok: false,
        ...CLICK_REFUSALS.notABackup,
        code: ErrorCode.InvalidInput,
      });
      return;
    }
    const backupId = action.value ?? '';
    // A backup already put back answers privately; nothing goes to the thread.
    const check = await ctx.workflow.canUndo(backupId);
    if (!check.ok) {
      await tell(respond as Respond, check);
      return;
    }
    await client.views.open({
      trigger_id: body.trigger_id,
      view: reasonForm({ kind: 'undo', backupId }, channelId, UNDO_BUTTON_LABEL),
    });
  });

  // Under a report that recommends a tier: Restore asks for the reason, Diff posts the preview.
  const reportTarget = async (
    body: BlockAction<ButtonAction>,
    value: string | undefined,
  ): Promise<{ target: ReportTarget; channelId: string } | Reply> => {
    const channelId = await incidentChannel(ctx, body.channel, CLICK_REFUSALS.reportOutsideIncident);
    if (typeof channelId !== 'string') return channelId;
    const target = readReportTarget(value ?? '');
    if (target === null || !isConversationId(target.id, ctx.idPattern)) {
      return { ok: false, ...CLICK_REFUSALS.notAReport, code: ErrorCode.InvalidInput };
    }
    return { target, channelId };
  };
  app.action<BlockAction<ButtonAction>>(
    ACTION.reportRestore,
    async ({ ack, body, action, respond, client }) => {
      await ack();
      const got = await reportTarget(body, action.value);
      if ('ok' in got) {
        await tell(respond as Respond, got);
        return;
      }
      const { target, channelId } = got;
      await client.views.open({
        trigger_id: body.trigger_id,
        view: reasonForm(
          { kind: 'restore', id: target.id, source: { kind: 'tier', tier: target.source } },
          channelId,
          restoreButtonLabel(target.source),
        ),
      });
    },
  );
  // A close match under "no tier holds c-x": inspected as a click, replacing the answer it was on.
  app.action<BlockAction<ButtonAction>>(ACTION.inspectId, async ({ ack, body, action, respond }) => {
    await ack();
    const id = action.value ?? '';
    const channelId = await incidentChannel(ctx, body.channel, CLICK_REFUSALS.reportOutsideIncident);
    if (typeof channelId !== 'string') {
      await tell(respond as Respond, channelId);
      return;
    }
    if (!isConversationId(id, ctx.idPattern)) {
      await tell(respond as Respond, {
        ok: false,
        ...CLICK_REFUSALS.notAReport,
        code: ErrorCode.InvalidInput,
      });
      return;
    }
    const cmd = { kind: 'inspect', id } as const;
    const reply = await ctx.workflow.command(
      cmd,
      commandText(cmd),
      { userId: body.user.id, channelId },
      {
        clicked: inspectButtonLabel(id),
        link: true,
      },
    );
    ctx.metrics.commands.inc({ command: 'inspect', outcome: outcome(reply) });
    await (respond as Respond)(
      reply.ok
        ? postedNote(reply.message, reply.link)
        : {
            ...errorWithInspectButtons(reply, reply.near ?? []),
            response_type: 'ephemeral',
            replace_original: true,
          },
    );
  });

  app.action<BlockAction<ButtonAction>>(ACTION.reportDiff, async ({ ack, body, action, respond }) => {
    await ack();
    const got = await reportTarget(body, action.value);
    if ('ok' in got) {
      await tell(respond as Respond, got);
      return;
    }
    const { target, channelId } = got;
    const cmd = { kind: 'diff', id: target.id, source: { kind: 'tier', tier: target.source } } as const;
    const reply = await ctx.workflow.command(
      cmd,
      commandText(cmd),
      { userId: body.user.id, channelId },
      {
        clicked: DIFF_BUTTON_LABEL,
      },
    );
    ctx.metrics.commands.inc({ command: 'diff', outcome: outcome(reply) });
    // The diff itself is in the thread; only a failure needs saying here.
    if (!reply.ok) await tell(respond as Respond, reply);
  });

  // The next page of a private `list`: it replaces the page the button was on.
  app.action<BlockAction<ButtonAction>>(ACTION.listNextPage, async ({ ack, body, action, respond }) => {
    await ack();
    const page = readNextPageValue(action.value ?? '');
    if (page === null) {
      await tell(respond as Respond, { ok: false, ...LIST_REFUSALS.notAPage, code: ErrorCode.InvalidInput });
      return;
    }
    const channelId = await incidentChannel(ctx, body.channel, LIST_REFUSALS.outsideIncident);
    if (typeof channelId !== 'string') {
      await tell(respond as Respond, channelId);
      return;
    }
    const reply = await ctx.workflow.list(
      { ...page, limit: LIST_PAGE_SIZE },
      { userId: body.user.id, channelId },
    );
    ctx.metrics.commands.inc({ command: 'list', outcome: outcome(reply) });
    if (!reply.ok) {
      await tell(respond as Respond, reply);
      return;
    }
    await (respond as Respond)({ ...listView(reply.result, { first: false }), replace_original: true });
  });
}
