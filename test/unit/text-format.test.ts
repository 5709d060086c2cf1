import { describe, expect, it } from 'vitest';
import { formatDuration, formatTtl, plural, shortChecksum } from '../../src/text-format.js';

// The views' spellings are held by test/unit/views/format.test.ts; these are the other faces'.
describe('text-format', () => {
  it('spells one duration two ways: running text and a terminal column', () => {
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(45_000, { compact: true })).toBe('45s');
    expect(formatDuration(125 * 60_000)).toBe('2 h 5 min');
    expect(formatDuration(125 * 60_000, { compact: true })).toBe('2h5m');
    expect(formatDuration(76 * 3600_000, { compact: true })).toBe('3d4h');
  });

  it('gives a TTL for a table column without the word', () => {
    expect(formatTtl(6 * 3600_000, { compact: true })).toBe('6h');
    expect(formatTtl(null, { compact: true })).toBe('none');
  });

  it('keeps the algorithm and marks the cut when asked', () => {
    const sum = `sha256:${'1a2b3c4d5e6f'}${'0'.repeat(52)}`;
    expect(shortChecksum(sum)).toBe('1a2b3c4d5e6f');
    expect(shortChecksum(sum, { algorithm: true })).toBe('sha256:1a2b3c4d5e6f…');
    expect(shortChecksum('sha256:abc', { algorithm: true })).toBe('sha256:abc');
    expect(shortChecksum(null, { algorithm: true })).toBe('none');
  });

  it('counts with separators, or gives the word alone', () => {
    expect(plural(1024, 'step')).toBe('1,024 steps');
    expect(plural(1, 'step')).toBe('1 step');
    expect(plural(1, 'step', 'steps', { count: false })).toBe('step');
    expect(plural(4, 'entry', 'entries', { count: false })).toBe('entries');
  });
});
