import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The bot's Prometheus metrics, on a registry of its own (so tests can run several bots in one
 * process). Labels are small fixed sets — never ids — to keep series bounded.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'zeus_recover_' });
  const seconds = [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
  return {
    registry,
    commands: new Counter({
      name: 'zeus_recover_commands_total',
      help: 'Slash commands and form submissions by command and outcome',
      labelNames: ['command', 'outcome'] as const,
      registers: [registry],
    }),
    approvalWait: new Histogram({
      name: 'zeus_recover_approval_wait_seconds',
      help: 'Time from an approval request to its decision',
      labelNames: ['decision'] as const,
      buckets: [10, 30, 60, 120, 300, 600, 1200, 1800, 3600],
      registers: [registry],
    }),
    operationDuration: new Histogram({
      name: 'zeus_recover_operation_duration_seconds',
      help: 'Duration of restores, undos and replays by outcome',
      labelNames: ['operation', 'outcome'] as const,
      buckets: seconds,
      registers: [registry],
    }),
    tierReads: new Histogram({
      name: 'zeus_recover_tier_read_seconds',
      help: 'Latency of one conversation read per tier, by result',
      labelNames: ['tier', 'status'] as const,
      buckets: seconds,
      registers: [registry],
    }),
    tierErrors: new Counter({
      name: 'zeus_recover_tier_errors_total',
      help: 'Tier reads that found the tier unreachable',
      labelNames: ['tier'] as const,
      registers: [registry],
    }),
    deliveryLag: new Gauge({
      name: 'zeus_recover_audit_delivery_lag_seconds',
      help: 'Age of the oldest audit entry not yet delivered to Slack (0 when none)',
      registers: [registry],
    }),
    deliveryPending: new Gauge({
      name: 'zeus_recover_audit_delivery_pending',
      help: 'Audit entries waiting to be delivered to Slack',
      registers: [registry],
    }),
    requestsStuck: new Gauge({
      name: 'zeus_recover_requests_stuck',
      help: 'Requests approved or executing whose owner holds no live lease (it died mid-operation); settled from Redis at the next sweep',
      registers: [registry],
    }),
    slackErrors: new Counter({
      name: 'zeus_recover_slack_api_errors_total',
      help: 'Slack Web API calls that failed, by method and error',
      labelNames: ['method', 'error'] as const,
      registers: [registry],
    }),
    slackRateLimited: new Counter({
      name: 'zeus_recover_slack_rate_limited_total',
      help: 'Slack Web API calls answered with HTTP 429',
      labelNames: ['method'] as const,
      registers: [registry],
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;

export function metricsRoute(metrics: Metrics) {
  return (_req: IncomingMessage, res: ServerResponse): void => {
    metrics.registry.metrics().then(
      (body) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        res.end(body);
      },
      (err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(`metrics unavailable: ${err instanceof Error ? err.message : String(err)}`);
      },
    );
  };
}

/** Slack error codes as a bounded label: the platform's own `error` string, or the SDK's code. */
export function slackErrorLabel(err: unknown): string {
  const e = err as { code?: string; data?: { error?: string } };
  if (e?.code === 'slack_webapi_platform_error' && typeof e.data?.error === 'string')
    return e.data.error.slice(0, 40);
  if (e?.code === 'slack_webapi_rate_limited_error') return 'ratelimited';
  if (typeof e?.code === 'string') return e.code.replace(/^slack_webapi_/, '').slice(0, 40);
  return 'unknown';
}

/**
 * What the bot survived rather than died of: errors no handler caught, store connections that
 * broke under us, requests refused before Bolt saw them. Its own registry entries, created once
 * per bot next to createMetrics' (appended separately so other metric additions don't collide).
 */
export function createSurvivalMetrics(registry: Registry) {
  return {
    unhandledErrors: new Counter({
      name: 'zeus_recover_unhandled_errors_total',
      help: 'Errors that reached a last-resort handler (uncaught, unhandled rejection, Bolt handler) and were survived',
      labelNames: ['kind'] as const,
      registers: [registry],
    }),
    storeConnectionErrors: new Counter({
      name: 'zeus_recover_store_connection_errors_total',
      help: 'Connection errors reported by the Postgres pool and the Redis client (logged, never fatal)',
      labelNames: ['store'] as const,
      registers: [registry],
    }),
    refusedRequests: new Counter({
      name: 'zeus_recover_refused_requests_total',
      help: 'Requests to the Slack endpoint refused before Bolt saw them, by status and reason',
      labelNames: ['status', 'reason'] as const,
      registers: [registry],
    }),
  };
}

export type SurvivalMetrics = ReturnType<typeof createSurvivalMetrics>;

/** Load shedding: work refused with "busy" instead of failing, by where it was refused. */
export function createLoadMetrics(registry: Registry) {
  return {
    shed: new Counter({
      name: 'zeus_recover_shed_total',
      help: 'Work refused as "busy" at the replica\'s limits: commands at the door (command), or any checkout of the Postgres pool beyond its share (pool; background work retries by itself)',
      labelNames: ['where', 'reason'] as const,
      registers: [registry],
    }),
  };
}
