import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface TestRedisCluster {
  /** `host:port` of every master, as REDIS_CLUSTER_NODES takes them. */
  nodes: string[];
  stop(): Promise<void>;
}

/**
 * A real Redis Cluster of `masters` redis-server processes (no replicas) on free ports under a
 * temp dir. Throws with the servers' output when it cannot start: callers must fail, not skip.
 */
export async function startRedisCluster(masters = 3): Promise<TestRedisCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'zr-cluster-'));
  const children: ChildProcess[] = [];
  const output: string[] = [];
  const stop = async () => {
    await Promise.all(children.map(terminate));
    await rm(dir, { recursive: true, force: true });
  };
  try {
    const ports = await freeClusterPorts(masters);
    for (const port of ports) {
      const child = spawn(
        'redis-server',
        [
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--cluster-enabled',
          'yes',
          '--cluster-config-file',
          `nodes-${port}.conf`,
          '--cluster-node-timeout',
          '5000',
          '--dir',
          dir,
          '--save',
          '',
          '--appendonly',
          'no',
          '--daemonize',
          'no',
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      );
      children.push(child);
      const collect = (chunk: Buffer) => output.push(`[${port}] ${chunk.toString('utf8').trimEnd()}`);
      child.stdout?.on('data', collect);
      child.stderr?.on('data', collect);
      child.on('error', (err) => output.push(`[${port}] ${err.message}`));
    }
    for (const [i, port] of ports.entries()) {
      const child = children[i];
      await until(`redis-server on ${port} answers PING`, /PONG/, () => {
        // A server that could not start (not installed, port taken) fails now, not at the deadline.
        if (!child || child.pid === undefined || child.exitCode !== null) {
          return Promise.reject(new Gone(`redis-server on ${port} is not running`));
        }
        return cli(port, 'ping');
      });
    }
    const addresses = ports.map((p) => `127.0.0.1:${p}`);
    await run(
      'redis-cli',
      ['--cluster', 'create', ...addresses, '--cluster-replicas', '0', '--cluster-yes'],
      {
        timeout: 30_000,
      },
    );
    for (const port of ports) {
      await until(`node ${port} reports cluster_state:ok`, /cluster_state:ok/, () =>
        cli(port, 'cluster', 'info'),
      );
    }
    return { nodes: addresses, stop };
  } catch (err) {
    await stop();
    throw new Error(
      `Could not start a Redis Cluster (redis-server and redis-cli 7 must be on PATH): ${(err as Error).message}\n${output.join('\n')}`,
    );
  }
}

class Gone extends Error {}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    timeout: 5000,
  });
  return stdout;
}

async function until(
  what: string,
  ok: RegExp,
  probe: () => Promise<string>,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      last = await probe();
      if (ok.test(last)) return;
    } catch (err) {
      if (err instanceof Gone) throw err;
      last = (err as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting until ${what}; last answer: ${last.trim()}`);
}

/** A cluster node also listens on port + 10000 (the cluster bus), so both must be free. */
async function freeClusterPorts(count: number): Promise<number[]> {
  const ports: number[] = [];
  for (let attempt = 0; ports.length < count && attempt < 200; attempt++) {
    const port = 20_000 + Math.floor(Math.random() * 35_000);
    if (ports.includes(port) || ports.includes(port + 10_000) || ports.includes(port - 10_000)) continue;
    if ((await canListen(port)) && (await canListen(port + 10_000))) ports.push(port);
  }
  if (ports.length < count) throw new Error('no free port pairs (port, port+10000) found');
  return ports;
}

function canListen(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function terminate(child: ChildProcess): Promise<void> {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null)
    return Promise.resolve();
  return new Promise((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 5000);
    child.once('exit', () => {
      clearTimeout(force);
      resolve();
    });
    child.kill('SIGTERM');
  });
}
