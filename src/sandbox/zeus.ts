import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A stand-in for the Zeus API for the local demo, so a newcomer can try `replay` end to end:
 * it accepts `POST /zeus/replay` (bearer token, Idempotency-Key honoured) and walks
 * `GET /zeus/conversation/{id}/status` from running to done over a few seconds.
 */
export interface DemoZeus {
  url: string;
  token: string;
  stop(): Promise<void>;
}

interface Replay {
  startedAt: number;
  fromStep: number;
  total: number;
}

const STEP_MS = 1500;

async function body(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

export async function startDemoZeus(host = '127.0.0.1'): Promise<DemoZeus> {
  const token = `zeus-demo-${randomBytes(8).toString('hex')}`;
  const replays = new Map<string, Replay>();
  const byKey = new Map<string, string>();
  const json = (res: import('node:http').ServerResponse, status: number, value: unknown) => {
    res.writeHead(status, { 'content-type': 'application/json' });
    res.end(JSON.stringify(value));
  };
  const server: Server = createServer((req, res) => {
    if (req.headers.authorization !== `Bearer ${token}`) return json(res, 401, { error: 'unauthorized' });
    const url = new URL(req.url ?? '/', 'http://zeus');
    if (req.method === 'POST' && url.pathname === '/zeus/replay') {
      void body(req).then((text) => {
        let parsed: { conversation_id?: unknown; from_step?: unknown };
        try {
          parsed = JSON.parse(text) as typeof parsed;
        } catch {
          return json(res, 400, { error: 'body must be JSON' });
        }
        const id = String(parsed.conversation_id ?? '');
        const fromStep = Number(parsed.from_step);
        if (!id || !Number.isInteger(fromStep) || fromStep < 1)
          return json(res, 422, { error: 'bad replay request' });
        const key = String(req.headers['idempotency-key'] ?? '');
        const existing = key ? byKey.get(key) : undefined;
        if (existing) return json(res, 202, { accepted: true, replay_id: existing });
        const replayId = `rp_${randomBytes(6).toString('hex')}`;
        if (key) byKey.set(key, replayId);
        replays.set(id, { startedAt: Date.now(), fromStep, total: fromStep + 3 });
        return json(res, 202, { accepted: true, replay_id: replayId });
      });
      return;
    }
    const match = /^\/zeus\/conversation\/([^/]+)\/status$/.exec(url.pathname);
    if (req.method === 'GET' && match?.[1]) {
      const replay = replays.get(decodeURIComponent(match[1]));
      if (!replay) return json(res, 200, { state: 'idle' });
      const step = Math.min(
        replay.total,
        replay.fromStep + Math.floor((Date.now() - replay.startedAt) / STEP_MS),
      );
      const done = step >= replay.total;
      return json(res, 200, {
        state: done ? 'done' : 'running',
        step,
        total_steps: replay.total,
        message: done ? 'replay complete' : `re-running step ${step}`,
      });
    }
    return json(res, 404, { error: 'not found' });
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}`,
    token,
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
