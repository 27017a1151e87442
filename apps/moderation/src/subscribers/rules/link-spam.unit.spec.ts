import { randomUUID } from 'node:crypto';
import { posted } from '../testing/events';
import { LinkSpamSubscriber, linksIn } from './link-spam';

const t0 = Date.parse('2026-05-01T12:00:00Z');
const at = (s: number) => new Date(t0 + s * 1000);

describe('link-spam - finding links', () => {
  it('finds links with a scheme, with www. and bare domains, as host/path without scheme, query or trailing punctuation', () => {
    expect(linksIn('see https://Example.com/a/b?x=1, and www.foo.org/. also bar.io!')).toEqual(['example.com/a/b', 'foo.org', 'bar.io']);
  });

  it('sees through full-width letters and dots, spaced and bracketed dots', () => {
    expect(linksIn('ｅｘａｍｐｌｅ．ｃｏｍ')).toEqual(['example.com']);
    expect(linksIn('go to example . com now')).toEqual(['example.com']);
    expect(linksIn('example[.]com and spam(.)net')).toEqual(['example.com', 'spam.net']);
    expect(linksIn('example。com')).toEqual(['example.com']);
  });

  it('finds links inside Chinese text without spaces', () => {
    expect(linksIn('快来看看https://spam.cn/free免费领取')).toEqual(['spam.cn/free']);
    expect(linksIn('请访问example.com领取，谢谢')).toEqual(['example.com']);
    expect(linksIn('请访问 example.com 领取')).toEqual(['example.com']);
  });

  it('leaves ordinary text alone: abbreviations, file names, numbers', () => {
    expect(linksIn('e.g. i.e. report.pdf version 1.2.3, a.b, 你好。世界')).toEqual([]);
  });
});

describe('link-spam - verdicts', () => {
  const ann = randomUUID();
  const sub = () => new LinkSpamSubscriber({ links: 3, rooms: 3, windowMs: 60_000 });

  it('redacts, reports and strikes the message that reaches the link count; later ones of the burst are only redacted', () => {
    const s = sub();
    expect(s.handle(posted({ senderId: ann, body: 'a.com b.com' }, at(0)))).toEqual([]);
    const third = posted({ senderId: ann, body: 'https://c.com', roomId: 'lobby' }, at(10));
    const verdicts = s.handle(third);
    expect(verdicts.map((v) => v.kind)).toEqual(['redact', 'report', 'strike']);
    expect(verdicts[0]).toEqual({
      kind: 'redact',
      roomId: 'lobby',
      messageId: third.payload.messageId,
      userId: ann,
      username: 'ann',
      reason: 'link spam: 3 links within 60 s',
    });
    expect(verdicts[1]).toMatchObject({ kind: 'report', targetUserId: ann, messageId: third.payload.messageId, excerpt: 'https://c.com' });
    expect(s.handle(posted({ senderId: ann, body: 'd.com' }, at(20))).map((v) => v.kind)).toEqual(['redact']);
  });

  it('messages without links do not count; links out of the window are forgotten', () => {
    const s = sub();
    s.handle(posted({ senderId: ann, body: 'a.com b.com' }, at(0)));
    expect(s.handle(posted({ senderId: ann, body: 'hello there' }, at(30)))).toEqual([]);
    expect(s.handle(posted({ senderId: ann, body: 'c.com' }, at(61)))).toEqual([]);
  });

  it('counts each user apart', () => {
    const s = sub();
    s.handle(posted({ senderId: ann, body: 'a.com b.com' }, at(0)));
    expect(s.handle(posted({ senderId: randomUUID(), senderName: 'bob', body: 'c.com' }, at(1)))).toEqual([]);
  });

  it('redacts the same link posted to the third room, however it is dressed', () => {
    const s = new LinkSpamSubscriber({ links: 100, rooms: 3, windowMs: 60_000 });
    expect(s.handle(posted({ senderId: ann, body: 'buy at spam.shop', roomId: 'a' }, at(0)))).toEqual([]);
    expect(s.handle(posted({ senderId: ann, body: 'https://www.SPAM.shop/', roomId: 'b' }, at(1)))).toEqual([]);
    expect(s.handle(posted({ senderId: ann, body: 'again spam.shop', roomId: 'b' }, at(2)))).toEqual([]);
    const v = s.handle(posted({ senderId: ann, body: '便宜 spam．shop', roomId: 'c' }, at(3)));
    expect(v.map((x) => x.kind)).toEqual(['redact', 'report', 'strike']);
    expect(v[0]).toMatchObject({ reason: 'link spam: the same link in 3 rooms within 60 s' });
  });

  it('a redelivered message is not counted twice', () => {
    const s = sub();
    const first = posted({ senderId: ann, body: 'a.com b.com' }, at(0));
    s.handle(first);
    expect(s.handle(first)).toEqual([]);
  });

  it('reads MessagePosted and MessageEdited only (a deletion or a reaction counts nothing)', () => {
    const s = new LinkSpamSubscriber({ links: 2, rooms: 2, windowMs: 60_000 });
    const other = { ...posted({ senderId: ann, body: 'a.com b.com c.com' }, at(0)), type: 'MessageDeleted' } as never;
    expect(s.handle(other)).toEqual([]);
  });

  it("an edit replaces the message's links: editing again does not count them twice, editing them out uncounts them", () => {
    const s = new LinkSpamSubscriber({ links: 3, rooms: 3, windowMs: 60_000 });
    const first = posted({ senderId: ann, senderName: 'ann', body: 'a.com b.com' }, at(0));
    expect(s.handle(first)).toEqual([]);
    const edit = (body: string, sec: number) =>
      ({ ...first, type: 'MessageEdited', time: at(sec).toISOString(), payload: { ...first.payload, body } }) as never;
    expect(s.handle(edit('a.com b.com, fixed a typo', 1))).toEqual([]);
    expect(s.handle(edit('no links any more', 2))).toEqual([]);
    // Two links counted now, not four: the third link is the count's third.
    const more = s.handle(posted({ senderId: ann, senderName: 'ann', body: 'c.com d.com' }, at(3)));
    expect(more).toEqual([]);
    const third = s.handle(edit('e.com', 4));
    expect(third.map((v) => v.kind)).toEqual(['redact', 'report', 'strike']);
    expect(third[0]).toMatchObject({ messageId: first.payload.messageId, username: 'ann' });
  });
});
