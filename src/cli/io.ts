import { userInfo } from 'node:os';
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
  /** Which streams are terminals (colour, spinners); absent: neither, as when piped. */
  tty?: { stdout: boolean; stderr: boolean };
}

/** Who runs a destructive command, as the audit log records it: the given user, else the OS's. */
export function actingUser(io: CliIo): string {
  if (io.user) return io.user;
  try {
    return userInfo().username;
  } catch {
    return 'unknown';
  }
}
