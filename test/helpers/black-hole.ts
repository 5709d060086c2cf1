import { afterAll, beforeAll } from 'vitest';
import { type BlackHole, startBlackHole } from './net.js';

/**
 * A black hole for the enclosing describe block: started before its tests, stopped after them.
 * Read `port` inside tests only.
 */
export function useBlackHole(): Pick<BlackHole, 'port' | 'drop'> {
  let hole: BlackHole | undefined;
  beforeAll(async () => {
    hole = await startBlackHole();
  });
  afterAll(async () => {
    await hole?.stop();
  });
  const started = (): BlackHole => {
    if (!hole) throw new Error('useBlackHole: read before beforeAll ran');
    return hole;
  };
  return {
    get port() {
      return started().port;
    },
    drop: () => started().drop(),
  };
}
