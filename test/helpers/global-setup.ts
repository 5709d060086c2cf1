import { createConnection } from 'node:net';
import { ADMIN_DATABASE_URL, REDIS_URL } from './env.js';

function reachable(url: string): Promise<boolean> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve) => {
    const socket = createConnection({ host: hostname, port: Number(port) });
    socket.setTimeout(2000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}

/**
 * Integration tests need the real services; a missing one fails the run loudly instead of
 * letting tests skip. `npm test` starts them first (scripts/ensure-services.sh).
 */
export default async function setup(): Promise<void> {
  const missing: string[] = [];
  if (!(await reachable(REDIS_URL))) missing.push(`Redis at ${REDIS_URL}`);
  if (!(await reachable(ADMIN_DATABASE_URL))) missing.push(`PostgreSQL at ${ADMIN_DATABASE_URL}`);
  if (missing.length > 0) {
    throw new Error(
      `Test services unreachable: ${missing.join(', ')}. Run \`npm test\` (it starts them) or \`bash scripts/ensure-services.sh\`.`,
    );
  }
}
