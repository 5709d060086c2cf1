import { describe, expect, it } from 'vitest';
import {
  findAll,
  parseMrkdwn,
  renderBlock,
  renderConfirm,
  renderMessageBody,
  renderModal,
  renderMrkdwn,
  textOf,
  toDom,
  type VElement,
} from '../../sandbox/page/render.js';
import { denyReasonModal, operationReasonModal, recoveryModal } from '../../src/views/modal.js';

const ctx = {
  users: { U01ALICE: { name: 'alice' }, U02BOB: { name: 'bob' } },
  usergroups: { S0ONCALL: { handle: 'zeus-approvers' } },
  channels: { C_INC0001: { name: 'inc-4242' } },
};

const tags = (nodes: ReturnType<typeof renderMrkdwn>, tag: string) =>
  findAll(nodes, (e) => e.tag === tag).map((e) => textOf(e));

describe('mrkdwn', () => {
  it('bold, italic, strike, code and pre', () => {
    const nodes = renderMrkdwn(
      '*bold* and _italic_ and ~gone~ and `x < y` then\n```\nline 1\n*not bold*\n```',
    );
    expect(tags(nodes, 'strong')).toEqual(['bold']);
    expect(tags(nodes, 'em')).toEqual(['italic']);
    expect(tags(nodes, 'del')).toEqual(['gone']);
    expect(tags(nodes, 'code')).toEqual(['x < y']);
    expect(tags(nodes, 'pre')).toEqual(['line 1\n*not bold*']);
  });

  it('emphasis may wrap a code span, and nests', () => {
    const nodes = renderMrkdwn('🛟 *Zeus recovery: `c-lost`* and *bold _both_ here*');
    const strong = findAll(nodes, (e) => e.tag === 'strong');
    expect(strong.map(textOf)).toEqual(['Zeus recovery: c-lost', 'bold both here']);
    expect(findAll(strong[0] as VElement, (e) => e.tag === 'code').map(textOf)).toEqual(['c-lost']);
    expect(findAll(strong[1] as VElement, (e) => e.tag === 'em').map(textOf)).toEqual(['both']);
  });

  it('leaves markers inside words and arithmetic alone', () => {
    const nodes = renderMrkdwn('zeus_recover_demo and 2*3*4 and a_b');
    expect(findAll(nodes, (e) => e.tag === 'em' || e.tag === 'strong')).toEqual([]);
    expect(textOf(nodes)).toBe('zeus_recover_demo and 2*3*4 and a_b');
  });

  it('mentions: users by name, user groups by handle, channels, @here', () => {
    const nodes = renderMrkdwn(
      '<@U02BOB> <@U09NOBODY> <!subteam^S0ONCALL> <!subteam^S9X|@db-team> <#C_INC0001> <!here>',
      ctx,
    );
    expect(findAll(nodes, (e) => e.attrs.class?.includes('md-mention') ?? false).map(textOf)).toEqual([
      '@bob',
      '@U09NOBODY',
      '@zeus-approvers',
      '@db-team',
      '#inc-4242',
      '@here',
    ]);
    expect(textOf(renderMrkdwn('<@U01ALICE>', ctx))).toBe('@alice');
    expect(textOf(renderMrkdwn('<@U02BOB>', ctx))).toBe('@bob');
  });

  it('web links become links; anything else stays inert text', () => {
    const nodes = renderMrkdwn(
      '<https://status.example.com/?a=1&amp;b=2|status page> <javascript:alert(1)|click me> <https://x.test>',
    );
    const links = findAll(nodes, (e) => e.tag === 'a');
    expect(links.map((a) => a.attrs.href)).toEqual(['https://status.example.com/?a=1&b=2', 'https://x.test']);
    expect(links[0]?.attrs.rel).toBe('noopener noreferrer');
    expect(textOf(nodes)).toContain('click me (javascript:alert(1))');
  });

  it('entities are decoded once; escaped mentions show literally, not as mentions', () => {
    const nodes = renderMrkdwn('a &lt;b&gt; &amp;amp; &lt;!channel&gt; &lt;@U02BOB&gt;');
    expect(textOf(nodes)).toBe('a <b> &amp; <!channel> <@U02BOB>');
    expect(findAll(nodes, (e) => e.attrs.class?.includes('md-mention') ?? false)).toEqual([]);
  });

  it('line breaks stay in the text; quotes are blocks of their own', () => {
    const parsed = parseMrkdwn('*Reason*\n>INC-42 &lt;lost&gt;\n>second line\nafter');
    expect(parsed.map((n) => n.t)).toEqual(['b', 'quote', 'text']);
    const quote = findAll(renderMrkdwn('*Reason*\n>one\n>two'), (e) => e.tag === 'blockquote');
    expect(quote.map(textOf)).toEqual(['one\ntwo']);
    expect(textOf(renderMrkdwn('first\nsecond'))).toBe('first\nsecond');
  });

  it('known emoji shortcodes', () => {
    expect(textOf(renderMrkdwn(':white_check_mark: done :not_an_emoji:'))).toBe('✅ done :not_an_emoji:');
  });

  it('text that looks like HTML is only ever text', () => {
    const nodes = renderMrkdwn('&lt;img src=x onerror=alert(1)&gt; <script>alert(1)</script>');
    expect(findAll(nodes, (e) => e.tag === 'img' || e.tag === 'script')).toEqual([]);
    expect(textOf(nodes)).toContain('<img src=x onerror=alert(1)>');
  });
});

describe('Block Kit', () => {
  it('section with fields and an accessory button, context, divider, header', () => {
    const body = renderMessageBody(
      {
        text: 'fallback',
        blocks: [
          { type: 'header', block_id: 'h', text: { type: 'plain_text', text: 'Approval *needed*' } },
          {
            type: 'section',
            block_id: 's',
            text: { type: 'mrkdwn', text: '*Redis now:* missing' },
            fields: [
              { type: 'mrkdwn', text: '*Requested by*\n<@U01ALICE>' },
              { type: 'mrkdwn', text: '*Conversation*\n`c-lost`' },
            ],
            accessory: {
              type: 'button',
              action_id: 'more',
              text: { type: 'plain_text', text: 'More' },
              value: 'x',
            },
          },
          { type: 'divider' },
          {
            type: 'context',
            elements: [
              { type: 'mrkdwn', text: 'Request `rq_1`' },
              { type: 'plain_text', text: 'a *b*' },
            ],
          },
        ],
      },
      ctx,
    );
    const text = textOf(body);
    expect(text).not.toContain('fallback');
    // plain_text is never parsed as mrkdwn.
    expect(findAll(body, (e) => e.attrs.class === 'bk-header').map(textOf)).toEqual(['Approval *needed*']);
    expect(findAll(body, (e) => e.attrs.class === 'bk-field').map(textOf)).toEqual([
      'Requested by\n@alice',
      'Conversation\nc-lost',
    ]);
    expect(findAll(body, (e) => e.tag === 'hr')).toHaveLength(1);
    expect(findAll(body, (e) => e.attrs.class === 'bk-context-item').map(textOf)).toEqual([
      'Request rq_1',
      'a *b*',
    ]);
    const button = findAll(body, (e) => e.tag === 'button')[0];
    expect(button?.attrs).toMatchObject({
      'data-block-id': 's',
      'data-action-id': 'more',
      'data-kind': 'button',
    });
  });

  it('a message without blocks shows its text as mrkdwn', () => {
    const body = renderMessageBody({ text: 'On it — *now*', blocks: null });
    expect(findAll(body, (e) => e.tag === 'strong').map(textOf)).toEqual(['now']);
  });

  it('buttons keep their style and carry their confirm dialog', () => {
    const confirm = {
      title: { type: 'plain_text', text: 'Approve: restore c-lost?' },
      text: { type: 'plain_text', text: 'Redis is overwritten.' },
      confirm: { type: 'plain_text', text: 'Approve' },
      deny: { type: 'plain_text', text: 'Not yet' },
    };
    const block = renderBlock(
      {
        type: 'actions',
        block_id: 'request_actions',
        elements: [
          {
            type: 'button',
            action_id: 'request_approve',
            style: 'primary',
            text: { type: 'plain_text', text: 'Approve' },
            value: 'rq',
            confirm,
          },
          {
            type: 'button',
            action_id: 'request_deny',
            style: 'danger',
            text: { type: 'plain_text', text: 'Deny' },
            value: 'rq',
          },
          {
            type: 'button',
            action_id: 'request_cancel',
            text: { type: 'plain_text', text: 'Cancel request' },
            value: 'rq',
          },
        ],
      },
      {},
    );
    const buttons = findAll(block, (e) => e.tag === 'button');
    expect(buttons.map((b) => b.attrs.class)).toEqual([
      'bk-button bk-button--primary',
      'bk-button bk-button--danger',
      'bk-button',
    ]);
    expect(JSON.parse(buttons[0]?.attrs['data-confirm'] ?? 'null')).toEqual(confirm);
    expect(buttons[1]?.attrs['data-confirm']).toBeUndefined();

    const dialog = renderConfirm(confirm);
    expect(dialog.attrs.role).toBe('alertdialog');
    expect(textOf(dialog)).toBe('Approve: restore c-lost?Redis is overwritten.Not yetApprove');
  });

  it('unknown blocks say so instead of disappearing', () => {
    expect(textOf(renderBlock({ type: 'video', block_id: 'v' }, {}))).toContain('video block is not shown');
  });

  it('rich_text sections, lists and styles', () => {
    const block = renderBlock(
      {
        type: 'rich_text',
        elements: [
          {
            type: 'rich_text_section',
            elements: [
              { type: 'text', text: 'hi ', style: { bold: true } },
              { type: 'user', user_id: 'U02BOB' },
            ],
          },
          {
            type: 'rich_text_list',
            style: 'bullet',
            elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: 'one' }] }],
          },
        ],
      },
      ctx,
    );
    expect(findAll(block, (e) => e.tag === 'strong').map(textOf)).toEqual(['hi ']);
    expect(findAll(block, (e) => e.tag === 'li').map(textOf)).toEqual(['one']);
    expect(textOf(block)).toContain('@bob');
  });
});

describe('modals', () => {
  it('renders the reason form with a required Reason, never "(optional)"', () => {
    const view = operationReasonModal({ kind: 'restore', id: 'c-lost', source: 'postgres' }, '{}');
    const modal = renderModal(view as unknown as Record<string, unknown>, {}, ctx);
    expect(findAll(modal, (e) => e.tag === 'label').map(textOf)).toEqual(['Reason']);
    expect(textOf(modal)).toContain('Restore c-lost from postgres');
    expect(findAll(modal, (e) => e.tag === 'textarea')).toHaveLength(1);
  });

  it("renders the bot's recovery form: labels, optional marks, hints, inputs by block and action id", () => {
    const view = recoveryModal({ channelId: 'C_INC0001' }) as unknown as Record<string, unknown>;
    const modal = renderModal(view, {}, ctx);
    expect(modal.attrs).toMatchObject({ role: 'dialog', 'aria-label': 'Zeus recovery' });
    expect(findAll(modal, (e) => e.tag === 'label').map(textOf)).toEqual([
      'Conversation id (optional)',
      'Action',
      'Source (optional)',
      'Backup id (optional)',
      'Replay from step (optional)',
    ]);
    const inputs = findAll(modal, (e) => e.attrs['data-input'] !== undefined);
    expect(inputs.map((i) => [i.attrs['data-block-id'], i.attrs['data-input'], i.tag])).toEqual([
      ['conversation_id', 'plain_text_input', 'input'],
      ['action', 'static_select', 'select'],
      ['source', 'static_select', 'select'],
      ['backup_id', 'plain_text_input', 'input'],
      ['from_step', 'number_input', 'input'],
    ]);
    expect(inputs[0]?.attrs.maxlength).toBe('128');
    expect(inputs[4]?.attrs).toMatchObject({ type: 'number', min: '1', step: '1' });
    const actionOptions = findAll(inputs[1] as VElement, (e) => e.tag === 'option');
    expect(actionOptions[0]?.attrs.value).toBe('');
    expect(actionOptions.map((o) => o.attrs.value)).toContain('restore');
    expect(findAll(modal, (e) => e.attrs['data-modal'] !== undefined).map(textOf)).toEqual([
      '×',
      'Cancel',
      'Continue',
    ]);
    expect(textOf(modal)).toContain('As it appears in Zeus.');
  });

  it('shows field errors inline and a problem banner', () => {
    const view = denyReasonModal('rq_1', 'restore c-lost from postgres') as unknown as Record<
      string,
      unknown
    >;
    const modal = renderModal(view, {
      errors: { deny_reason: 'Say why.' },
      problem: 'We had some trouble connecting.',
    });
    const field = findAll(
      modal,
      (e) => e.attrs['data-block-id'] === 'deny_reason' && e.attrs.class?.startsWith('bk-input') === true,
    )[0];
    expect(field?.attrs.class).toBe('bk-input bk-input--error');
    expect(findAll(field as VElement, (e) => e.attrs.role === 'alert').map(textOf)).toEqual(['Say why.']);
    expect(findAll(field as VElement, (e) => e.tag === 'textarea')[0]?.attrs['aria-invalid']).toBe('true');
    expect(findAll(modal, (e) => e.attrs.class === 'modal-problem').map(textOf)).toEqual([
      'We had some trouble connecting.',
    ]);
    expect(textOf(modal)).toContain('Deny: restore c-lost from postgres');
  });

  it('keeps initial values and the chosen option', () => {
    const view = recoveryModal({
      channelId: 'C1',
      initial: { conversationId: 'c-lost', action: 'restore' },
    }) as unknown as Record<string, unknown>;
    const modal = renderModal(view);
    const id = findAll(modal, (e) => e.attrs['data-block-id'] === 'conversation_id' && e.tag === 'input')[0];
    expect(id?.attrs.value).toBe('c-lost');
    const selected = findAll(modal, (e) => e.tag === 'option' && e.attrs.selected !== undefined).map(
      (o) => o.attrs.value,
    );
    expect(selected).toEqual(['restore', '']);
    expect(findAll(modal, (e) => e.tag === 'textarea')).toEqual([]);
  });
});

describe('toDom', () => {
  interface FakeNode {
    tag: string;
    attrs: Record<string, string>;
    children: FakeNode[];
    text?: string;
  }
  const doc = {
    createElement: (tag: string) => {
      const node: FakeNode = { tag, attrs: {}, children: [] };
      return {
        node,
        setAttribute: (name: string, value: string) => {
          node.attrs[name] = value;
        },
        appendChild: (child: { node?: FakeNode } & FakeNode) => {
          node.children.push(child.node ?? child);
        },
      };
    },
    createTextNode: (text: string) => ({ tag: '#text', attrs: {}, children: [], text }),
  };

  it('builds text nodes only, and drops handlers, inline styles and unsafe links even if asked', () => {
    const built = toDom(
      {
        tag: 'iframe',
        attrs: { onclick: 'alert(1)', style: 'x', href: 'javascript:alert(1)', class: 'ok' },
        children: [
          '<b>not bold</b>',
          { tag: 'a', attrs: { href: 'https://example.com' }, children: ['link'] },
        ],
      },
      doc,
    ) as { node: FakeNode };
    expect(built.node.tag).toBe('span');
    expect(built.node.attrs).toEqual({ class: 'ok' });
    expect(built.node.children[0]).toMatchObject({ tag: '#text', text: '<b>not bold</b>' });
    expect(built.node.children[1]).toMatchObject({ tag: 'a', attrs: { href: 'https://example.com' } });
  });
});
