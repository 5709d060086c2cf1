import { pathToFileURL } from 'node:url';
import { ErrorCode, errorMessage, RecoveryError } from '../errors.js';
import { DESTRUCTIVE_VERBS, isCliVerb, type ParsedArgs, parseCli, USAGE, UsageError } from './args.js';
import type { CliIo } from './io.js';

// From the verb table (src/verb-table.ts), like the usage text.
const DESTRUCTIVE = new Set(DESTRUCTIVE_VERBS);

/** Runs one CLI invocation and returns its exit code (0 ok, 1 problems/failure, 2 usage/config, 3 outcome unknown: check Redis). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  let args: ParsedArgs;
  try {
    args = parseCli(argv);
    if (args.help || args.command === 'help') {
      io.stdout(`${USAGE}\n`);
      return 0;
    }
    if (!isCliVerb(args.command)) throw new UsageError(`unknown command "${args.command}"`);
    // A bulk-restore --dry-run only previews.
    const previewOnly = args.command === 'bulk-restore' && args.bulk.dryRun;
    if (DESTRUCTIVE.has(args.command) && !previewOnly && (!args.yes || !args.reason)) {
      throw new UsageError(
        `${args.command} ${args.command === 'replay' ? 'makes Zeus re-run steps' : 'changes Redis'}: add --yes and --reason "<why>" (the reason goes to the audit log)`,
      );
    }
    if (args.command === 'replay' && args.fromStep === undefined) {
      throw new UsageError('replay needs --from-step <N>: the first step Zeus should run again');
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`zeus-recover: ${err.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw err;
  }

  try {
    // Loaded only now: zod, the SDKs and the stores are not needed to print usage.
    const { loadConfig } = await import('../config.js');
    const config = loadConfig(io.env, 'cli');
    // Checked before connecting to anything: without the API there is nothing to replay with.
    if (args.command === 'replay' && !config.zeus.apiUrl) {
      throw new UsageError('replay needs ZEUS_API_URL and ZEUS_API_TOKEN');
    }
    const { runCommand } = await import('./run-command.js');
    return await runCommand(args, io, config);
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr(`zeus-recover: ${err.message}\n`);
      return 2;
    }
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
      io.stderr(`zeus-recover: ${err.message}\n${err.hint}\n`);
      if (err.details.recorded === false) {
        io.stderr(
          'zeus-recover: WARNING: the audit log could not be written; this outcome is not recorded there.\n',
        );
      }
      // Its own code: a script must not read "unknown" as "failed, nothing written" and retry.
      if (unknown) return 3;
      return err.code === ErrorCode.Config ||
        err.code === ErrorCode.InvalidId ||
        err.code === ErrorCode.InvalidInput
        ? 2
        : 1;
    }
    io.stderr(
      `zeus-recover: unexpected error: ${errorMessage(err)}\nNothing further was done; re-run with LOG_LEVEL=debug and report this.\n`,
    );
    return 1;
  }
}

const invokedDirectly = process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href;
if (invokedDirectly) {
  const code = await runCli(process.argv.slice(2), {
    stdout: (t) => process.stdout.write(t),
    stderr: (t) => process.stderr.write(t),
    env: process.env,
  });
  process.exitCode = code;
}
