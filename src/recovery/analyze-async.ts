import { Worker } from 'node:worker_threads';
import { analyzeConversation } from './conversation.js';
import type { ConversationAnalysis } from './types.js';
import { workerModule } from './worker-module.js';

/**
 * Above this size a copy is analysed on a worker thread. Parsing losslessly (big numbers,
 * duplicate keys) costs about 0.3 ms per KiB on the event loop (`npm run bench`); a few MiB of
 * conversation would otherwise hold up every other request — including Slack's 3-second acks.
 */
export const OFF_THREAD_BYTES = 256 * 1024;

// Runs in the worker: loads the same module the caller uses (TypeScript source via tsx in a
// checkout, compiled JavaScript in the image) and analyses one copy.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  if (workerData.tsxApi) (await import(workerData.tsxApi)).register();
  const { analyzeConversation } = await import(workerData.moduleUrl);
  parentPort.postMessage(analyzeConversation(Buffer.from(workerData.bytes), workerData.id));
})().catch((err) => { throw err; });
`;

export async function analyzeAsync(bytes: Buffer, expectedId: string): Promise<ConversationAnalysis> {
  if (bytes.length < OFF_THREAD_BYTES) return analyzeConversation(bytes, expectedId);
  const { moduleUrl: url, tsxApi } = workerModule(import.meta.url, 'conversation');
  return new Promise<ConversationAnalysis>((resolve, reject) => {
    const worker = new Worker(WORKER_SOURCE, {
      eval: true,
      // Not the parent's flags: `--input-type=module` or loaders would change how this evaluates.
      execArgv: [],
      workerData: { bytes, id: expectedId, moduleUrl: url, tsxApi },
    });
    let settled = false;
    worker.once('message', (analysis: ConversationAnalysis) => {
      settled = true;
      resolve(analysis);
      void worker.terminate();
    });
    worker.once('error', (err) => {
      settled = true;
      reject(err);
    });
    worker.once('exit', (code) => {
      if (!settled) reject(new Error(`conversation analysis worker exited with code ${code}`));
    });
  });
}
