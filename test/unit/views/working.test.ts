import { describe, expect, it } from 'vitest';
import { toPlainText } from '../../../src/views/index.js';
import { postedNote, workingNote } from '../../../src/views/working.js';

describe('the private notes around a command', () => {
  it('says what it is working on, privately', () => {
    const note = workingNote('inspect c-lost');
    expect(note.response_type).toBe('ephemeral');
    expect(toPlainText(note)).toBe('⏳ Working on `inspect c-lost`… the result goes to the incident thread.');
  });

  it('replaces it in place with a link to the thread message', () => {
    const note = postedNote(
      'Inspected c-lost; the report is in the incident thread.',
      'https://x.slack.com/archives/C1/p1',
    );
    expect(note.replace_original).toBe(true);
    expect(note.text).toBe(
      '✅ Inspected c-lost; the report is in the incident thread. <https://x.slack.com/archives/C1/p1|Open it in the thread>',
    );
  });

  it('links only what looks like Slack’s permalink, and escapes the sentence', () => {
    expect(postedNote('a <!channel> b', 'javascript:alert(1)').text).toBe('✅ a &lt;!channel&gt; b');
    expect(postedNote('done', 'https://x/|evil>').text).toBe('✅ done');
    expect(postedNote('done', null).text).toBe('✅ done');
  });
});
