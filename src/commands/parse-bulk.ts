import { SLASH_COMMAND } from '../slack-ids.js';
import { BULK_VERBS, type BulkVerb } from '../slack-verbs.js';
import { type SlackFlag, VERB_TABLE, type VerbRow } from '../verb-table.js';
import type { BulkCommand } from '../workflow/command.js';
import type { CommandError } from './parsed-command.js';
import { closest, fail, shown } from './suggestions.js';
import type { Token, WordToken } from './tokenizer.js';

/**
 * The bulk restore's grammar: `bulk-restore --from postgres --since …`, `job <jobId>`, `jobs`,
 * `resume <jobId> --reason …`. Only the shape is checked here; the window and the pattern are
 * checked by the core (recovery/bulk/selection.ts) before anything is read, and refused there.
 */

const JOB_ID = /^bj_[A-Za-z0-9_-]{20}$/;
const MAX_RATE = /^[1-9]\d{0,6}$/;
/** Flags that take no value. */
const SWITCHES: readonly SlackFlag[] = ['overwrite'];

function row(verb: BulkVerb): { syntax: string; flags: readonly SlackFlag[] } {
  const found = (VERB_TABLE as readonly VerbRow[]).find((r) => r.verb === verb);
  if (found?.slack == null) throw new Error(`The verb table has no Slack row for ${verb}`);
  return { syntax: found.slack.syntax ?? found.syntax, flags: found.slack.flags };
}

function usageOf(verb: BulkVerb): string {
  return `${SLASH_COMMAND} ${row(verb).syntax}`;
}

interface Collected {
  words: WordToken[];
  flags: Partial<Record<SlackFlag, string>>;
}

/** Words and flags; a flag's value is the next word, `--reason`'s the text up to the next flag. */
function collect(verb: BulkVerb, tokens: readonly Token[], text: string): Collected | CommandError {
  const allowed = row(verb).flags;
  const out: Collected = { words: [], flags: {} };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i] as Token;
    if (token.kind === 'word') {
      out.words.push(token);
      continue;
    }
    const name = allowed.find((f) => f === token.name);
    if (name === undefined) {
      const guess = closest(token.name, allowed);
      const offered = allowed.length === 0 ? 'no options' : allowed.map((f) => `\`--${f}\``).join(', ');
      return fail(
        `\`${verb}\` has no \`--${shown(token.name)}\`${guess ? `; did you mean \`--${guess}\`?` : '.'} It takes ${offered}.`,
        null,
        usageOf(verb),
      );
    }
    if (out.flags[name] !== undefined)
      return fail(`\`--${name}\` is given twice; give it once.`, null, usageOf(verb));
    if (SWITCHES.includes(name)) {
      out.flags[name] = 'true';
      continue;
    }
    if (token.value !== undefined) {
      out.flags[name] = token.value;
      continue;
    }
    let last = i + 1;
    if (name === 'reason') while (last < tokens.length && tokens[last]?.kind === 'word') last++;
    else if (tokens[last]?.kind === 'word') last++;
    const words = tokens.slice(i + 1, last) as WordToken[];
    const first = words[0];
    const final = words[words.length - 1];
    if (first === undefined || final === undefined) {
      return fail(`\`--${name}\` needs a value.`, null, usageOf(verb));
    }
    out.flags[name] = words.length === 1 ? first.text : text.slice(first.start, final.end);
    i = last - 1;
  }
  return out;
}

function jobIdOf(verb: BulkVerb, words: readonly WordToken[]): string | CommandError {
  const first = words[0];
  if (first === undefined)
    return fail(`\`${verb}\` needs a job id (\`bj_…\`; \`jobs\` lists them).`, null, usageOf(verb));
  if (words.length > 1)
    return fail(
      `\`${verb}\` takes one job id; remove \`${shown(words[1]?.text ?? '')}\`.`,
      null,
      usageOf(verb),
    );
  if (!JOB_ID.test(first.text)) {
    return fail(
      `\`${shown(first.text)}\` is not a bulk job id: they look like \`bj_\` and 20 letters or digits (\`jobs\` lists them).`,
      `${SLASH_COMMAND} jobs`,
      usageOf(verb),
    );
  }
  return first.text;
}

function reasonOf(verb: BulkVerb, c: Collected): string | CommandError {
  const reason = c.flags.reason?.trim();
  if (!reason) {
    return fail(
      `\`${verb}\` needs \`--reason\`: it goes into the audit log and the approval card.`,
      null,
      usageOf(verb),
    );
  }
  return reason;
}

/** A bulk verb's command, an error, or null when `head` is not a bulk verb. */
export function parseBulkCommand(
  head: string,
  tokens: readonly Token[],
  text: string,
): BulkCommand | CommandError | null {
  const verb = BULK_VERBS.find((v) => v === head);
  if (verb === undefined) return null;
  const c = collect(verb, tokens, text);
  if ('kind' in c) return c;
  switch (verb) {
    case 'jobs':
      if (c.words.length > 0)
        return fail('`jobs` takes nothing after it.', `${SLASH_COMMAND} jobs`, usageOf(verb));
      return { kind: 'jobs' };
    case 'job': {
      const jobId = jobIdOf(verb, c.words);
      return typeof jobId === 'string' ? { kind: 'job', jobId } : jobId;
    }
    case 'resume': {
      const jobId = jobIdOf(verb, c.words);
      if (typeof jobId !== 'string') return jobId;
      const reason = reasonOf(verb, c);
      return typeof reason === 'string' ? { kind: 'resume', jobId, reason } : reason;
    }
    case 'bulk-restore': {
      const usage = usageOf(verb);
      if (c.words.length > 0) {
        return fail(
          `\`bulk-restore\` takes only flags; \`${shown(c.words[0]?.text ?? '')}\` is not one (the selection is a window: \`--since 1h\`).`,
          null,
          usage,
        );
      }
      const from = c.flags.from?.trim().toLowerCase();
      if (from !== 'postgres') {
        return fail(
          from === undefined
            ? '`bulk-restore` needs `--from postgres`: Postgres is the only source of a bulk restore.'
            : `\`--from ${shown(from)}\`: a bulk restore reads only from postgres.`,
          null,
          usage,
        );
      }
      if (c.flags.since === undefined) {
        return fail(
          '`bulk-restore` needs `--since` (a duration like `1h` or a timestamp): the window on updated_at.',
          null,
          usage,
        );
      }
      let maxRate: number | null = null;
      if (c.flags['max-rate'] !== undefined) {
        if (!MAX_RATE.test(c.flags['max-rate'])) {
          return fail(
            `\`--max-rate\` must be a whole number of conversations per second, 1 or more (got \`${shown(c.flags['max-rate'])}\`).`,
            null,
            usage,
          );
        }
        maxRate = Number(c.flags['max-rate']);
      }
      const reason = reasonOf(verb, c);
      if (typeof reason !== 'string') return reason;
      return {
        kind: 'bulk-restore',
        selection: {
          since: c.flags.since,
          until: c.flags.until,
          status: c.flags.status,
          match: c.flags.match,
        },
        overwrite: c.flags.overwrite !== undefined,
        maxRate,
        reason,
      };
    }
  }
}
