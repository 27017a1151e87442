/// <reference types="jest" />
import type { MessageView } from '@chat/contracts';
import { Timeline } from '../timeline';
import { initI18n } from '../i18n/i18n';
import { dayInText, dayLabel } from './days';
import { Drafts, type DraftStorage } from './drafts';
import { continuesGroup, GROUP_GAP_MS } from './grouping';
import { messageHash, parseMessageHash } from './permalink';
import { FREQUENT_DEFAULT, frequentEmoji, parseUsage, PICKER_CATEGORIES, recordUse } from './picker-data';
import { reactedText } from './reactions';
import { typingText } from './typing-text';

class MemoryStorage implements DraftStorage {
  readonly items = new Map<string, string>();
  getItem = (k: string) => this.items.get(k) ?? null;
  setItem = (k: string, v: string) => void this.items.set(k, v);
  removeItem = (k: string) => void this.items.delete(k);
}

describe('message groups', () => {
  const at = (min: number) => new Date(Date.UTC(2026, 11, 1, 10, 0) + min * 60_000).toISOString();
  const msg = (senderId: string, min: number, deleted = false) => ({ senderId, time: at(min), deleted });

  it('continues a group for the same sender within five minutes', () => {
    expect(continuesGroup(msg('a', 0), msg('a', 1))).toBe(true);
    expect(continuesGroup(msg('a', 0), msg('a', GROUP_GAP_MS / 60_000))).toBe(true);
  });
  it('starts a new group for another sender, a pause, a deletion, or nothing above', () => {
    expect(continuesGroup(undefined, msg('a', 0))).toBe(false);
    expect(continuesGroup(msg('a', 0), msg('b', 1))).toBe(false);
    expect(continuesGroup(msg('a', 0), msg('a', 5.5))).toBe(false);
    expect(continuesGroup(msg('a', 0, true), msg('a', 1))).toBe(false);
    expect(continuesGroup(msg('a', 0), msg('a', 1, true))).toBe(false);
    // Out of order times (clock skew between services) never join.
    expect(continuesGroup(msg('a', 2), msg('a', 1))).toBe(false);
  });
});

describe('drafts per room', () => {
  it('keeps one text per user and room, in memory and in storage', () => {
    const storage = new MemoryStorage();
    const drafts = new Drafts(storage);
    drafts.save('u1', 'room-a', 'half typed');
    expect(drafts.load('u1', 'room-a')).toBe('half typed');
    expect(drafts.load('u1', 'room-b')).toBe('');
    expect(drafts.load('u2', 'room-a')).toBe('');
    // A new page (a reload of the tab) reads them from storage.
    expect(new Drafts(storage).load('u1', 'room-a')).toBe('half typed');
  });
  it('forgets an emptied or cleared draft', () => {
    const storage = new MemoryStorage();
    const drafts = new Drafts(storage);
    drafts.save('u1', 'r', 'x');
    drafts.save('u1', 'r', '   ');
    expect(drafts.load('u1', 'r')).toBe('');
    expect(storage.items.size).toBe(0);
    drafts.save('u1', 'r', 'y');
    drafts.clear('u1', 'r');
    expect(new Drafts(storage).load('u1', 'r')).toBe('');
  });
  it('works in memory when storage throws or is missing', () => {
    const broken: DraftStorage = {
      getItem: () => {
        throw new Error('denied');
      },
      setItem: () => {
        throw new Error('full');
      },
      removeItem: () => undefined,
    };
    const drafts = new Drafts(broken);
    drafts.save('u', 'r', 'kept');
    expect(drafts.load('u', 'r')).toBe('kept');
    expect(new Drafts(broken).load('u', 'r')).toBe('');
    const none = new Drafts(null);
    none.save('u', 'r', 'x');
    expect(none.load('u', 'r')).toBe('x');
  });
});

describe('message links', () => {
  it('round-trips room, message and position', () => {
    const link = { roomId: 'general', messageId: '0b9d1c2e-1111-4222-8333-444455556666', position: 1234 };
    const hash = messageHash(link);
    expect(hash).toBe('#/room/general/message/0b9d1c2e-1111-4222-8333-444455556666?p=1234');
    expect(parseMessageHash(hash)).toEqual(link);
  });
  it('refuses anything else', () => {
    for (const bad of [
      '',
      '#/room/general',
      '#/room/a/message/b',
      '#/room/a/message/b?p=0',
      '#/room/a/message/b?p=x',
      '#/room/%E0/message/b?p=1',
    ])
      expect(parseMessageHash(bad)).toBeNull();
  });
});

describe('the emoji picker', () => {
  it('offers about forty distinct emoji in categories', () => {
    const all = PICKER_CATEGORIES.flatMap((c) => c.emoji);
    expect(all.length).toBeGreaterThanOrEqual(36);
    expect(new Set(all).size).toBe(all.length);
  });
  it('puts the most used first and fills the row with defaults', () => {
    expect(frequentEmoji({})).toEqual(FREQUENT_DEFAULT);
    let usage = recordUse({}, '🚀');
    usage = recordUse(usage, '🍕');
    usage = recordUse(usage, '🍕');
    const row = frequentEmoji(usage);
    expect(row.slice(0, 2)).toEqual(['🍕', '🚀']);
    expect(row).toHaveLength(8);
    expect(new Set(row).size).toBe(8);
  });
  it('reads stored counts defensively and keeps them bounded', () => {
    expect(parseUsage('not json')).toEqual({});
    expect(parseUsage('[1]')).toEqual({});
    expect(parseUsage('{"👍":2,"x":"y","🎉":-1}')).toEqual({ '👍': 2 });
    let usage = {};
    for (let i = 0; i < 50; i++) usage = recordUse(usage, `e${i}`, 10);
    expect(Object.keys(usage)).toHaveLength(10);
  });
});

describe('the timeline in Chinese', () => {
  beforeAll(() => initI18n('zh-CN'));
  afterAll(() => initI18n('en'));
  const now = new Date(2026, 11, 1, 12, 0);

  it('names today and yesterday with Intl', () => {
    expect(dayLabel('2026-12-01', now, 'zh-CN')).toBe('今天');
    expect(dayLabel('2026-11-30', now, 'zh-CN')).toBe('昨天');
    expect(dayInText('2026-12-01', now, 'en')).toBe('today');
    expect(dayLabel('2026-11-20', now, 'zh-CN')).toContain('11月20日');
  });
  it('says who is typing', () => {
    expect(typingText(['小明'])).toBe('小明 正在输入…');
    expect(typingText(['alice', '小明'])).toBe('alice 和 小明 正在输入…');
    expect(typingText(['a', 'b', 'c'])).toBe('多人正在输入…');
  });
  it('says who reacted, with the reader as 你', () => {
    const names = new Map([
      ['u', 'alice'],
      ['v', '小明'],
    ]);
    expect(reactedText({ emoji: '🎉', count: 3, userIds: ['u', 'v'] }, names, 'v')).toBe('你、alice和其他 1 人用 🎉 回应了');
  });
});

describe('a long timeline is kept to a window', () => {
  const view = (position: number) =>
    ({ messageId: `m${position}`, position, roomId: 'r', senderId: 'u', body: String(position) }) as unknown as MessageView;
  const filled = (from: number, to: number) => {
    const tl = new Timeline('r');
    for (let p = from; p <= to; p++) tl.insert(view(p));
    tl.nextBefore = from;
    return tl;
  };

  it('paging back drops the newest and detaches, with the cursor after the last kept', () => {
    const tl = filled(1, 700);
    expect(tl.detached).toBe(false);
    const dropped = tl.trim(600, 'older');
    expect(dropped.map((m) => m.position)).toEqual(Array.from({ length: 100 }, (_, i) => 601 + i));
    expect(tl.messages).toHaveLength(600);
    expect(tl.ids.has('m601')).toBe(false);
    expect(tl.detached).toBe(true);
    expect(tl.nextAfter).toBe(600);
    expect(tl.nextBefore).toBe(1);
  });

  it('paging forward drops the oldest, with the cursor before the first kept', () => {
    const tl = filled(1, 650);
    const dropped = tl.trim(600, 'newer');
    expect(dropped).toHaveLength(50);
    expect(tl.oldestPosition).toBe(51);
    expect(tl.nextBefore).toBe(51);
    expect(tl.detached).toBe(false);
    // A dropped message can come back with the page that reads it again.
    expect(tl.insert(view(50))).toBe(0);
  });

  it('keeps everything within the limit', () => {
    const tl = filled(1, 600);
    expect(tl.trim(600, 'older')).toEqual([]);
    expect(tl.detached).toBe(false);
  });
});
