// The web modules under test use the i18n core, which reads the browser's globals when there is one.
/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import { dayKey, dayLabel } from '../web/messages/days';
import { linkParts } from '../web/messages/links';
import { mentionRanges } from '../web/messages/mention-match';
import { reactedText } from '../web/messages/reactions';

// The web client's reading aids, pure: where the listed mentions are in a message's text (the
// server's rule), which parts are links, and how days are named in the timeline.

const U = '00000000-0000-4000-8000-0000000000a1';
const V = '00000000-0000-4000-8000-0000000000a2';
const W = '00000000-0000-4000-8000-0000000000a3';

const marked = (body: string, mentions: { userId: string; username: string }[]) =>
  mentionRanges(body, mentions).map((r) => [body.slice(r.start, r.end), r.mention.userId]);

describe('web mentions - the listed users, found by the server rule', () => {
  it('a name right against Chinese text is a mention (@小明你好), on either side', () => {
    expect(marked('@小明你好', [{ userId: U, username: '小明' }])).toEqual([['@小明', U]]);
    expect(marked('你好@alice今天', [{ userId: V, username: 'alice' }])).toEqual([['@alice', V]]);
    expect(marked('＠小明 看一下', [{ userId: U, username: '小明' }])).toEqual([['＠小明', U]]);
  });

  it('the longest listed name wins; a name followed by a Latin letter is another name', () => {
    const ms = [
      { userId: U, username: 'ann' },
      { userId: V, username: 'Mary Jane' },
      { userId: W, username: 'Mary' },
    ];
    expect(marked('@Mary Jane, @mary and @anna and (@ANN)', ms)).toEqual([
      ['@Mary Jane', V],
      ['@mary', W],
      ['@ANN', U],
    ]);
  });

  it('an address is not a mention; text outside the BMP keeps its offsets', () => {
    expect(marked('mail bob@alice.com', [{ userId: V, username: 'alice' }])).toEqual([]);
    expect(marked('🎉@bob_1 🎉', [{ userId: V, username: 'bob_1' }])).toEqual([['@bob_1', V]]);
    expect(marked('no mentions @bob', [])).toEqual([]);
  });
});

describe('web links - http(s) URLs in message text', () => {
  it('splits text around URLs and leaves sentence punctuation out', () => {
    expect(linkParts('see https://example.com/a?b=1. ok')).toEqual([
      { text: 'see ' },
      { text: 'https://example.com/a?b=1', url: 'https://example.com/a?b=1' },
      { text: '. ok' },
    ]);
    expect(linkParts('(https://en.wikipedia.org/wiki/Foo_(bar))')[1]).toEqual({
      text: 'https://en.wikipedia.org/wiki/Foo_(bar)',
      url: 'https://en.wikipedia.org/wiki/Foo_(bar)',
    });
    expect(linkParts('看这里：http://例子.com，好')[1]).toMatchObject({ text: 'http://例子.com' });
  });

  it('anything else stays text', () => {
    expect(linkParts('javascript:alert(1) ftp://x.y www.x.com')).toEqual([{ text: 'javascript:alert(1) ftp://x.y www.x.com' }]);
  });
});

describe('web days - separators name the local day', () => {
  const now = new Date(2026, 11, 1, 9, 30);
  it('today, yesterday, a date (with the year only when not this one)', () => {
    expect(dayLabel(dayKey(new Date(2026, 11, 1, 0, 1)), now)).toBe('Today');
    expect(dayLabel(dayKey(new Date(2026, 10, 30, 23, 59)), now)).toBe('Yesterday');
    expect(dayLabel('2026-11-20', now, 'en-US')).toBe('Friday, November 20');
    expect(dayLabel('2025-11-20', now, 'en-US')).toBe('Thursday, November 20, 2025');
  });

  it('a day key is the local calendar day', () => {
    expect(dayKey(new Date(2026, 0, 5, 23, 59))).toBe('2026-01-05');
    expect(dayKey('not a time')).toBe('');
  });
});

describe('web reactions - who reacted, by name', () => {
  const names = new Map([
    [U, 'alice'],
    [V, '小明'],
  ]);
  it('names the people this page knows, me as "You", and counts the rest', () => {
    expect(reactedText({ emoji: '🎉', count: 2, userIds: [U, V] }, names)).toBe('alice and 小明 reacted with 🎉');
    expect(reactedText({ emoji: '🎉', count: 3, userIds: [U, V, W] }, names, V)).toBe('You, alice and 1 other reacted with 🎉');
    expect(reactedText({ emoji: '👍', count: 60, userIds: [U] }, names)).toBe('alice and 59 others reacted with 👍');
    expect(reactedText({ emoji: '👍', count: 1, userIds: [W] }, names)).toBe('1 person reacted with 👍');
  });
});
