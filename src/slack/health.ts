import type { IncomingMessage, ServerResponse } from 'node:http';
import { errorMessage } from '../errors.js';

export interface Probe {
  name: string;
  check(): Promise<void>;
}

export interface HealthRoutes {
  /** Liveness: the process answers. */
  healthz(req: IncomingMessage, res: ServerResponse): void;
  /** Readiness: Redis and Postgres answer (each probe bounded), with which one failed and why. */
  readyz(req: IncomingMessage, res: ServerResponse): void;
}

function json(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

export function healthRoutes(probes: Probe[], timeoutMs = 2000): HealthRoutes {
  return {
    healthz(_req, res) {
      json(res, 200, { status: 'ok' });
    },
    readyz(_req, res) {
      void Promise.all(
        probes.map(async (p) => {
          let timer: NodeJS.Timeout | undefined;
          try {
            await Promise.race([
              p.check(),
              new Promise((_, reject) => {
                timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
              }),
            ]);
            return { name: p.name, ok: true as const };
          } catch (err) {
            return {
              name: p.name,
              ok: false as const,
              error: errorMessage(err),
            };
          } finally {
            if (timer) clearTimeout(timer);
          }
        }),
      ).then((results) => {
        const ready = results.every((r) => r.ok);
        json(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready', checks: results });
      });
    },
  };
}
