import { Limits } from '@chat/contracts';
import type { StoredMessage } from './message.sql-row';
import { aroundPage, aroundSplit, pageRequest, pageSize, toPage, toView } from './page';

const ann = '11111111-1111-4111-8111-111111111111';
const row = (position: number, over: Partial<StoredMessage> = {}): StoredMessage => ({
  messageId: `00000000-0000-4000-8000-${String(position).padStart(12, '0')}`,
  roomId: 'general',
  position,
  senderId: ann,
  senderName: 'ann',
  clientMsgId: `c${position}`,
  body: `m${position}`,
  createdAt: new Date(Date.UTC(2030, 0, 1, 0, 0, position)),
  replyTo: null,
  mentions: [],
  editedAt: null,
  deleted: null,
  ...over,
});
const positions = (p: { messages: Array<{ position: number }> }) => p.messages.map((m) => m.position);

describe('history page - toPage', () => {
  it('uses the default size when no limit is given', () => {
    expect(pageSize()).toBe(Limits.historyPageDefault);
    expect(pageSize(7)).toBe(7);
  });

  it('returns limit rows and the oldest position as cursor when an extra row was fetched', () => {
    const page = toPage('general', [row(9), row(8), row(7), row(6)], 3);
    expect(positions(page)).toEqual([9, 8, 7]);
    expect(page.nextBefore).toBe(7);
    expect(page.nextAfter).toBeNull();
    expect(toPage('general', [row(9), row(8)], 3, true).nextAfter).toBe(9);
  });

  it('has no cursor on the last page', () => {
    expect(toPage('general', [row(2), row(1)], 3).nextBefore).toBeNull();
    expect(toPage('general', [row(3), row(2), row(1)], 3).nextBefore).toBeNull();
    expect(toPage('general', [], 3)).toEqual({ roomId: 'general', messages: [], nextBefore: null, nextAfter: null, anchor: null });
  });

  it('maps rows to message views with ISO time and numeric position', () => {
    expect(toPage('general', [row(5)], 1).messages[0]).toEqual({
      messageId: '00000000-0000-4000-8000-000000000005',
      roomId: 'general',
      senderId: ann,
      senderName: 'ann',
      clientMsgId: 'c5',
      body: 'm5',
      replyTo: null,
      mentions: [],
      html: '<p>m5</p>',
      time: '2030-01-01T00:00:05.000Z',
      position: 5,
      editedAt: null,
      deleted: null,
      reactions: [],
    });
  });
});

describe('history page - toView', () => {
  it('renders the body with its mentions as HTML (docs/protocol.md, Formatting)', () => {
    const v = toView(row(4, { body: '**hi** @ann :wave: <b>x</b>', mentions: [{ userId: ann, username: 'ann' }] }));
    expect(v.html).toBe(`<p><strong>hi</strong> <span class="mention" data-user-id="${ann}">@ann</span> 👋 &lt;b&gt;x&lt;/b&gt;</p>`);
    expect(v.body).toBe('**hi** @ann :wave: <b>x</b>');
  });

  const reply = { messageId: row(1).messageId, position: 1, senderId: ann, senderName: 'ann-then', excerpt: 'old text' };

  it('shows a reply with the quoted message as it is now, and "" once it is gone', () => {
    const d = { reactions: new Map(), quotes: new Map([[reply.messageId, { senderName: 'ann-now', excerpt: 'new text' }]]) };
    expect(toView(row(2, { replyTo: reply }), d).replyTo).toEqual({ ...reply, senderName: 'ann-now', excerpt: 'new text' });
    expect(toView(row(2, { replyTo: reply })).replyTo).toEqual({ ...reply, excerpt: '' });
  });

  it('a tombstone keeps only its place, sender, time and who deleted it', () => {
    const time = new Date('2030-02-01T00:00:00Z');
    const v = toView(
      row(3, {
        body: 'still here by mistake',
        replyTo: reply,
        mentions: [{ userId: ann, username: 'ann' }],
        editedAt: time,
        deleted: { byUserId: ann, byUsername: 'ann', reason: 'author', time },
      }),
      { reactions: new Map([[row(3).messageId, [{ emoji: '👍', count: 1, userIds: [ann] }]]]), quotes: new Map() },
    );
    expect(v).toMatchObject({
      body: '',
      html: '',
      replyTo: null,
      mentions: [],
      reactions: [],
      editedAt: null,
      position: 3,
      senderName: 'ann',
    });
    expect(v.deleted).toEqual({ by: { userId: ann, username: 'ann' }, reason: 'author', time: time.toISOString() });
  });
});

describe('history page - cursors', () => {
  it('at most one of before, after, around, at', () => {
    expect(pageRequest({})).toEqual({ kind: 'newest' });
    expect(pageRequest({ before: 5 })).toEqual({ kind: 'before', position: 5 });
    expect(pageRequest({ after: 5 })).toEqual({ kind: 'after', position: 5 });
    expect(pageRequest({ around: 5 })).toEqual({ kind: 'around', position: 5 });
    expect(pageRequest({ at: '2030-01-01T00:00:00Z' })).toEqual({ kind: 'at', time: new Date('2030-01-01T00:00:00Z') });
    expect(pageRequest({ before: 5, after: 3 })).toMatch(/at most one of/);
    expect(pageRequest({ around: 5, at: '2030-01-01T00:00:00Z' })).toMatch(/around, at/);
  });

  it('around: about half each side, the rest to the other side when one runs out', () => {
    expect(aroundSplit(5, 10, 10)).toEqual({ older: 2, newer: 2 });
    expect(aroundSplit(4, 10, 10)).toEqual({ older: 1, newer: 2 });
    expect(aroundSplit(5, 1, 10)).toEqual({ older: 1, newer: 3 });
    expect(aroundSplit(5, 10, 0)).toEqual({ older: 4, newer: 0 });
    expect(aroundSplit(5, 0, 0)).toEqual({ older: 0, newer: 0 });
    expect(aroundSplit(1, 3, 3)).toEqual({ older: 0, newer: 0 });
  });

  it('around: newest first with the anchor in it, cursors only where more exist', () => {
    const older = [row(9), row(8), row(7), row(6), row(5)];
    const newer = [row(11), row(12)];
    const page = aroundPage('general', row(10), older, newer, 5);
    expect(positions(page)).toEqual([12, 11, 10, 9, 8]);
    expect(page).toMatchObject({ anchor: 10, nextBefore: 8, nextAfter: null });
    const both = aroundPage('general', row(10), older, [row(11), row(12), row(13), row(14), row(15)], 5);
    expect(positions(both)).toEqual([12, 11, 10, 9, 8]);
    expect(both).toMatchObject({ nextBefore: 8, nextAfter: 12 });
  });
});
