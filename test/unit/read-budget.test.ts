import { describe, expect, it } from 'vitest';
import { ReadDeadline, SilenceTimeout, TooLargeToRead } from '../../src/recovery/tiers/read-budget.js';

/** Outcomes only: which way a read ends, never how long it took. */
const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('ReadDeadline', () => {
  it('a read whose bytes keep arriving outlives the timeout, and ends as "too large" at the cap', async () => {
    const deadline = new ReadDeadline({ timeoutMs: 40, maxMs: 300 });
    let stop = false;
    const work = (async () => {
      while (!stop) {
        deadline.progress(1024);
        await tick(5);
      }
      return 'done';
    })();
    const outcome = await deadline.race(work).catch((err: unknown) => err);
    stop = true;
    expect(outcome).toBeInstanceOf(TooLargeToRead);
    expect((outcome as Error).message).toMatch(/^too large to read in 300 ms \([\d.]+ MiB arrived by then\)/);
  });

  it('a read that keeps sending finishes however much longer than the timeout it takes', async () => {
    const deadline = new ReadDeadline({ timeoutMs: 30, maxMs: 10_000 });
    const work = (async () => {
      for (let i = 0; i < 20; i++) {
        deadline.progress(1);
        await tick(10);
      }
      return 'done';
    })();
    await expect(deadline.race(work)).resolves.toBe('done');
  });

  it('silence is a timeout', async () => {
    const deadline = new ReadDeadline({ timeoutMs: 30, maxMs: 10_000 });
    const outcome = await deadline.race(new Promise(() => {})).catch((err: unknown) => err);
    expect(outcome).toBeInstanceOf(SilenceTimeout);
    expect(deadline.expired).toBe(true);
  });

  it('a silent server that says it is still working is given more time', async () => {
    let asked = 0;
    const deadline = new ReadDeadline({
      timeoutMs: 20,
      maxMs: 10_000,
      stillWorking: async () => {
        asked++;
        return true;
      },
    });
    const work = (async () => {
      while (asked < 3) await tick(5);
      return 'done';
    })();
    await expect(deadline.race(work)).resolves.toBe('done');
  });

  it('a silent server that cannot say it is working times out', async () => {
    const deadline = new ReadDeadline({
      timeoutMs: 20,
      maxMs: 10_000,
      stillWorking: () => Promise.reject(new Error('no answer either')),
    });
    await expect(deadline.race(new Promise(() => {}))).rejects.toBeInstanceOf(SilenceTimeout);
  });
});
