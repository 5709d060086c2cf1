/**
 * A conversation can be tens of megabytes, and moving that takes seconds on a busy host. A read
 * that is slow because the value is big is not "unreachable": a tier's timeout bounds silence
 * (nothing arriving), and a value whose bytes keep arriving gets up to `maxMs`. Past that the
 * read is "too large to read in N ms", which says what to do instead.
 */

/** Default for the longest a single read may take while its bytes keep arriving. */
export const DEFAULT_MAX_READ_MS = 60_000;

/**
 * How long the first byte of a value of `bytes` may take, with `aheadBytes` queued before it on
 * the same connection: the timeout plus 200 ms per MiB (a loaded two-core host needed up to
 * 70 ms per MiB for Redis to start sending a 30 MB value).
 */
export function firstByteMs(timeoutMs: number, bytes: number, aheadBytes = 0): number {
  return timeoutMs + Math.ceil(((bytes + aheadBytes) / (1024 * 1024)) * 200);
}

export function mib(bytes: number): string {
  return `${(bytes / (1024 * 1024)).toFixed(1)} MiB`;
}

/** Nothing arrived for the tier's timeout: the tier is not answering. */
export class SilenceTimeout extends Error {
  constructor(readonly ms: number) {
    super(`timed out after ${ms} ms`);
  }
}

/** Bytes were still arriving when the longest allowed read ran out. */
export class TooLargeToRead extends Error {
  constructor(
    readonly ms: number,
    readonly bytes: number,
  ) {
    super(tooLargeReason(ms, bytes > 0 ? `${mib(bytes)} arrived by then` : ''));
  }
}

export function tooLargeReason(ms: number, size: string): string {
  return `too large to read in ${ms} ms${size ? ` (${size})` : ''}; the tier answers, the value is big: export it with the CLI (\`zeus-recover export\`), or raise TIER_READ_MAX_MS`;
}

/**
 * Races `work` against silence: it fails with `SilenceTimeout` when `progress` was not called
 * for `timeoutMs`, and with `TooLargeToRead` once `maxMs` have passed in all. The first byte may
 * be given longer (`firstByteMs`), for a server that prepares a big answer before sending it.
 * A server that may be working without sending (PostgreSQL turning a big jsonb into text) is
 * asked through `stillWorking` when the silence runs out; a yes gives it another `timeoutMs`.
 */
export class ReadDeadline {
  #received = 0;
  #idle: NodeJS.Timeout | undefined;
  #cap: NodeJS.Timeout | undefined;
  #fail: ((err: Error) => void) | undefined;
  #expired = false;
  readonly timeoutMs: number;
  readonly maxMs: number;
  readonly #firstByteMs: number;
  readonly #stillWorking: (() => Promise<boolean>) | undefined;

  constructor(opts: {
    timeoutMs: number;
    maxMs: number;
    firstByteMs?: number;
    stillWorking?: () => Promise<boolean>;
  }) {
    this.timeoutMs = opts.timeoutMs;
    this.maxMs = Math.max(opts.timeoutMs, opts.maxMs);
    this.#firstByteMs = Math.max(opts.timeoutMs, opts.firstByteMs ?? opts.timeoutMs);
    this.#stillWorking = opts.stillWorking;
  }

  get expired(): boolean {
    return this.#expired;
  }

  /** Some bytes of the answer arrived: the tier is alive, silence starts over. */
  progress(bytes: number): void {
    this.#received += bytes;
    this.#armIdle();
  }

  async race<T>(work: Promise<T>): Promise<T> {
    work.catch(() => {});
    const deadline = new Promise<never>((_, reject) => {
      this.#fail = (err) => {
        this.#expired = true;
        reject(err);
      };
    });
    this.#armIdle();
    this.#cap = setTimeout(() => this.#fail?.(new TooLargeToRead(this.maxMs, this.#received)), this.maxMs);
    try {
      return await Promise.race([work, deadline]);
    } finally {
      clearTimeout(this.#idle);
      clearTimeout(this.#cap);
      this.#fail = undefined;
    }
  }

  #armIdle(): void {
    if (!this.#fail) return;
    clearTimeout(this.#idle);
    const window = this.#received === 0 ? this.#firstByteMs : this.timeoutMs;
    this.#idle = setTimeout(() => void this.#silence(), window);
  }

  async #silence(): Promise<void> {
    const before = this.#received;
    // After the event loop was held up, timers run before the socket data that waited meanwhile:
    // let that data in first, so a busy process is not taken for a silent server.
    await new Promise((resolve) => setImmediate(resolve));
    const working = this.#stillWorking ? await this.#stillWorking().catch(() => false) : false;
    if (working || this.#received !== before) this.#armIdle();
    else this.#fail?.(new SilenceTimeout(this.timeoutMs));
  }
}
