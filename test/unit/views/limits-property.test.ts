import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkMessageLimits, checkModalLimits } from '../../../sandbox/slack/block-kit.js';
import { parseCommand } from '../../../src/commands/grammar.js';
import { compileIdPattern, DEFAULT_ID_PATTERN } from '../../../src/recovery/ids.js';
import {
  approvalDecidedView,
  approvalRequestView,
  commandEchoView,
  commandErrorView,
  decisionReplyView,
  denyReasonModal,
  errorView,
  FALLBACK_TEXT_MAX,
  notIncidentChannelView,
  recoveryModal,
  restoreFailedView,
  type SlackMessage,
  threadRootView,
  usageError,
} from '../../../src/views/index.js';
import { HOSTILE, inspectSummary, NOW, request, VIEW_STATES } from './fixtures.js';

/** Text as people and attackers write it: mrkdwn, mentions, links, quotes, any code point. */
const text = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 400 }),
  fc
    .array(
      fc.constantFrom(
        HOSTILE,
        '*',
        '_',
        '~',
        '`',
        '```',
        '>',
        '&',
        '<',
        '>',
        '\n',
        ' ',
        'word',
        '😀',
        '\u202e',
      ),
      { maxLength: 300 },
    )
    .map((parts) => parts.join('')),
  fc.string({ minLength: 3000, maxLength: 12_000 }),
);
/** Ids come from our own store or grammar; they are short, but may hold anything. */
const id = fc.string({ unit: 'binary', minLength: 1, maxLength: 128 });
const state = fc.constantFrom(...VIEW_STATES);

function fits(msg: SlackMessage): void {
  expect(checkMessageLimits(msg)).toEqual([]);
  expect(msg.text.length).toBeGreaterThan(0);
  expect(msg.text.length).toBeLessThanOrEqual(FALLBACK_TEXT_MAX);
}

const runs = { numRuns: 200 };

describe('views stay within Slack limits for any input', () => {
  it('errors, usage errors and refusals', () => {
    fc.assert(
      fc.property(text, text, text, fc.boolean(), (message, hint, code, mentions) => {
        fits(errorView({ message, hint, code, mentions }));
        fits(usageError(message, hint, code));
        fits(notIncidentChannelView(message));
        fits(restoreFailedView({ message, hint, code }, { request: request({ reason: hint }) }));
      }),
      runs,
    );
  });

  it('the answer to any command text (parse errors and their suggestions)', () => {
    const opts = { idPattern: compileIdPattern(DEFAULT_ID_PATTERN) };
    fc.assert(
      fc.property(text, (typed) => {
        const parsed = parseCommand(typed, opts);
        if (parsed.kind === 'error') fits(commandErrorView(parsed));
      }),
      runs,
    );
  });

  it('thread root, command echo, approval and decisions', () => {
    fc.assert(
      fc.property(id, id, text, text, state, (conversationId, user, reason, denyReason, st) => {
        fits(threadRootView(conversationId));
        fits(commandEchoView(user, reason));
        const req = request({ conversationId, requester: user, reason, denyReason, state: st });
        fits(approvalRequestView(req, { inspect: inspectSummary(), approverHint: denyReason, now: NOW }));
        fits(
          approvalDecidedView(
            { ...req, decidedBy: user, decidedAt: NOW.toISOString(), result: { error: reason } },
            { approverHint: reason, now: NOW },
          ),
        );
        fits(decisionReplyView({ kind: 'denied', request: req, by: user, at: NOW, reason }, { now: NOW }));
      }),
      runs,
    );
  });

  it('modals, whatever their initial values', () => {
    fc.assert(
      fc.property(id, text, text, text, (requestId, conversationId, reason, operation) => {
        expect(checkModalLimits(denyReasonModal(`rq_${requestId}`.slice(0, 128), operation))).toEqual([]);
        const modal = recoveryModal({
          channelId: 'C0INC1234',
          initial: { conversationId, backupId: reason + operation, action: 'restore', source: 'backup' },
        });
        expect(checkModalLimits(modal)).toEqual([]);
      }),
      runs,
    );
  });
});
