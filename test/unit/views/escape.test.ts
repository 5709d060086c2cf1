import { describe, expect, it } from 'vitest';
import { code, escapeExceptMentions, escapeMrkdwn, line, userRef } from '../../../src/views/escape.js';
import { mrkdwnToPlain, toPlainText } from '../../../src/views/index.js';

describe('escapeMrkdwn', () => {
  it('shows broadcasts, mentions and disguised links literally', () => {
    expect(escapeMrkdwn('<!channel> <@U1> <https://evil|click> & co')).toBe(
      '&lt;!channel&gt; &lt;@U1&gt; &lt;https://evil|click&gt; &amp; co',
    );
  });

  it('escapes & first, so existing entities are shown as typed', () => {
    expect(escapeMrkdwn('&lt;')).toBe('&amp;lt;');
    expect(mrkdwnToPlain(escapeMrkdwn('&lt;'))).toBe('&lt;');
  });

  it('leaves formatting characters alone (bold in a reason is harmless)', () => {
    expect(escapeMrkdwn('*bold* _it_ ~s~')).toBe('*bold* _it_ ~s~');
  });
});

describe('code', () => {
  it('cannot be closed early or spread over lines by user text', () => {
    expect(code('a`b\nc <!here>')).toBe('`aˋb c &lt;!here&gt;`');
    expect(code('')).toBe('` `');
  });
});

describe('line', () => {
  it('makes one escaped line of bounded length', () => {
    expect(line('a\n\n<b>', 100)).toBe('a &lt;b&gt;');
    const long = line('x'.repeat(10_000), 50);
    expect(long).toHaveLength(50);
    expect(long.endsWith('…')).toBe(true);
  });
});

describe('userRef', () => {
  it('mentions Slack users, names CLI users, and shows anything else literally', () => {
    expect(userRef('slack:U0ABC123')).toBe('<@U0ABC123>');
    expect(userRef('W0ABC123')).toBe('<@W0ABC123>');
    expect(userRef('cli:alice')).toBe('alice (CLI)');
    expect(userRef('cli:<!channel>')).toBe('&lt;!channel&gt; (CLI)');
    expect(userRef('system')).toBe('the bot');
    expect(userRef('<!here>')).toBe('&lt;!here&gt;');
    expect(userRef('slack:U1>|<!channel')).toBe('slack:U1&gt;|&lt;!channel');
  });
});

describe('escapeExceptMentions', () => {
  it('keeps approver mentions live and escapes everything else', () => {
    expect(
      escapeExceptMentions('<@U0APPROVE> or <!subteam^S0GROUP|@approvers> <!channel> <https://x|y> &'),
    ).toBe('<@U0APPROVE> or <!subteam^S0GROUP|@approvers> &lt;!channel&gt; &lt;https://x|y&gt; &amp;');
  });

  it('keeps what its builder escaped as it is, so the reader never sees an entity', () => {
    expect(escapeExceptMentions('<@U0APPROVE> (R&amp;D &lt;!here&gt;) & <!here> &copy;')).toBe(
      '<@U0APPROVE> (R&amp;D &lt;!here&gt;) &amp; &lt;!here&gt; &amp;copy;',
    );
  });
});

describe('mrkdwnToPlain', () => {
  it('reads as a person sees it', () => {
    expect(
      mrkdwnToPlain(
        '*Reason* from <@U0ABC> in <!subteam^S1|@sre>: <https://a.example|docs>, <!date^1|03:41 UTC>',
      ),
    ).toBe('Reason from @U0ABC in @sre: docs (https://a.example), 03:41 UTC');
    expect(mrkdwnToPlain('<!channel> vs &lt;!channel&gt;')).toBe('@channel vs <!channel>');
  });

  it('renders blocks and modals', () => {
    expect(toPlainText([{ type: 'divider' }, { type: 'unknown_kind' }])).toBe('---\n[unknown_kind block]');
    expect(toPlainText({ type: 'modal', title: { type: 'plain_text', text: 'T' }, blocks: [] })).toBe(
      '== T ==',
    );
  });
});
