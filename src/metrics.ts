import type { IncomingMessage, ServerResponse } from 'node:http';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Every metric lives on the bot's own registry, never prom-client's global one. */
function counter<L extends string>(registry: Registry, name: string, help: string, labelNames: readonly L[]) {
  return new Counter<L>({ name, help, labelNames, registers: [registry] });
}

function histogram<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  buckets: number[],
) {
  return new Histogram<L>({ name, help, labelNames, buckets, registers: [registry] });
}

function gauge(registry: Registry, name: string, help: string) {
  return new Gauge({ name, help, registers: [registry] });
}

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
    commands: counter(
      registry,
      'zeus_recover_commands_total',
      'Slash commands and form submissions by command and outcome',
      ['command', 'outcome'],
    ),
    approvalWait: histogram(
      registry,
      'zeus_recover_approval_wait_seconds',
      'Time from an approval request to its decision',
      ['decision'],
      [10, 30, 60, 120, 300, 600, 1200, 1800, 3600],
    ),
    operationDuration: histogram(
      registry,
      'zeus_recover_operation_duration_seconds',
      'Duration of restores, undos and replays by outcome',
      ['operation', 'outcome'],
      seconds,
    ),
    tierReads: histogram(
      registry,
      'zeus_recover_tier_read_seconds',
      'Latency of one conversation read per tier, by result',
      ['tier', 'status'],
      seconds,
    ),
    tierErrors: counter(
      registry,
      'zeus_recover_tier_errors_total',
      'Tier reads that found the tier unreachable',
      ['tier'],
    ),
    deliveryLag: gauge(
      registry,
      'zeus_recover_audit_delivery_lag_seconds',
      'Age of the oldest audit entry not yet delivered to Slack (0 when none)',
    ),
    deliveryPending: gauge(
      registry,
      'zeus_recover_audit_delivery_pending',
      'Audit entries waiting to be delivered to Slack',
    ),
    requestsStuck: gauge(
      registry,
      'zeus_recover_requests_stuck',
      'Requests approved or executing whose owner holds no live lease (it died mid-operation); settled from Redis at the next sweep',
    ),
    slackErrors: counter(
      registry,
      'zeus_recover_slack_api_errors_total',
      'Slack Web API calls that failed, by method and error',
      ['method', 'error'],
    ),
    slackRateLimited: counter(
      registry,
      'zeus_recover_slack_rate_limited_total',
      'Slack Web API calls answered with HTTP 429',
      ['method'],
    ),
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
    unhandledErrors: counter(
      registry,
      'zeus_recover_unhandled_errors_total',
      'Errors that reached a last-resort handler (uncaught, unhandled rejection, Bolt handler) and were survived',
      ['kind'],
    ),
    storeConnectionErrors: counter(
      registry,
      'zeus_recover_store_connection_errors_total',
      'Connection errors reported by the Postgres pool and the Redis client (logged, never fatal)',
      ['store'],
    ),
    refusedRequests: counter(
      registry,
      'zeus_recover_refused_requests_total',
      'Requests to the Slack endpoint refused before Bolt saw them, by status and reason',
      ['status', 'reason'],
    ),
  };
}

export type SurvivalMetrics = ReturnType<typeof createSurvivalMetrics>;

/** Load shedding: work refused with "busy" instead of failing, by where it was refused. */
export function createLoadMetrics(registry: Registry) {
  return {
    shed: counter(
      registry,
      'zeus_recover_shed_total',
      'Work refused as "busy" at the replica\'s limits: commands at the door (command), or any checkout of the Postgres pool beyond its share (pool; background work retries by itself)',
      ['where', 'reason'],
    ),
  };
}
