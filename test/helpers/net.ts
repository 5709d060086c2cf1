import { connect, createServer, type Socket } from 'node:net';

/** A port nothing listens on right now (for servers a test starts itself). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const address = srv.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface BlackHole {
  port: number;
  /** Hangs up on everyone connected now (lets a client without timeouts give up). */
  drop(): void;
  stop(): Promise<void>;
}

/** Accepts connections and never answers: a hung server, which is not the same as a refused one. */
export async function startBlackHole(): Promise<BlackHole> {
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return {
    port: typeof address === 'object' && address ? address.port : 0,
    drop() {
      for (const s of sockets) s.destroy();
    },
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/**
 * Sends raw bytes to a local server and resolves with all it answered once the connection
 * closes. With `halfClose` our side ends after writing; without, it stays open like a client
 * that stalled mid-request.
 */
export function rawExchange(port: number, bytes: string, halfClose: boolean): Promise<string> {
  return new Promise<string>((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => {
      if (halfClose) socket.end(bytes);
      else socket.write(bytes);
    });
    let data = '';
    socket.on('data', (d) => {
      data += String(d);
    });
    socket.on('close', () => resolve(data));
    socket.on('error', reject);
  });
}
