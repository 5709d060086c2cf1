import type { App } from '@slack/bolt';
import { assertNever } from '../assert-never.js';
import { SLASH_COMMAND } from '../slack-ids.js';
import { errorView, errorWithInspectButtons, notIncidentChannelView } from '../views/errors.js';
import { commandErrorView, helpView } from '../views/help.js';
import { LIST_PAGE_SIZE, listView } from '../views/list.js';
import { recoveryModal } from '../views/modal.js';
import { bulkWorkingNote, postedNote, workingNote } from '../views/working.js';
import type { Reply } from '../workflow/context.js';
import { type HandlerContext, outcome } from './context.js';
import { isCommandError, normaliseText, parseCommand } from './grammar.js';

/**
 * How long a private channel's name lookup may hold the ack. Slack waits 3 s; a cached or quick
 * lookup lets the refusal (or the answer) be the ack itself, a slow one is answered after it.
 */
const LOOKUP_BUDGET_MS = 1500;

/**
 * `/zeus-recover …`: where first, then what. A channel where the command is not allowed gets
 * the refusal and nothing else: the text is not even parsed there. Then parse errors and help
 * are the ack itself; real work is acked first and done after.
 */
export function registerSlashCommand(app: App, ctx: HandlerContext): void {
  app.command(SLASH_COMMAND, async ({ command, ack, respond, client, context }) => {
    const count = (command: string, outcome: string) => ctx.metrics.commands.inc({ command, outcome });
    let acked = false;
    /** The ack while Slack still waits for it, the response_url after. */
    const answer = async (message?: Parameters<typeof ack>[0] & Parameters<typeof respond>[0]) => {
      if (!acked) {
        acked = true;
        await ack(message);
      } else if (message) {
        await respond(message);
      }
    };

    // Public channels are named in the payload; private ones and DMs are looked up.
    const named =
      Boolean(command.channel_name) && !['privategroup', 'directmessage'].includes(command.channel_name);
    const lookup = ctx.isIncidentChannel(command.channel_id, named ? command.channel_name : undefined);
    let allowed = named ? await lookup : await withinBudget(lookup);
    if (allowed === undefined) {
      await answer();
      allowed = await lookup;
    }
    if (!allowed) {
      await answer(notIncidentChannelView(ctx.incidentChannelPattern));
      count('unparsed', 'wrong_channel');
      return;
    }

    const parsed = parseCommand(command.text, { idPattern: ctx.idPattern });
    if (isCommandError(parsed)) {
      await answer(commandErrorView(parsed));
      count('invalid', 'usage_error');
      return;
    }
    const who = { userId: command.user_id, channelId: command.channel_id };
    switch (parsed.kind) {
      case 'help':
        await answer(helpView());
        count('help', 'ok');
        return;
      case 'modal':
        // trigger_id lives 3 s: open the form right after the ack, before anything slow.
        await answer();
        count('modal', 'ok');
        await client.views.open({
          trigger_id: command.trigger_id,
          view: recoveryModal({ channelId: command.channel_id }),
        });
        return;
      case 'list': {
        // Private and quick: no "Working on" note and nothing in the channel, just the page.
        await answer();
        const reply = await ctx.workflow.list(
          { pattern: parsed.pattern, cursor: null, limit: LIST_PAGE_SIZE },
          who,
        );
        count('list', outcome(reply));
        await respond(reply.ok ? listView(reply.result, { first: true }) : errorView(reply));
        return;
      }
      case 'inspect':
      case 'validate':
      case 'diff':
      case 'restore':
      case 'undo':
      case 'export':
      case 'replay':
      case 'unlock': {
        // Slack sends the text HTML-escaped; the audit log records what the person typed.
        const typed = normaliseText(command.text);
        await answer(workingNote(typed.trim()));
        // Counted once, when the work is done: the wait for the thread link is not the command's.
        const releaseTurn = releaseTurnOf(context);
        let counted = false;
        const done = (reply: Reply) => {
          releaseTurn();
          if (counted) return;
          counted = true;
          count(parsed.kind, outcome(reply));
        };
        const reply = await ctx.workflow.command(parsed, typed, who, { link: true, workDone: done });
        done(reply);
        // The note is replaced in place: by a link to the thread, or by what went wrong.
        await respond(
          reply.ok
            ? postedNote(reply.message, reply.link)
            : { ...errorWithInspectButtons(reply, reply.near ?? []), replace_original: true },
        );
        return;
      }
      case 'bulk-restore':
      case 'resume': {
        // The preview reads the whole selection: acked first, answered privately, told in the job's thread.
        await answer(bulkWorkingNote(normaliseText(command.text).trim()));
        const reply =
          parsed.kind === 'resume'
            ? await ctx.workflow.bulkResume(parsed.jobId, parsed.reason, who)
            : await ctx.workflow.bulkRequest(parsed, normaliseText(command.text), who);
        count(parsed.kind, outcome(reply));
        // The note is replaced in place, as for the other commands: one note per command stays.
        await respond(
          reply.ok ? postedNote(reply.message, null) : { ...errorView(reply), replace_original: true },
        );
        return;
      }
      case 'breaker-reset': {
        await answer();
        const reply = await ctx.workflow.breakerReset(parsed.reason, who);
        count(parsed.kind, outcome(reply));
        await respond(reply.ok ? { response_type: 'ephemeral', text: reply.message } : errorView(reply));
        return;
      }
      case 'job':
      case 'jobs': {
        await answer();
        const reply =
          parsed.kind === 'job' ? await ctx.workflow.bulkJob(parsed.jobId) : await ctx.workflow.bulkJobs();
        count(parsed.kind, outcome(reply));
        await respond(reply.ok ? reply.view : errorView(reply));
        return;
      }
      default:
        assertNever(parsed, 'command kind');
    }
  });
}

/**
 * The turn the door's gate (slack/load-gate.ts) gave this command, from Bolt's context; a no-op
 * when the command was not gated.
 */
function releaseTurnOf(context: unknown): () => void {
  const release = (context as { releaseTurn?: unknown } | null | undefined)?.releaseTurn;
  return typeof release === 'function' ? (release as () => void) : () => undefined;
}

/** The lookup's answer if it comes within LOOKUP_BUDGET_MS, else undefined (it keeps running). */
async function withinBudget(lookup: Promise<boolean>): Promise<boolean | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), LOOKUP_BUDGET_MS);
  });
  try {
    return await Promise.race([lookup, late]);
  } finally {
    clearTimeout(timer);
  }
}
