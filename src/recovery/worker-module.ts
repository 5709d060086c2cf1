import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

/**
 * What a worker thread needs to load module `name` next to the module at `here`: the TypeScript
 * source through tsx's loader in a checkout (tests, the CLI run with tsx), the compiled JavaScript
 * in the image (no loader).
 */
export function workerModule(here: string, name: string): { moduleUrl: string; tsxApi: string | null } {
  const isSource = /\.ts$/.test(new URL(here).pathname);
  const moduleUrl = new URL(`./${name}.${isSource ? 'ts' : 'js'}`, here).href;
  if (!isSource) return { moduleUrl, tsxApi: null };
  // require.resolve picks the CommonJS entry; the worker needs the ESM one next to it.
  const tsxApi = pathToFileURL(
    createRequire(here)
      .resolve('tsx/esm/api')
      .replace(/index\.cjs$/, 'index.mjs'),
  ).href;
  return { moduleUrl, tsxApi };
}
