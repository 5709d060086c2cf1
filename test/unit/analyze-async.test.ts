import { describe, expect, it } from 'vitest';
import { analyzeAsync, OFF_THREAD_BYTES } from '../../src/recovery/analyze-async.js';
import { analyzeConversation } from '../../src/recovery/conversation.js';
import { makeConversation } from '../helpers/conversations.js';

describe('analyzeAsync', () => {
  it('analyses a large copy on a worker, with the same result, leaving the event loop free', async () => {
    const bytes = Buffer.from(makeConversation('c-big', 4000, { big: 12345678901234567891n.toString() }));
    expect(bytes.length).toBeGreaterThan(OFF_THREAD_BYTES);
    let settled = false;
    let loopRanMeanwhile = false;
    const pending = analyzeAsync(bytes, 'c-big').finally(() => {
      settled = true;
    });
    setImmediate(() => {
      loopRanMeanwhile = !settled;
    });
    const analysis = await pending;
    expect(loopRanMeanwhile).toBe(true);
    expect(analysis).toEqual(analyzeConversation(bytes, 'c-big'));
  });

  it('analyses a small copy in place', async () => {
    const bytes = Buffer.from(makeConversation('c-small', 3));
    expect(await analyzeAsync(bytes, 'c-small')).toEqual(analyzeConversation(bytes, 'c-small'));
  });

  it('reports findings from the worker too', async () => {
    const bytes = Buffer.from(makeConversation('c-other', 4000));
    const analysis = await analyzeAsync(bytes, 'c-mismatch');
    expect(analysis.findings.map((f) => f.code)).toContain('id_mismatch');
  });
});
