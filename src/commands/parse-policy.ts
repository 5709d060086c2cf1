import { SLASH_COMMAND } from '../slack-ids.js';
import type { CommandError, ParsedCommand } from './parsed-command.js';
import { fail, shown } from './suggestions.js';
import type { Token } from './tokenizer.js';

const USAGE = `${SLASH_COMMAND} breaker-reset --reason <why>`;

/** `breaker-reset --reason <why>`: the reason is everything after the flag (or its `=value`). */
export function parseBreakerReset(tokens: readonly Token[], text: string): ParsedCommand | CommandError {
  const [flag, ...rest] = tokens;
  if (flag === undefined || flag.kind !== 'flag' || flag.name !== 'reason') {
    const what = flag === undefined ? 'nothing' : `\`${shown(text.slice(flag.start, flag.end))}\``;
    return fail(
      `\`breaker-reset\` takes only \`--reason\` (what was fixed), not ${what}: the reason goes into the audit log and the reset's approval message.`,
      `${SLASH_COMMAND} breaker-reset --reason <what was fixed>`,
      USAGE,
    );
  }
  const extraFlag = rest.find((t) => t.kind === 'flag');
  if (extraFlag !== undefined) {
    return fail(
      `\`breaker-reset\` takes only \`--reason\`; remove \`--${shown(extraFlag.name)}\`.`,
      null,
      USAGE,
    );
  }
  const first = rest[0];
  const last = rest.at(-1);
  const reason = (flag.value ?? (first && last ? text.slice(first.start, last.end) : '')).trim();
  if (!reason) return fail('`--reason` needs a value: say what was fixed.', null, USAGE);
  return { kind: 'breaker-reset', reason };
}
