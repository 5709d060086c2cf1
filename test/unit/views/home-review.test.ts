import { describe, expect, it } from 'vitest';
import { checkHomeLimits } from '../../../sandbox/slack/block-kit.js';
import { blockText } from '../../../sandbox/slack/local-slack.js';
import { type HomeData, homeView } from '../../../src/views/home.js';
import { HOSTILE, LONG_ID, NOW, request } from './fixtures.js';

/** App Home and break-glass: the needs-review flag on every line, and what awaits the viewer's review. */

const flagged = request({
  id: 'rq_glass',
  conversationId: 'c-glass',
  requester: 'U0ALICE',
  state: 'succeeded',
  breakGlassReason: 'both approvers are on a plane',
  needsReview: true,
});
const job = {
  jobId: 'bj_glass',
  state: 'succeeded',
  total: 3,
  requester: 'U0CAROL',
  expiresAt: NOW.toISOString(),
  needsReview: true,
};

function home(over: Partial<HomeData> = {}): HomeData {
  return {
    viewer: 'U0BOB',
    now: NOW,
    open: [],
    moreOpen: false,
    bulk: [{ job, done: 3, failed: 0, updatedAt: NOW.toISOString(), link: null, mayApprove: false }],
    recent: [{ request: flagged, link: null, mayApprove: false }],
    limits: null,
    approverHint: 'an approver',
    ...over,
  };
}

const section = (d: HomeData, title: string) =>
  blockText(homeView(d).blocks).find((t) => t.startsWith(`*${title}*`)) ?? '';

describe('App Home: break-glass review', () => {
  it('flags a break-glass request and bulk job on their lines until reviewed', () => {
    expect(section(home(), 'Last recoveries')).toContain('⚠️ needs review (break-glass by <@U0ALICE>)');
    expect(section(home(), 'Bulk jobs')).toContain('⚠️ needs review (break-glass by <@U0CAROL>)');
    const open = request({ id: 'rq_open', state: 'executing', requester: 'U0DAVE', needsReview: true });
    expect(
      section(home({ open: [{ request: open, link: null, mayApprove: false }] }), 'Open requests'),
    ).toContain('⚠️ needs review (break-glass by <@U0DAVE>)');
    const reviewed = home({
      recent: [
        { request: { ...flagged, needsReview: false, reviewedBy: 'U0BOB' }, link: null, mayApprove: false },
      ],
      bulk: [
        {
          job: { ...job, needsReview: false },
          done: 3,
          failed: 0,
          updatedAt: NOW.toISOString(),
          link: null,
          mayApprove: false,
        },
      ],
    });
    expect(blockText(homeView(reviewed).blocks).join('\n')).not.toContain('needs review');
  });

  it('lists what awaits the viewer’s review in its own section, and none when nothing does', () => {
    const d = home({
      review: [
        { kind: 'request', request: flagged, link: 'https://zeus.slack.com/archives/C1/p1' },
        { kind: 'bulk', job, link: null },
      ],
    });
    const text = section(d, 'Needs review');
    expect(text).toMatch(/^\*Needs review\* \(2\)/);
    expect(text).toContain('the restore of `c-glass`');
    expect(text).toContain('bulk restore `bj_glass` of 3 conversations');
    expect(text).toContain('<https://zeus.slack.com/archives/C1/p1|thread>');
    expect(text).toContain('Mark reviewed');
    expect(section(home(), 'Needs review')).toBe('');
    expect(section(home({ review: [] }), 'Needs review')).toBe('');
  });

  it('stays within Home limits with hostile and huge items', () => {
    const huge = request({
      conversationId: LONG_ID,
      requester: HOSTILE,
      needsReview: true,
      breakGlassReason: HOSTILE.repeat(100),
    });
    const many = Array.from({ length: 20 }, () => ({ kind: 'request' as const, request: huge, link: null }));
    const view = homeView(
      home({
        open: Array.from({ length: 15 }, () => ({ request: huge, link: null, mayApprove: true })),
        recent: Array.from({ length: 8 }, () => ({ request: huge, link: null, mayApprove: false })),
        review: many,
        moreReview: true,
      }),
    );
    expect(checkHomeLimits(view)).toEqual([]);
    expect(JSON.stringify(view.blocks)).not.toContain('<!channel>');
  });
});
