import { createHash, randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { App, HTTPModuleFunctions, HTTPReceiver, SocketModeReceiver } from '@slack/bolt';
import { WebClient, WebClientEvent } from '@slack/web-api';
import { createStuckSettler } from './approval/settle-stuck.js';
import { createSweeper } from './approval/sweeper.js';
import { createUsergroupCache, slackUsergroupFetcher } from './approval/usergroup-cache.js';
import { runWithPriority } from './capacity.js';
import { registerHandlers } from './commands/index.js';
import type { Config } from './config.js';
import { ErrorCode, errorMessage, RecoveryError } from './errors.js';
import type { UnhandledKind } from './last-resort.js';
import type { Logger } from './log.js';
import { runWithLogContext } from './log-context.js';
import {
  createLoadMetrics,
  createMetrics,
  createSurvivalMetrics,
  metricsRoute,
  slackErrorLabel,
} from './metrics.js';
import { reportOrphanedJobs } from './recovery/bulk/orphans.js';
import { boltLogger } from './slack/bolt-logger.js';
import { incidentChannelCheck } from './slack/channels.js';
import { createDeliveryClient, createDeliveryWorker, type DeliverySlackClient } from './slack/delivery.js';
import { healthRoutes } from './slack/health.js';
import { commandGate } from './slack/load-gate.js';
import { guardSlackRequests, MAX_BODY_BYTES } from './slack/request-guard.js';
import { createThreadUploader, type ThreadUpload } from './slack/upload.js';
import { SLASH_COMMAND } from './slack-ids.js';
import { createRequestAuditLookup } from './store/audit-lookup.js';
import { blastRadiusStatus, createBreakerResetStore } from './store/blast-radius.js';
import { createBulkRequestStore } from './store/bulk-requests.js';
import { createDeliveryStore } from './store/deliveries.js';
import { createExpiryWarningStore } from './store/expiry-warnings.js';
import { createHomeStore } from './store/home.js';
import { createRenewalStore } from './store/renewals.js';
import { createRequestStore } from './store/requests.js';
import type { AuditLog, DeliveryStore } from './store/types.js';
import { approvalDecidedView } from './views/approval.js';
import { renderAuditEntry } from './views/audit-entry.js';
import { bulkThreadRootView, isBulkJobId } from './views/bulk.js';
import { homeView } from './views/home.js';
import { threadRootView } from './views/thread.js';
import { createBulkDeps, createRuntime, startBulkEngine } from './wiring.js';
import { createHomeTab } from './workflow/home.js';
import { type ChatNames, createWorkflow, type MessagingPort } from './workflow/workflow.js';

/** How Slack's people and commands are written in the audit log and the logs. */
const SLACK_NAMES: ChatNames = {
  actor: (userId) => `slack:${userId}`,
  command: (typed) => `${SLASH_COMMAND} ${typed}`.trim(),
};

/**
 * The workflow's MessagingPort, told in Slack: an event goes to the audit log with delivery to
 * the incident thread and the delivery worker posts it; edits and files find the thread message
 * the worker posted through the delivery store.
 */
function slackMessaging(io: {
  audit: AuditLog;
  deliveries: DeliveryStore;
  slack: WebClient;
  upload: (file: ThreadUpload) => Promise<void>;
  wake: () => void;
}): MessagingPort {
  const { audit, deliveries, slack, upload, wake } = io;
  return {
    postToThread: async (channelId, event) => {
      const entry = await audit.append(event, { deliverTo: { channelId } });
      wake();
      return entry;
    },
    updateDelivered: async (channelId, seq, message) => {
      const ts = await deliveries.replyTs(channelId, seq);
      if (!ts) return false;
      await slack.chat.update({ channel: channelId, ts, text: message.text, blocks: message.blocks });
      return true;
    },
    uploadFile: async ({ channelId, conversationId, filename, bytes }) => {
      // The file belongs in the thread, whose root the delivery worker posts; give it a moment.
      const deadline = Date.now() + 15_000;
      let threadTs = await deliveries.incidentThread(channelId, conversationId);
      while (!threadTs) {
        if (Date.now() > deadline) {
          throw new RecoveryError(
            ErrorCode.Internal,
            `The incident thread for ${conversationId} is not there yet (Slack may be slow or down).`,
            `Try the export again in a minute, or use the CLI: \`zeus-recover export ${conversationId}\`.`,
          );
        }
        wake();
        await new Promise((r) => setTimeout(r, 200));
        threadTs = await deliveries.incidentThread(channelId, conversationId);
      }
      await upload({ channelId, threadTs, conversationId, filename, bytes });
    },
    wakeDeliverer: wake,
    linkTo: async (channelId, seq, waitMs) => {
      // The deliverer posts the entry; a few polls of its row find the message once it is there.
      const deadline = Date.now() + waitMs;
      let ts = await deliveries.replyTs(channelId, seq);
      while (!ts && Date.now() < deadline) {
        wake();
        await new Promise((r) => setTimeout(r, 100));
        ts = await deliveries.replyTs(channelId, seq);
      }
      if (!ts) return null;
      const link = await slack.chat.getPermalink({ channel: channelId, message_ts: ts });
      return link.permalink ?? null;
    },
  };
}

export interface BotOptions {
  /** Overrides for tests and the demo: faster polling, a fixed sweep interval. */
  deliveryPollMs?: number;
  sweepIntervalMs?: number;
  authRetryMs?: number;
  /** How often and how long a replay is followed through Zeus's status endpoint. */
  replayPollMs?: number;
  replayTimeoutMs?: number;
  /** How long a client may take to send a whole request (REQUEST_TIMEOUT_MS). */
  requestTimeoutMs?: number;
}

export interface RunningBot {
  port: number;
  /** For the process-wide last-resort handlers (main.ts): log and count, never exit. */
  reportUnhandled(kind: UnhandledKind, err: unknown): void;
  stop(): Promise<void>;
}

/**
 * App Home: a change is published to each person at most this often (views.publish is rate
 * limited per app), to those who opened the tab within HOME_VIEWERS_HOURS, at most HOME_VIEWERS.
 */
const HOME_REFRESH_MS = 3000;
const HOME_VIEWERS_HOURS = 24;
const HOME_VIEWERS = 50;

const SLACK_ENDPOINT = '/slack/events';
/** Each call of the bot's own Slack client (lookups, edits, auth.test), retries aside. */
const SLACK_CALL_TIMEOUT_MS = 10_000;
/**
 * Slack sends a whole request (at most a few hundred KB) in well under a second. A client that
 * trickles its headers or body holds a socket and a buffer for Node's default 5 minutes; this
 * answers it 408 instead.
 */
const REQUEST_TIMEOUT_MS = 10_000;

/** Slack's Web API base must end with a slash: the client appends the method name. */
function apiBase(url: string | undefined): string | undefined {
  if (!url) return undefined;
  return url.endsWith('/') ? url : `${url}/`;
}

/**
 * Starts the whole bot: stores, Slack app (HTTP or Socket Mode), thread delivery, request
 * sweeper. Everything that must survive a restart or be shared by replicas is in Postgres.
 */
export async function startBot(
  config: Config,
  logger: Logger,
  options: BotOptions = {},
): Promise<RunningBot> {
  const token = config.slack.botToken ?? '';
  const signingSecret = config.slack.signingSecret ?? '';
  const slackApiUrl = apiBase(config.slack.apiUrl);
  const runtime = await createRuntime(config, { shedLoad: true });
  // App Home shows what the audit log tells, so any entry may change it: each append asks for a
  // refresh, coalesced in pg-boss (jobs.homeChanged). Bound once the job engine runs.
  let homeChanged = (): void => {};
  const audit = runtime.deps.audit;
  runtime.deps = {
    ...runtime.deps,
    audit: {
      ...audit,
      append: async (event, opts) => {
        const entry = await audit.append(event, opts);
        homeChanged();
        return entry;
      },
    },
  };
  const schema = config.postgres.botSchema;
  const metrics = createMetrics();
  const survival = createSurvivalMetrics(metrics.registry);
  const loadMetrics = createLoadMetrics(metrics.registry);
  runtime.pool.onShed((reason) => loadMetrics.shed.inc({ where: 'pool', reason }));
  // A connection reset (failover, pg_terminate_backend, Redis restart) fails the call in flight,
  // which says so to its user; here it is only counted, and logged without flooding while a
  // store stays down (ioredis reports every reconnect attempt).
  const storeError = (store: 'postgres' | 'redis') => {
    let lastLogAt = 0;
    let unlogged = 0;
    return (err: Error) => {
      survival.storeConnectionErrors.inc({ store });
      if (Date.now() - lastLogAt < 10_000) {
        unlogged++;
        return;
      }
      logger.warn({ err: err.message, store, alsoSinceLastLine: unlogged }, `${store} connection error`);
      lastLogAt = Date.now();
      unlogged = 0;
    };
  };
  runtime.pool.on('error', storeError('postgres'));
  runtime.redisClient.on('error', storeError('redis'));
  const deps = {
    ...runtime.deps,
    lockLeaseMs: config.policy.lockLeaseMs,
    onTierRead: (tier: string, status: string, seconds: number) => {
      metrics.tierReads.observe({ tier, status }, seconds);
      if (status === 'unreachable') metrics.tierErrors.inc({ tier });
    },
  };
  const requests = createRequestStore(runtime.pool, schema);
  // A live owner takes its lease within milliseconds of starting (and renews it); a request this
  // long without one has no owner. Short leases (tests) get a grace as short.
  const abandonedGraceMs = Math.min(config.policy.lockLeaseMs, 30_000);

  const health = healthRoutes([
    { name: 'redis', check: () => deps.redis.ping() },
    // With priority: a pool busy with commands is not a Postgres that is down.
    {
      name: 'postgres',
      check: async () => void (await runWithPriority(() => runtime.pool.query('SELECT 1'))),
    },
  ]);
  // Filled in below, once the delivery worker exists.
  let refreshDeliveryGauges = async () => {};
  const renderMetrics = metricsRoute(metrics);
  const customRoutes = [
    { path: '/healthz', method: ['GET'], handler: health.healthz },
    { path: '/readyz', method: ['GET'], handler: health.readyz },
    {
      path: '/metrics',
      method: ['GET'],
      handler: (req: Parameters<typeof renderMetrics>[0], res: Parameters<typeof renderMetrics>[1]) => {
        void refreshDeliveryGauges()
          .catch((err: unknown) => logger.warn({ err }, 'could not read delivery backlog for metrics'))
          .finally(() => renderMetrics(req, res));
      },
    },
  ];

  const bolt = boltLogger(logger);
  const socketMode = Boolean(config.slack.appToken);
  const receiver = socketMode
    ? new SocketModeReceiver({
        appToken: config.slack.appToken ?? '',
        logger: bolt,
        customRoutes,
        // The Socket Mode client asks Slack for its WebSocket URL through the same API base.
        installerOptions: {
          port: config.slack.port,
          ...(slackApiUrl ? { clientOptions: { slackApiUrl } } : {}),
        },
      })
    : new HTTPReceiver({
        signingSecret,
        endpoints: SLACK_ENDPOINT,
        customRoutes,
        logger: bolt,
        processBeforeResponse: false,
        // The guard below refuses bigger bodies first; this only backs it up.
        bodyLimit: MAX_BODY_BYTES,
        processEventErrorHandler: async (args) => {
          survival.unhandledErrors.inc({ kind: 'bolt_process_event' });
          logger.error({ err: args.error }, 'Bolt could not process a request');
          return HTTPModuleFunctions.defaultProcessEventErrorHandler(args);
        },
        unhandledRequestHandler: (args) => {
          survival.unhandledErrors.inc({ kind: 'bolt_not_acknowledged' });
          HTTPModuleFunctions.defaultUnhandledRequestHandler(args);
        },
      });
  if (receiver instanceof HTTPReceiver) {
    // Bolt's server calls `this.requestListener` per request, so the guard sits in front of it.
    receiver.requestListener = guardSlackRequests(receiver.requestListener, {
      signingSecret,
      endpoints: [SLACK_ENDPOINT],
      onRefused: ({ status, reason }) => survival.refusedRequests.inc({ status: String(status), reason }),
      onError: (err) => {
        survival.unhandledErrors.inc({ kind: 'request_guard' });
        logger.error({ err }, 'could not read a request to the Slack endpoint');
      },
    });
  }
  // Bolt's default single-workspace authorize calls auth.test before handling a request, so a
  // Slack outage would drop commands we can still serve (and audit). Ours never calls out; the
  // bot's ids are filled in by the background auth.test when Slack answers.
  const identity: { botId?: string; botUserId?: string; teamId?: string } = {};
  const app = new App({
    authorize: async () => ({ botToken: token, ...identity }),
    receiver,
    logger: bolt,
    // Bolt would call auth.test in the constructor and crash if Slack is unreachable; we check
    // it ourselves below, in the background, with retries.
    tokenVerificationEnabled: false,
    ...(slackApiUrl ? { clientOptions: { slackApiUrl } } : {}),
  });

  // The bot's own calls (lookups, uploads, auth.test) use one client with the token bound.
  const slack = new WebClient(token, {
    ...(slackApiUrl ? { slackApiUrl } : {}),
    logger: bolt,
    retryConfig: { retries: 2, factor: 2, minTimeout: 200, maxTimeout: 2000 },
    // Without one, a Slack that accepts the connection and never answers holds the caller forever.
    timeout: SLACK_CALL_TIMEOUT_MS,
  });
  // Not through `slack`: sharing a file must not be retried blindly (see slack/upload.ts).
  const rateLimited = (method: string) => metrics.slackRateLimited.inc({ method });
  slack.on(WebClientEvent.RATE_LIMITED, (_retryAfter: number, { url }: { url: string }) =>
    rateLimited(url.split('/').pop() ?? 'unknown'),
  );
  const upload = createThreadUploader(token, {
    ...(slackApiUrl ? { slackApiUrl } : {}),
    logger: bolt,
    onRateLimited: rateLimited,
  });
  const groups = createUsergroupCache({ fetchMembers: slackUsergroupFetcher(slack), logger });
  const deliveries = createDeliveryStore(runtime.pool, schema);
  const delivery = createDeliveryWorker({
    pool: runtime.pool,
    schema,
    audit: deps.audit,
    client: countingClient(createDeliveryClient({ token, ...(slackApiUrl ? { slackApiUrl } : {}) }), metrics),
    render: (entry) => renderAuditEntry(entry),
    renderRoot: (id) => (isBulkJobId(id) ? bulkThreadRootView(id) : threadRootView(id)),
    renderDecided: (request) =>
      approvalDecidedView(request, { approverHint: workflow.approverHint, now: new Date() }),
    logger: logger.child({ component: 'delivery' }),
    ...(options.deliveryPollMs ? { pollMs: options.deliveryPollMs } : {}),
  });
  refreshDeliveryGauges = async () => {
    const [age, pending, stuck] = await Promise.all([
      delivery.oldestPendingAgeMs(),
      delivery.pendingCount(),
      requests.countAbandoned(abandonedGraceMs),
    ]);
    metrics.deliveryLag.set((age ?? 0) / 1000);
    metrics.deliveryPending.set(pending);
    metrics.requestsStuck.set(stuck);
  };
  const bulkDeps = createBulkDeps(config, runtime);
  const bulkRequests = createBulkRequestStore(runtime.pool, schema);
  const workflow = createWorkflow({
    core: deps,
    metrics,
    requests,
    policy: config.policy,
    groupMembers: async () =>
      config.policy.approverUsergroupId ? groups.members(config.policy.approverUsergroupId) : null,
    groupMembersOf: (groupId) => groups.members(groupId),
    breakerResets: createBreakerResetStore(runtime.pool, schema),
    blastRadius: () =>
      blastRadiusStatus(runtime.pool, schema, {
        maxPerHour: config.policy.maxDestructivePerHour,
        breakerFailures: config.policy.breakerFailures,
      }),
    messaging: slackMessaging({ audit: deps.audit, deliveries, slack, upload, wake: () => delivery.kick() }),
    names: SLACK_NAMES,
    expiryWarnings: createExpiryWarningStore(runtime.pool, schema),
    renewals: createRenewalStore(runtime.pool, schema),
    lookup: createRequestAuditLookup(runtime.pool, schema),
    bulk: {
      deps: bulkDeps,
      requests: bulkRequests,
      // The engine starts below; nothing is queued before a click, long after it has.
      queue: { enqueue: (jobId, chunks) => jobs.queue.enqueue(jobId, chunks) },
      progressIntervalMs: config.policy.bulkProgressIntervalMs,
      startBeat: (jobId) => jobs.bulkProgressStarted(jobId),
    },
    replay: {
      pollMs: options.replayPollMs ?? config.zeus.replayPollMs,
      timeoutMs: options.replayTimeoutMs ?? config.zeus.replayTimeoutMs,
    },
    logger,
  });
  const homeStore = createHomeStore(runtime.pool, schema);
  const permalinks = new Map<string, string>();
  const homeTab = createHomeTab({
    requests,
    bulkRequests,
    bulkJobs: bulkDeps.store,
    home: homeStore,
    policy: config.policy,
    approverHint: workflow.approverHint,
    groupMembers: async () =>
      config.policy.approverUsergroupId ? groups.members(config.policy.approverUsergroupId) : null,
    groupMembersOf: (groupId) => groups.members(groupId),
    limits: () =>
      blastRadiusStatus(runtime.pool, schema, {
        maxPerHour: config.policy.maxDestructivePerHour,
        breakerFailures: config.policy.breakerFailures,
      }),
    // A message's link never changes: asked of Slack once per thread root and process.
    permalink: async (channel, ts) => {
      const key = `${channel}/${ts}`;
      const known = permalinks.get(key);
      if (known) return known;
      const res = await slack.chat.getPermalink({ channel, message_ts: ts });
      if (res.permalink) permalinks.set(key, res.permalink);
      return res.permalink ?? null;
    },
  });
  /**
   * Builds one person's tab and publishes it unless they are shown exactly that already. A failed
   * publish forgets the hash (pg-boss retries the job); a replica killed between the two leaves
   * that tab as it was until the next change, whose view hashes differently.
   */
  const publishHome = async (userId: string): Promise<void> => {
    const view = homeView(await homeTab.build(userId, new Date()));
    const hash = createHash('sha256').update(JSON.stringify(view)).digest('hex');
    if (!(await homeStore.markPublished(userId, hash))) return;
    try {
      await slack.views.publish({ user_id: userId, view });
    } catch (err) {
      await homeStore.forgetPublished(userId).catch(() => undefined);
      throw err;
    }
  };
  // Every log line of a request carries its id and actor (pino mixin); the handlers add the
  // conversation id once they have parsed it.
  app.use(async ({ body, next }) => {
    const b = body as { user_id?: string; user?: { id?: string } };
    const user = b.user_id ?? b.user?.id;
    await runWithLogContext(
      { requestId: randomUUID(), ...(user ? { actor: SLACK_NAMES.actor(user) } : {}) },
      next,
    );
  });
  app.use(
    commandGate({
      concurrency: config.load.commandConcurrency,
      queue: config.load.commandQueue,
      onShed: (reason) => loadMetrics.shed.inc({ where: 'command', reason }),
    }),
  );
  registerHandlers(app, {
    workflow,
    metrics,
    idPattern: deps.idPattern,
    incidentChannelPattern: config.policy.incidentChannelPattern,
    requestChannel: async (id) =>
      isBulkJobId(id)
        ? ((await bulkRequests.get(id))?.channelId ?? null)
        : ((await requests.get(id))?.channelId ?? null),
    home: {
      opened: async (userId) => {
        await homeTab.opened(userId);
        await jobs.refreshHome(userId);
      },
    },
    isIncidentChannel: incidentChannelCheck({
      pattern: config.policy.incidentChannelPattern,
      client: slack,
      logger,
    }),
    logger,
  });
  app.error(async (err) => {
    survival.unhandledErrors.inc({ kind: 'slack_handler' });
    logger.error({ err }, 'unhandled error in a Slack handler');
  });

  const settler = createStuckSettler({
    core: deps,
    requests,
    lookup: createRequestAuditLookup(runtime.pool, schema),
    kick: () => delivery.kick(),
    graceMs: abandonedGraceMs,
    leaseMs: config.policy.lockLeaseMs,
    logger: logger.child({ component: 'settle' }),
  });
  const sweeper = createSweeper({
    store: requests,
    notice: (request) => workflow.expiryNotice(request),
    onExpired: (request) => workflow.expired(request),
    onError: (err, request) => logger.error({ err, requestId: request?.id }, 'request sweep failed'),
    settle: () => settler.settleOnce(),
  });
  // pg-boss: runs the sweep (one replica per tick) and, where this bot works them, bulk chunks.
  const jobs = await startBulkEngine(config, { sweeps: true });
  await jobs.runSweeps({
    intervalMs: options.sweepIntervalMs ?? config.policy.sweepIntervalMs,
    sweep: async () => {
      await sweeper.sweepOnce();
      await workflow.expireBulk();
      // After expiry: what is still open and due gets its one "expires soon" reply.
      await workflow.warnExpiring();
      await workflow.bulkPokeLive();
      const orphaned = await reportOrphanedJobs(
        {
          store: bulkDeps.store,
          liveChunkCopies: (jobId) => jobs.liveChunkCopies(jobId),
          kick: () => delivery.kick(),
        },
        { graceMs: abandonedGraceMs },
      );
      for (const job of orphaned) {
        logger.warn(
          { jobId: job.jobId, state: job.state },
          'bulk job left without a worker: marked and reported',
        );
        // Its progress message's last edit and its report (or, if this process dies first, the
        // next sweep's poke of unreported jobs).
        void workflow.bulkProgress(job.jobId);
      }
    },
    onError: (err) => logger.error({ err }, 'request sweep failed'),
  });
  // Every replica publishes App Home refreshes; pg-boss gives each one to one of them.
  await jobs.runHomeRefresh({
    viewers: () => homeStore.viewers(HOME_VIEWERS_HOURS, HOME_VIEWERS),
    publish: publishHome,
    intervalMs: HOME_REFRESH_MS,
  });
  // Every replica works progress beats: a running job's message moves every
  // BULK_PROGRESS_INTERVAL_MS, not only at chunk ends and sweep ticks.
  await jobs.runBulkProgress({
    intervalMs: config.policy.bulkProgressIntervalMs,
    beat: (jobId) => workflow.bulkBeat(jobId),
  });
  homeChanged = () => {
    void jobs
      .homeChanged()
      .catch((err: unknown) => logger.warn({ err }, 'could not queue an App Home refresh'));
  };
  // Every replica works bulk chunks (BULK_WORKERS at once); each chunk it works pokes the job's
  // progress message in its thread. stop() below lets the chunk in hand finish, within pg-boss's timeout.
  if (config.load.bulkWorkersNote) logger.warn(config.load.bulkWorkersNote);
  if (config.load.bulkWorkers > 0) {
    await jobs.workBulkChunks(
      { ...bulkDeps, audit: workflow.bulkEngineAudit(bulkDeps.audit) },
      `bot:${hostname()}:${process.pid}`,
      config.load.bulkWorkers,
    );
  }

  let stopped = false;
  const retryTimers = new Set<NodeJS.Timeout>();
  /**
   * Runs `attempt` until it succeeds or the bot stops, backing off from authRetryMs to a minute:
   * Slack out of reach at start is no reason to exit while /healthz can say so.
   */
  const keepTrying = (what: string, attempt: (n: number) => Promise<void>): void => {
    const run = async (n: number): Promise<void> => {
      if (stopped) return;
      try {
        await attempt(n);
      } catch (err) {
        const wait = Math.min(60_000, (options.authRetryMs ?? 2000) * 2 ** Math.min(n, 5));
        logger.warn({ err: errorMessage(err), retryInMs: wait }, `${what} failed; retrying`);
        const timer = setTimeout(() => {
          retryTimers.delete(timer);
          void run(n + 1);
        }, wait);
        timer.unref();
        retryTimers.add(timer);
      }
    };
    void run(0);
  };
  const checkAuth = async (): Promise<void> => {
    const auth = await slack.auth.test();
    if (auth.bot_id) identity.botId = auth.bot_id;
    if (auth.user_id) identity.botUserId = auth.user_id;
    if (auth.team_id) identity.teamId = auth.team_id;
    logger.info({ team: auth.team_id, botUser: auth.user_id }, 'Slack token verified');
  };

  let port = config.slack.port;
  if (socketMode) {
    // The health server is up once start() runs; the WebSocket may fail when Slack is out of
    // reach, and then the bot keeps serving /healthz and retries the connection.
    keepTrying('Socket Mode connection', async (n) => {
      await (n === 0 ? app.start() : (receiver as SocketModeReceiver).client.start());
      logger.info('Socket Mode connected');
    });
  } else {
    const requestTimeout = options.requestTimeoutMs ?? REQUEST_TIMEOUT_MS;
    const server = (await app.start(
      { port: config.slack.port, ...(config.slack.host ? { host: config.slack.host } : {}) },
      {
        requestTimeout,
        headersTimeout: requestTimeout,
        // Node looks for timed-out requests only this often (30 s by default).
        connectionsCheckingInterval: Math.min(1000, requestTimeout),
      },
    )) as Server;
    port = (server.address() as AddressInfo).port;
  }
  delivery.start();
  keepTrying('Slack auth.test', checkAuth);
  logger.info({ port, mode: socketMode ? 'socket' : 'http' }, 'zeus-recover is listening');

  return {
    port,
    reportUnhandled(kind, err) {
      survival.unhandledErrors.inc({ kind });
      logger.error({ err, kind }, 'unhandled error caught by the last-resort handler; still serving');
    },
    async stop() {
      stopped = true;
      for (const timer of retryTimers) clearTimeout(timer);
      await app.stop().catch(() => undefined);
      await jobs.stop();
      await sweeper.stop();
      await delivery.stop();
      await runtime.close();
    },
  };
}

/** The delivery worker's Slack client, counting failures and 429s by method for /metrics. */
function countingClient(
  client: DeliverySlackClient,
  metrics: ReturnType<typeof createMetrics>,
): DeliverySlackClient {
  const count = async <T>(method: string, call: () => Promise<T>): Promise<T> => {
    try {
      return await call();
    } catch (err) {
      const error = slackErrorLabel(err);
      if (error === 'ratelimited') metrics.slackRateLimited.inc({ method });
      metrics.slackErrors.inc({ method, error });
      throw err;
    }
  };
  return {
    chat: {
      postMessage: (args) => count('chat.postMessage', () => client.chat.postMessage(args)),
      update: (args) => count('chat.update', () => client.chat.update(args)),
    },
    conversations: {
      history: (args) => count('conversations.history', () => client.conversations.history(args)),
      replies: (args) => count('conversations.replies', () => client.conversations.replies(args)),
    },
  };
}
