import { loadConfig } from './config.js';
import { RecoveryError } from './errors.js';
import { installLastResort } from './last-resort.js';
import { createLogger } from './log.js';
import { startBot } from './server.js';

/** `npm start`: the Slack bot. Configuration problems are listed at once, then exit 2. */
async function main(): Promise<void> {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env, 'slack');
  } catch (err) {
    if (err instanceof RecoveryError) {
      process.stderr.write(`zeus-recover: ${err.message}\n${err.hint}\n`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);
  let bot: Awaited<ReturnType<typeof startBot>> | undefined;
  installLastResort(process, (kind, err) => {
    if (bot) bot.reportUnhandled(kind, err);
    else logger.error({ err, kind }, 'unhandled error while starting; still starting');
  });
  try {
    bot = await startBot(config, logger);
  } catch (err) {
    // Most often Postgres is unreachable (migrations run at start): say so and let the
    // orchestrator restart us, rather than dying with a bare stack trace.
    const message = err instanceof Error ? err.message : String(err);
    logger.fatal({ err }, 'could not start');
    process.stderr.write(
      `zeus-recover: could not start: ${message}\nCheck that DATABASE_URL and REDIS_URL are reachable from here, then start again.\n`,
    );
    process.exit(1);
  }
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    (bot?.stop() ?? Promise.resolve()).then(
      () => process.exit(0),
      (err) => {
        logger.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

await main();
