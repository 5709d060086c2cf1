import { pathToFileURL } from 'node:url';
import { ErrorCode, errorMessage, RecoveryError } from '../errors.js';
import {
  CLI_VERBS,
  DESTRUCTIVE_VERBS,
  isCliVerb,
  missingPart,
  type ParsedArgs,
  parseCli,
  UsageError,
} from './args.js';
import { closest } from './did-you-mean.js';
import type { CliIo } from './io.js';
import { bold, colourOn, red } from './style.js';
import { helpFor, verbUsage } from './usage.js';

// From the verb table (src/verb-table.ts), like the usage text.
const DESTRUCTIVE = new Set(DESTRUCTIVE_VERBS);

/** Runs one CLI invocation and returns its exit code (0 ok, 1 problems/failure, 2 usage/config, 3 outcome unknown: check Redis). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseCli(argv);
    if (args.help || args.command === 'help') {
      io.stdout(`${helpFor(argv)}\n`);
      return 0;
    }
    if (!isCliVerb(args.command)) {
      const near = closest(args.command, ['help', ...CLI_VERBS]);
      throw new UsageError(`unknown command "${args.command}"${near ? ` — did you mean "${near}"?` : ''}`);
    }
    const missing = missingPart(args);
    if (missing !== null) throw new UsageError(`${args.command} needs ${missing}`, args.command);
    // A bulk-restore --dry-run only previews.
    const previewOnly = args.command === 'bulk-restore' && args.bulk.dryRun;
    if (DESTRUCTIVE.has(args.command) && !previewOnly && (!args.yes || !args.reason)) {
      throw new UsageError(
        `${args.command} ${args.command === 'replay' ? 'makes Zeus re-run steps' : args.command === 'unlock' ? "breaks a conversation's lock" : 'changes Redis'}: add --yes and --reason "<why>" (the reason goes to the audit log)`,
        args.command,
      );
    }
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(io, err, undefined);
    throw err;
  }

  try {
    // Loaded only now: zod, the SDKs and the stores are not needed to print usage.
    const { loadConfig } = await import('../config.js');
    const config = loadConfig(io.env, 'cli');
    // Checked before connecting to anything: without the API there is nothing to replay with.
    if (args.command === 'replay' && !config.zeus.apiUrl) {
      throw new RecoveryError(
        ErrorCode.Config,
        'replay needs ZEUS_API_URL and ZEUS_API_TOKEN: ZEUS_API_URL is not set.',
        "Set them to the Zeus API's address and token.",
      );
    }
    const { runCommand } = await import('./run-command.js');
    return await runCommand(args, io, config);
  } catch (err) {
    if (err instanceof UsageError) return usageFailure(io, err, args);
    if (err instanceof RecoveryError) {
      const unknown = err.code === ErrorCode.OutcomeUnknown;
      if (args.json) {
        const error = {
          code: err.code,
          message: err.message,
          hint: err.hint,
          ...(unknown ? { details: err.details } : {}),
        };
        io.stdout(`${JSON.stringify({ error })}\n`);
      }
      const { cliHint } = await import('./format.js');
      io.stderr(`${prefix(io)} ${err.message}\n${cliHint(err.hint)}\n`);
      if (err.details.recorded === false) {
        io.stderr(
          'zeus-recover: WARNING: the audit log could not be written; this outcome is not recorded there.\n',
        );
      }
      // Its own code: a script must not read "unknown" as "failed, nothing written" and retry.
      if (unknown) return 3;
      // 2 is for a command line or configuration to fix; "nothing to restore" is neither.
      return USAGE_CODES.has(err.code) ? 2 : 1;
    }
    io.stderr(
      `${prefix(io)} unexpected error: ${errorMessage(err)}\nNothing further was done; re-run with LOG_LEVEL=debug and report this.\n`,
    );
    return 1;
  }
}

const USAGE_CODES = new Set<string>([ErrorCode.Config, ErrorCode.InvalidId, ErrorCode.InvalidInput]);

/** `zeus-recover:` before an error line, in red on a terminal. */
function prefix(io: CliIo): string {
  return colourOn(io, 'stderr', false) ? bold(red('zeus-recover:')) : 'zeus-recover:';
}

/**
 * One line saying what is wrong, then only the usage of the verb it concerns (the whole list is
 * one --help away); an unknown command gets its closest match instead. Exit 2.
 */
function usageFailure(io: CliIo, err: UsageError, args: ParsedArgs | undefined): number {
  const verb = err.verb ?? (args && isCliVerb(args.command) ? args.command : undefined);
  const usage = verb === undefined ? null : verbUsage(verb);
  const tail = usage ?? 'Every command and option: zeus-recover --help';
  io.stderr(`${prefix(io)} ${err.message}\n${tail}\n`);
  return 2;
}

const invokedDirectly = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const code = await runCli(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
    tty: { stdout: process.stdout.isTTY === true, stderr: process.stderr.isTTY === true },
  });
  process.exitCode = code;
}
