/**
 * The command text as tokens, in one forward pass: words, quoted words and `--flags` with their
 * positions, so errors can quote and suggestions can edit exactly what was typed.
 */

export interface WordToken {
  kind: 'word';
  text: string;
  quoted: boolean;
  start: number;
  end: number;
}
export interface FlagToken {
  kind: 'flag';
  /** Lower-cased, `_` read as `-`. */
  name: string;
  /** The `=value` part, if written inline. */
  value: string | undefined;
  start: number;
  end: number;
}
export type Token = WordToken | FlagToken;

const FLAG_WORD = /^--([A-Za-z][A-Za-z_-]*)(?:=([\s\S]*))?$/;

function isSpace(ch: string): boolean {
  return /\s/.test(ch);
}

function flagName(raw: string): string {
  return raw.toLowerCase().replace(/_/g, '-');
}

/** An opening quote with no closing one: where it starts (the token) and which quote it is. */
export interface UnclosedQuote {
  start: number;
  quote: string;
}

export interface Scan {
  tokens: Token[];
  unclosed: UnclosedQuote | null;
  /** Characters examined. Every position is examined at most twice, so this stays under 2n + 1. */
  steps: number;
}

/**
 * Splits on whitespace in one forward pass; `"…"` / `'…'` group words (also as `--flag="…"`).
 * A quote opens only at the start of a word (or of an inline flag value) and closes only
 * before whitespace or the end, so apostrophes inside words stay text. A quote that opens and
 * never closes stops the scan: guessing where it was meant to end is how a reason silently
 * swallowed the rest of a command (and how rescanning from every quote went quadratic).
 */
export function scanCommand(text: string): Scan {
  const tokens: Token[] = [];
  let steps = 0;
  let i = 0;
  const n = text.length;
  // From `from` on, the index of `quote` followed by whitespace or the end; -1 if none.
  const closingQuote = (from: number, quote: string): number => {
    for (let k = from; k < n; k++) {
      steps++;
      if (text.charAt(k) === quote && (k + 1 === n || isSpace(text.charAt(k + 1)))) return k;
    }
    return -1;
  };
  while (i < n) {
    steps++;
    const ch = text.charAt(i);
    if (isSpace(ch)) {
      i++;
      continue;
    }
    const start = i;
    if (ch === '"' || ch === "'") {
      const close = closingQuote(i + 1, ch);
      if (close === -1) return { tokens, unclosed: { start, quote: ch }, steps };
      tokens.push({ kind: 'word', text: text.slice(i + 1, close), quoted: true, start, end: close + 1 });
      i = close + 1;
      continue;
    }
    let j = i + 1;
    while (j < n && !isSpace(text.charAt(j))) {
      steps++;
      j++;
    }
    const flag = FLAG_WORD.exec(text.slice(i, j));
    if (flag?.[1] === undefined) {
      tokens.push({ kind: 'word', text: text.slice(i, j), quoted: false, start, end: j });
      i = j;
      continue;
    }
    const value = flag[2];
    const quote = value?.charAt(0);
    if (value === undefined || (quote !== '"' && quote !== "'")) {
      tokens.push({ kind: 'flag', name: flagName(flag[1]), value, start, end: j });
      i = j;
      continue;
    }
    // `--flag="…"`: the value may run past this word, up to its closing quote.
    const valueStart = j - value.length + 1;
    const close = closingQuote(valueStart, quote);
    if (close === -1) return { tokens, unclosed: { start, quote }, steps };
    tokens.push({
      kind: 'flag',
      name: flagName(flag[1]),
      value: text.slice(valueStart, close),
      start,
      end: close + 1,
    });
    i = close + 1;
  }
  return { tokens, unclosed: null, steps };
}
