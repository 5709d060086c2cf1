import { describe, expect, it } from 'vitest';
import {
  firstLines,
  formatBytes,
  formatDuration,
  formatRelative,
  formatTime,
  formatTtl,
  shortChecksum,
} from '../../../src/views/format.js';

const NOW = new Date('2025-12-13T03:11:00.000Z');

describe('formatTime', () => {
  it('gives only the time on the same UTC day, the date otherwise', () => {
    expect(formatTime('2025-12-13T03:41:00.000Z', NOW)).toBe('03:41 UTC');
    expect(formatTime(new Date('2025-12-12T23:59:00.000Z'), NOW)).toBe('2025-12-12 23:59 UTC');
    expect(formatTime('2025-12-13T03:41:07.000Z', NOW, { seconds: true })).toBe('03:41:07 UTC');
  });

  it('gives the date when it cannot know what today is, and survives garbage', () => {
    expect(formatTime('2025-12-13T03:41:00.000Z')).toBe('2025-12-13 03:41 UTC');
    expect(formatTime('not a date', NOW)).toBe('an unknown time');
    expect(formatTime(null, NOW)).toBe('an unknown time');
  });
});

describe('durations', () => {
  it('uses at most two units', () => {
    expect(formatDuration(45_000)).toBe('45 s');
    expect(formatDuration(30 * 60_000)).toBe('30 min');
    expect(formatDuration(125 * 60_000)).toBe('2 h 5 min');
    expect(formatDuration(6 * 3600_000)).toBe('6 h');
    expect(formatDuration(76 * 3600_000)).toBe('3 d 4 h');
  });

  it('says when, relative to now', () => {
    expect(formatRelative('2025-12-13T03:41:00.000Z', NOW)).toBe('in 30 min');
    expect(formatRelative('2025-12-13T02:59:00.000Z', NOW)).toBe('12 min ago');
    expect(formatRelative(NOW, NOW)).toBe('just now');
  });
});

describe('sizes and fingerprints', () => {
  it('formats bytes, TTLs and checksums', () => {
    expect(formatBytes(812)).toBe('812 B');
    expect(formatBytes(4321)).toBe('4.2 KB');
    expect(formatBytes(9 * 1024 ** 3)).toBe('9.0 GB');
    expect(formatBytes(null)).toBe('? B');
    expect(formatTtl(null)).toBe('no TTL');
    expect(formatTtl(6 * 3600_000)).toBe('TTL 6 h');
    expect(formatTtl(null, { bare: true })).toBe('none');
    expect(shortChecksum('sha256:1a2b3c4d5e6f7a8b9c')).toBe('1a2b3c4d5e6f');
    expect(shortChecksum(null)).toBe('none');
  });
});

describe('firstLines', () => {
  it('renders only what it shows and counts the rest', () => {
    let rendered = 0;
    const lines = firstLines(
      Array.from({ length: 100_000 }, (_, i) => i),
      3,
      (i) => {
        rendered++;
        return `#${i}`;
      },
      'step',
    );
    expect(lines).toEqual(['#0', '#1', '#2', '…and 99,997 more steps']);
    expect(rendered).toBe(3);
    expect(firstLines([1, 2], 1, String, 'finding')).toEqual(['1', '…and 1 more finding']);
  });
});
