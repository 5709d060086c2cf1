import { connect, createServer, type Server, type Socket } from 'node:net';
import { expect } from 'vitest';

/**
 * A TCP proxy between the app and a real server (Redis, Postgres, s3rver, an HTTP stand-in)
 * that misbehaves on command, the way a network, a load balancer or a failover does:
 *
 * - `pass()`: forwards both ways (the default);
 * - `delay(ms)`: holds every chunk for `ms` before forwarding it, keeping order;
 * - `blackhole()`: accepts and reads, never forwards and never answers (a hung peer);
 * - `refuse()`: new connections are cut as soon as they open (a server that is down);
 * - `cutAll()`: destroys every open connection now (a reset, a failover);
 * - `arm(trigger)`: one fault on the first client→server chunk that matches, on that
 *   connection only: cut it before forwarding (the command never arrives), cut it right after
 *   forwarding (the command arrives, its reply is lost), forward it and drop every reply after
 *   (the peer goes silent mid-call), or hold it and what follows for a while (a late write).
 *
 * Triggers look at raw bytes, so a test can aim at one protocol message: the EVALSHA of a
 * compare-and-set, an INSERT into the backups table, a COMMIT.
 */

export type Mode = 'pass' | 'blackhole' | 'refuse' | { delayMs: number };

export type Fault =
  /** Nothing: forward it as usual. For doing something else at that exact moment (`fired`). */
  | 'none'
  /** Destroy both sides without forwarding the matching chunk. */
  | 'cut-before'
  /** Forward the matching chunk, then destroy both sides at once: its reply is lost. */
  | 'cut-after'
  /** Forward the matching chunk, then swallow everything the server sends on that connection. */
  | 'drop-replies'
  /**
   * Hold the matching chunk and everything after it on that connection for this long. Like
   * bytes already in the network, they still reach the server if the client hangs up meanwhile.
   */
  | { holdMs: number }
  /** Hold the matching chunk and everything after it on that connection until this settles. */
  | { until: Promise<void> }
  /** Forward this instead of the matching chunk (same length keeps the protocol's framing). */
  | { rewrite: (chunk: Buffer) => Buffer };

export interface Trigger {
  /**
   * Which client→server chunk fires it. `recent` is that chunk with up to 64 KiB of what the
   * connection sent before it since the trigger was armed (a client may write one command in
   * several chunks); `count` is the bytes the connection sent before this chunk.
   */
  match: (recent: Buffer, count: number) => boolean;
  fault: Fault;
  /** Fire on the nth match (1 = the first). */
  nth?: number;
}

export interface Armed {
  /** Resolves when the trigger fired. */
  fired: Promise<void>;
  /** Resolves once the matching chunk was handed to the server (never, if it was cut before). */
  delivered: Promise<void>;
  readonly hasFired: boolean;
  disarm(): void;
}

export interface FaultProxy {
  port: number;
  /** `host:port` of the proxy, to put into a URL in place of the real server's. */
  address: string;
  setMode(mode: Mode): void;
  /** Where new connections go (for a server whose port is known only later). */
  setTarget(port: number): void;
  pass(): void;
  delay(ms: number): void;
  blackhole(): void;
  refuse(): void;
  cutAll(): void;
  arm(trigger: Trigger): Armed;
  /** Connections opened through the proxy so far. */
  readonly connections: number;
  /** Connections open through the proxy now. */
  readonly open: number;
  stop(): Promise<void>;
}

interface Link {
  client: Socket;
  server: Socket;
  upBytes: number;
  /** The tail of what the client sent (its last byte is byte number upBytes). */
  recent: Buffer;
  /** Chunks held back (delay or hold), per direction, forwarded in order when their time comes. */
  queues: { up: Promise<void>; down: Promise<void> };
  /** A hold applies to what the client sends; replies to earlier commands still flow. */
  holdUntil: number;
  silentReplies: boolean;
}

export async function startFaultProxy(target: { host?: string; port: number }): Promise<FaultProxy> {
  const host = target.host ?? '127.0.0.1';
  let targetPort = target.port;
  let mode: Mode = 'pass';
  let opened = 0;
  const links = new Set<Link>();
  const triggers = new Set<{
    t: Trigger;
    seen: number;
    fire: () => void;
    deliver: () => void;
    done: boolean;
    /** Bytes each connection had sent when it was armed: older bytes never fire it. */
    armedAt: Map<Link, number>;
  }>();

  const destroy = (link: Link) => {
    link.client.destroy();
    links.delete(link);
    if (link.holdUntil > Date.now() || link.queues.up !== settled) {
      // Held bytes are in flight: they arrive, then the server sees the hang-up.
      link.silentReplies = true;
      const server = link.server;
      void link.queues.up.then(() => server.end());
      setTimeout(() => server.destroy(), Math.max(0, link.holdUntil - Date.now()) + 5_000).unref();
      return;
    }
    link.server.destroy();
  };

  const forward = (
    link: Link,
    dir: 'up' | 'down',
    chunk: Buffer,
    extraDelayMs: number,
    onWritten: () => void = () => {},
  ) => {
    const to = dir === 'up' ? link.server : link.client;
    const holdLeft = () => (dir === 'up' ? link.holdUntil - Date.now() : 0);
    const write = () => {
      if (to.destroyed) return;
      to.write(chunk);
      onWritten();
    };
    if (extraDelayMs <= 0 && holdLeft() <= 0 && link.queues[dir] === settled) {
      write();
      return;
    }
    const next = link.queues[dir].then(
      () =>
        new Promise<void>((resolve) => {
          setTimeout(
            () => {
              write();
              resolve();
            },
            Math.max(0, extraDelayMs, holdLeft()),
          );
        }),
    );
    link.queues[dir] = next;
    void next.then(() => {
      if (link.queues[dir] === next) link.queues[dir] = settled;
    });
  };

  const server: Server = createServer((client) => {
    opened++;
    client.on('error', () => {});
    if (mode === 'refuse') {
      client.destroy();
      return;
    }
    const upstream = connect({ host, port: targetPort });
    upstream.on('error', () => {});
    const link: Link = {
      client,
      server: upstream,
      upBytes: 0,
      recent: Buffer.alloc(0),
      queues: { up: settled, down: settled },
      holdUntil: 0,
      silentReplies: false,
    };
    links.add(link);
    const close = () => destroy(link);
    client.on('close', close);
    upstream.on('close', close);
    // Bytes from the client before the upstream socket is up are buffered by net.Socket.write.
    client.on('data', (chunk: Buffer) => {
      const before = link.upBytes;
      link.upBytes += chunk.length;
      if (mode === 'blackhole') return;
      const joined = Buffer.concat([link.recent, chunk]);
      link.recent = joined.subarray(Math.max(0, joined.length - WINDOW));
      const joinedStart = link.upBytes - joined.length;
      for (const entry of triggers) {
        const from = Math.max(0, (entry.armedAt.get(link) ?? 0) - joinedStart);
        if (entry.done || !entry.t.match(joined.subarray(from), before)) continue;
        entry.seen++;
        if (entry.seen < (entry.t.nth ?? 1)) continue;
        entry.done = true;
        triggers.delete(entry);
        const fault = entry.t.fault;
        if (fault === 'none') {
          forward(link, 'up', chunk, typeof mode === 'object' ? mode.delayMs : 0, entry.deliver);
          entry.fire();
          return;
        }
        if (fault === 'cut-before') {
          destroy(link);
          entry.fire();
          return;
        }
        if (fault === 'cut-after') {
          // Only once the bytes are on their way to the server is the client's side cut.
          upstream.write(chunk, () => destroy(link));
          entry.deliver();
          entry.fire();
          return;
        }
        if (fault === 'drop-replies') {
          link.silentReplies = true;
          upstream.write(chunk);
          entry.deliver();
          entry.fire();
          return;
        }
        if ('rewrite' in fault) {
          forward(link, 'up', fault.rewrite(chunk), 0, entry.deliver);
          entry.fire();
          return;
        }
        if ('until' in fault) {
          const before = link.queues.up;
          link.queues.up = before.then(() => fault.until.catch(() => {}));
          forward(link, 'up', chunk, 0, entry.deliver);
          entry.fire();
          return;
        }
        link.holdUntil = Date.now() + fault.holdMs;
        forward(link, 'up', chunk, 0, entry.deliver);
        entry.fire();
        return;
      }
      forward(link, 'up', chunk, typeof mode === 'object' ? mode.delayMs : 0);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (mode === 'blackhole' || link.silentReplies) return;
      forward(link, 'down', chunk, typeof mode === 'object' ? mode.delayMs : 0);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : 0;

  const proxy: FaultProxy = {
    port,
    address: `127.0.0.1:${port}`,
    setMode(m) {
      mode = m;
    },
    setTarget(p) {
      targetPort = p;
    },
    pass() {
      mode = 'pass';
    },
    delay(ms) {
      mode = { delayMs: ms };
    },
    blackhole() {
      mode = 'blackhole';
    },
    refuse() {
      mode = 'refuse';
      proxy.cutAll();
    },
    cutAll() {
      for (const link of [...links]) destroy(link);
    },
    arm(t) {
      let fire = () => {};
      let deliver = () => {};
      const fired = new Promise<void>((resolve) => {
        fire = resolve;
      });
      const delivered = new Promise<void>((resolve) => {
        deliver = resolve;
      });
      const armedAt = new Map([...links].map((l) => [l, l.upBytes] as const));
      const entry = { t, seen: 0, fire: () => fire(), deliver: () => deliver(), done: false, armedAt };
      triggers.add(entry);
      return {
        fired,
        delivered,
        get hasFired() {
          return entry.done;
        },
        disarm() {
          entry.done = true;
          triggers.delete(entry);
        },
      };
    },
    get connections() {
      return opened;
    },
    get open() {
      return links.size;
    },
    async stop() {
      proxy.cutAll();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}

const settled = Promise.resolve();
const WINDOW = 64 * 1024;

/**
 * Matches a chunk holding all of these strings, ignoring case (clients spell commands either
 * way: ioredis sends `evalsha`), e.g. a Redis command and one of its arguments.
 */
export function holding(...parts: string[]): (chunk: Buffer) => boolean {
  const wanted = parts.map((p) => p.toLowerCase());
  return (chunk) => {
    const text = chunk.toString('latin1').toLowerCase();
    return wanted.every((p) => text.includes(p));
  };
}

/** A fault proxy in front of the server `url` names (on `defaultPort` when the URL gives none). */
export function startFaultProxyFor(url: string, defaultPort: number): Promise<FaultProxy> {
  return startFaultProxy({ port: Number(new URL(url).port || defaultPort) });
}

/** `url` with its host and port swapped for the proxy's, so a client dials through it. */
export function throughProxy(url: string, proxy: FaultProxy): string {
  const u = new URL(url);
  u.host = proxy.address;
  return u.toString();
}

/**
 * Lifts every proxy's fault and waits until Redis answers again: a client left backing off
 * after a long outage is not the next case's fault.
 */
export async function passAllAndAwaitRedis(
  proxies: readonly FaultProxy[],
  redis: { ping(): Promise<unknown> },
): Promise<void> {
  for (const p of proxies) p.pass();
  await expect
    .poll(
      () =>
        redis.ping().then(
          () => true,
          () => false,
        ),
      { timeout: 20_000 },
    )
    .toBe(true);
}

/** Fault proxies in front of the Redis and Postgres a stack's `env` names. */
export async function startStoreProxies(
  env: Record<string, string>,
): Promise<{ redis: FaultProxy; pg: FaultProxy }> {
  return {
    redis: await startFaultProxyFor(env.REDIS_URL ?? '', 6379),
    pg: await startFaultProxyFor(env.DATABASE_URL ?? '', 5432),
  };
}
