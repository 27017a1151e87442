import type { MessageView } from '@chat/contracts';
import { applyReaction } from '../web/messages/reactions';
import { Timeline } from '../web/timeline';

// The web client's pure parts: the timeline (order, duplicates, newer copies from history
// pages, attached or reading in the past) and reactions kept from events.

const U = '00000000-0000-4000-8000-0000000000a1';
const V = '00000000-0000-4000-8000-0000000000a2';

function msg(position: number, patch: Partial<MessageView> = {}): MessageView {
  return {
    messageId: `00000000-0000-4000-8000-${String(position).padStart(12, '0')}`,
    roomId: 'r',
    senderId: U,
    senderName: 'Ann',
    clientMsgId: `c${position}`,
    body: `m${position}`,
    replyTo: null,
    mentions: [],
    html: `<p>m${position}</p>`,
    time: '2026-12-01T00:00:00.000Z',
    position,
    editedAt: null,
    deleted: null,
    reactions: [],
    ...patch,
  };
}

describe('web timeline - messages in position order, each once', () => {
  it('inserts in position order whatever the arrival order, and skips repeats', () => {
    const tl = new Timeline('r');
    for (const p of [5, 1, 9, 3]) expect(tl.insert(msg(p))).toBeGreaterThanOrEqual(0);
    expect(tl.insert(msg(3))).toBe(-1);
    expect(tl.messages.map((m) => m.position)).toEqual([1, 3, 5, 9]);
    expect([tl.oldestPosition, tl.newestPosition]).toEqual([1, 9]);
  });

  it('a page copy brings edits, reactions and deletion; an older page never undoes a later edit or a deletion', () => {
    const tl = new Timeline('r');
    tl.insert(msg(1));
    const edited = msg(1, {
      body: '**new**',
      html: '<p><strong>new</strong></p>',
      editedAt: '2026-12-01T00:02:00.000Z',
      reactions: [{ emoji: '👍', count: 1, userIds: [V] }],
    });
    expect(tl.refresh(edited)).toMatchObject({ body: '**new**', html: '<p><strong>new</strong></p>', reactions: [{ emoji: '👍' }] });
    // A page read before the edit (live) arrived: the edit (text and its html) stays, the rest is taken.
    const stale = msg(1, { body: 'old', html: '<p>old</p>', editedAt: '2026-12-01T00:01:00.000Z', reactions: [] });
    expect(tl.refresh(stale)).toMatchObject({
      body: '**new**',
      html: '<p><strong>new</strong></p>',
      editedAt: '2026-12-01T00:02:00.000Z',
      reactions: [],
    });
    const deletion = { by: { userId: U, username: 'Ann' }, reason: 'author' as const, time: '2026-12-01T00:03:00.000Z' };
    tl.refresh(msg(1, { body: '', deleted: deletion }));
    expect(tl.refresh(msg(1, { body: 'back?' }))).toMatchObject({ body: '', deleted: deletion });
    expect(tl.refresh(msg(2))).toBeUndefined();
  });

  it('is detached while a newer page exists; clearing attaches it again', () => {
    const tl = new Timeline('r');
    expect(tl.detached).toBe(false);
    tl.nextAfter = 40;
    tl.held.push(msg(50));
    expect(tl.detached).toBe(true);
    tl.clear();
    expect([tl.detached, tl.held.length, tl.nextBefore]).toEqual([false, 0, undefined]);
  });
});

describe('web reactions - kept from events, repeats are no change', () => {
  it('adds, repeats, removes and drops an emoji nobody has any more', () => {
    const m = { reactions: [] as MessageView['reactions'] };
    applyReaction(m, '👍', U, true);
    applyReaction(m, '👍', U, true);
    applyReaction(m, '👍', V, true);
    applyReaction(m, '🎉', V, true);
    expect(m.reactions).toEqual([
      { emoji: '👍', count: 2, userIds: [U, V] },
      { emoji: '🎉', count: 1, userIds: [V] },
    ]);
    applyReaction(m, '👍', U, false);
    applyReaction(m, '👍', U, false);
    applyReaction(m, '🎉', V, false);
    expect(m.reactions).toEqual([{ emoji: '👍', count: 1, userIds: [V] }]);
  });

  it('a removal by a user beyond the listed ones (the list holds at most 50) still counts', () => {
    const m = { reactions: [{ emoji: '👍', count: 60, userIds: [V] }] };
    applyReaction(m, '👍', U, false);
    expect(m.reactions[0]).toEqual({ emoji: '👍', count: 59, userIds: [V] });
    // With everyone listed, a removal of someone not there is a repeat.
    const full = { reactions: [{ emoji: '👍', count: 1, userIds: [V] }] };
    applyReaction(full, '👍', U, false);
    expect(full.reactions[0].count).toBe(1);
  });
});
