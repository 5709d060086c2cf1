import type { Env } from '../config.js';

/**
 * What a CLI run may touch of its process, given to it so tests run it in-process. A leaf: main.ts
 * and the commands it loads lazily both take it without importing each other.
 */
export interface CliIo {
  stdout: (text: string | Buffer) => void;
  stderr: (text: string) => void;
  env: Env;
  /** The OS user recorded as the actor of destructive commands. */
  user?: string;
}
