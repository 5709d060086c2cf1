/**
 * Phones rewrite what people type: smart quotes, non-breaking and zero-width spaces, and iOS
 * "smart punctuation" turns `--from` into `—from`. Slack itself HTML-escapes `&`, `<`, `>` in
 * the command text even with should_escape off. And people paste what help and hints show as
 * code spans (`list c-7f*`): those backticks are Slack formatting, never part of a command, and
 * left in they came back as look-alike quotes in the answer.
 */
export function normaliseText(text: string): string {
  return text
    .replace(/[\u200b-\u200d\u2060\ufeff]/g, '')
    .replace(/[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]/g, ' ')
    .replace(/[\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb]/g, '"')
    .replace(/[\u2018\u2019\u201a\u201b\u2032]/g, "'")
    .replace(/(^|\s)[\u2012\u2013\u2014\u2015\u2212]+(?=[A-Za-z])/g, '$1--')
    .replace(/&(amp|lt|gt);/g, (_m, name: string) => (name === 'lt' ? '<' : name === 'gt' ? '>' : '&'))
    .replace(/`([^`]*)`/g, '$1');
}
