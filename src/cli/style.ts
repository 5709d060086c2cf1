import type { CliIo } from './io.js';

/**
 * Colour only for a person at a terminal: never with --json or when piped, never with NO_COLOR
 * set; FORCE_COLOR (non-zero) asks for it anyway and FORCE_COLOR=0 turns it off, as in Node.
 */
export function colourOn(io: CliIo, stream: 'stdout' | 'stderr', json: boolean): boolean {
  if (json) return false;
  const force = io.env.FORCE_COLOR;
  if (force !== undefined && force !== '') return force !== '0' && force !== 'false';
  if (io.env.NO_COLOR !== undefined && io.env.NO_COLOR !== '') return false;
  return io.tty?.[stream] === true;
}

const sgr = (code: string) => (text: string) => `\x1b[${code}m${text}\x1b[0m`;
export const red = sgr('31');
export const green = sgr('32');
export const yellow = sgr('33');
export const bold = sgr('1');

/**
 * Colours what a reader scans for in a finished report. Applied after the columns are laid out
 * (escape codes have no width), to words the formatters write themselves.
 */
const PAINT: ReadonlyArray<[RegExp, (t: string) => string]> = [
  [/✔ found|✅ healthy|\bintact\b|^Restored\b|^Replayed\b/gm, green],
  [/∅ missing|⚠️ {1,2}degraded|^Warning:|\bWarning: /gm, yellow],
  [
    /✖ unreachable|❌ broken|\bNOT valid\b|\bFAILED\b|\bUNKNOWN\b|\bBROKEN\b|\bREFUSED\b|(?<= {2})NO(?= {2})|^To fix:/gm,
    red,
  ],
  [/^(Recommendation|Next|Verdict|Undo with|Put one back):/gm, bold],
];

export function paint(text: string): string {
  let out = text;
  for (const [pattern, style] of PAINT) out = out.replace(pattern, style);
  return out;
}

const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
/** Quick answers never show a spinner: it would only flicker. */
const SPINNER_AFTER_MS = 300;

/**
 * Runs `work` with a labelled spinner on stderr while it takes long, on a terminal only (piped
 * output and --json stay clean); the line is wiped before anything else is written.
 */
export async function withSpinner<T>(io: CliIo, json: boolean, label: string, work: Promise<T>): Promise<T> {
  if (json || io.tty?.stderr !== true) return work;
  let frame = 0;
  let shown = false;
  const draw = () => {
    shown = true;
    io.stderr(`\r${FRAMES[frame++ % FRAMES.length]} ${label}`);
  };
  let timer: NodeJS.Timeout | undefined;
  const start = setTimeout(() => {
    draw();
    timer = setInterval(draw, 80);
  }, SPINNER_AFTER_MS);
  try {
    return await work;
  } finally {
    clearTimeout(start);
    if (timer) clearInterval(timer);
    if (shown) io.stderr('\r\x1b[K');
  }
}
