import type { AuditEvent } from '../audit-vocabulary.js';
import { errorMessage } from '../errors.js';
import type { CoreDeps } from '../recovery/deps.js';
import { auditTo } from '../store/audit.js';
import { incidentThreadChannel } from '../store/threads.js';
import type { Runtime } from '../wiring.js';
import type { CliIo } from './io.js';

/**
 * The CLI's part of a conversation's story in its incident thread. The CLI holds no Slack token:
 * it appends its audit entries with a delivery row for the thread's channel (one transaction, as
 * the bot does), and the bot's deliverer posts them there in audit order. With no thread, the
 * entries stay in the audit log only, as before.
 */
export interface ThreadStory {
  /** The thread's channel, or null: nothing of this run is posted. */
  channelId: string | null;
  /** The core's deps, with every audit entry it appends also delivered to the thread. */
  deps: CoreDeps;
  /** Appends the command line, then `events`, for delivery to the thread; a failure is said on stderr, not thrown. */
  tell(...events: AuditEvent[]): Promise<void>;
}

export interface StoryOptions {
  rt: Runtime;
  schema: string;
  io: CliIo;
  conversationId: string;
  actor: string;
  /** The command line as typed, shown in the thread. */
  commandLine: string;
  /** Why not to look for the thread at all (the lookup would only wait on a store that is down). */
  skip?: string | null;
}

/**
 * Finds the conversation's incident thread. A lookup that fails (Postgres down, say) costs the
 * thread its copy of this run, never the run itself: the CLI is what works when things are down.
 */
export async function threadStory(opts: StoryOptions): Promise<ThreadStory> {
  const { rt, io, conversationId } = opts;
  let channelId: string | null = null;
  if (opts.skip) {
    io.stderr(
      `zeus-recover: ${opts.skip}, so this run is not posted to ${conversationId}'s incident thread (if it has one).\n`,
    );
  } else {
    try {
      channelId = await incidentThreadChannel(rt.pool, opts.schema, conversationId);
    } catch (err) {
      io.stderr(
        `zeus-recover: could not look for ${conversationId}'s incident thread (${errorMessage(err)}); this run is not posted to Slack.\n`,
      );
    }
  }
  if (channelId === null) {
    return { channelId, deps: rt.deps, tell: async () => {} };
  }
  const channel = channelId;
  let echoed = false;
  const deps = { ...rt.deps, audit: auditTo(rt.deps.audit, channel) };
  return {
    channelId,
    deps,
    async tell(...events) {
      const all: AuditEvent[] = echoed
        ? events
        : [
            {
              action: 'command.received',
              actor: opts.actor,
              conversationId,
              requestId: null,
              data: { command: opts.commandLine },
            },
            ...events,
          ];
      try {
        for (const event of all) {
          await deps.audit.append(event);
          if (!echoed)
            io.stderr(`Posted to ${conversationId}'s incident thread (Slack channel ${channel}).\n`);
          echoed = true;
        }
      } catch (err) {
        io.stderr(
          `zeus-recover: could not record this in the audit log for ${conversationId}'s incident thread (${errorMessage(err)}); the thread will not show it.\n`,
        );
      }
    },
  };
}

/** The command line as the user typed it, quoted where a shell would need it. */
export function commandLine(argv: readonly string[]): string {
  const quoted = argv.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replaceAll("'", `'\\''`)}'`));
  return ['zeus-recover', ...quoted].join(' ');
}
