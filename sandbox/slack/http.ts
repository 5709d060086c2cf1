import type { IncomingMessage, ServerResponse } from 'node:http';
import { decodeField } from './web-api.js';
import type { Json } from './workspace.js';

/** Reading and answering HTTP for the local Slack: the bot's calls and the page's. */

const MAX_BODY = 50 * 1024 * 1024;

export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const isJson = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY) {
        reject(new HttpError(413, 'body too large'));
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export interface ParsedBody {
  args: Json;
  /** Binary parts of a multipart body, by field name. */
  files: Record<string, { filename: string; bytes: Buffer }>;
}

/** Form, JSON and multipart bodies, as @slack/web-api, Bolt's `respond` and the upload step send them. */
export async function parseBody(
  raw: Buffer,
  contentType: string,
  query: URLSearchParams,
): Promise<ParsedBody> {
  const args: Json = {};
  const files: ParsedBody['files'] = {};
  for (const [key, value] of query) args[key] = decodeField(key, value);
  const type = contentType.toLowerCase();
  if (type.startsWith('multipart/form-data')) {
    // undici's Response does the multipart parsing; no hand-rolled boundary splitting.
    const form = await new Response(raw, { headers: { 'content-type': contentType } }).formData();
    for (const [key, value] of form) {
      if (typeof value === 'string') args[key] = decodeField(key, value);
      else {
        const bytes = Buffer.from(await value.arrayBuffer());
        files[key] = { filename: value.name, bytes };
        args[key] = { filename: value.name, size: bytes.length };
      }
    }
  } else if (type.startsWith('application/json')) {
    if (raw.length > 0) {
      const parsed: unknown = JSON.parse(raw.toString('utf8'));
      if (isJson(parsed)) Object.assign(args, parsed);
      else args.body = parsed;
    }
  } else if (raw.length > 0) {
    for (const [key, value] of new URLSearchParams(raw.toString('utf8'))) args[key] = decodeField(key, value);
  }
  return { args, files };
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}
