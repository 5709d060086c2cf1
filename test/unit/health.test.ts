import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { healthRoutes, type Probe } from '../../src/slack/health.js';

let server: Server | undefined;
afterEach(() => server?.close());

async function serve(probes: Probe[], timeoutMs = 200): Promise<string> {
  const routes = healthRoutes(probes, timeoutMs);
  const s = createServer((req, res) =>
    req.url === '/readyz' ? routes.readyz(req, res) : routes.healthz(req, res),
  );
  server = s;
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
}

describe('health routes', () => {
  it('is ready only when every probe answers, and says which one failed and why', async () => {
    const url = await serve([
      { name: 'redis', check: async () => undefined },
      { name: 'postgres', check: async () => Promise.reject(new Error('connection refused')) },
      { name: 'slow', check: () => new Promise(() => undefined) },
    ]);
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    const res = await fetch(`${url}/readyz`);
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({
      status: 'not ready',
      checks: [
        { name: 'redis', ok: true },
        { name: 'postgres', ok: false, error: 'connection refused' },
        { name: 'slow', ok: false, error: 'no answer within 200 ms' },
      ],
    });
  });
});
