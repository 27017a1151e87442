/// <reference types="jest" />
import { initI18n } from '../i18n/i18n';
import { mutedOf, notificationText, shouldNotify, titleCount, titleText, withMuted, type PageNow, type Posted } from './decide';

describe('web notifications - when and what', () => {
  const mention: Posted = { roomId: 'r1', senderId: 'u2', senderName: 'bob', body: 'hi @me', mentionsMe: true, isConversation: false };
  const dm: Posted = { roomId: 'dm-1', senderId: 'u2', senderName: 'bob', body: 'psst', mentionsMe: false, isConversation: true };
  const plain: Posted = { ...mention, mentionsMe: false };
  const hidden: PageNow = { myUserId: 'u1', openRoomId: 'r1', visible: false, muted: false, permission: 'granted' };
  afterAll(() => initI18n('en'));

  it('notifies a mention or a private message by someone else while I am not looking, once allowed', () => {
    expect(shouldNotify(mention, hidden)).toBe(true);
    expect(shouldNotify(dm, hidden)).toBe(true);
    // another room is open, the tab shown
    expect(shouldNotify(mention, { ...hidden, visible: true, openRoomId: 'r2' })).toBe(true);
    // looking at it
    expect(shouldNotify(mention, { ...hidden, visible: true })).toBe(false);
    expect(shouldNotify(dm, { ...hidden, visible: true, openRoomId: 'dm-1' })).toBe(false);
    // an ordinary message, my own, a muted room, no permission
    expect(shouldNotify(plain, hidden)).toBe(false);
    expect(shouldNotify({ ...mention, senderId: 'u1' }, hidden)).toBe(false);
    expect(shouldNotify(mention, { ...hidden, muted: true })).toBe(false);
    expect(shouldNotify(dm, { ...hidden, muted: true })).toBe(false);
    for (const permission of ['default', 'denied', 'unsupported']) expect(shouldNotify(mention, { ...hidden, permission })).toBe(false);
    expect(shouldNotify(mention, { ...hidden, myUserId: undefined })).toBe(false);
  });

  it('says who wrote, and where a mention was, in the page language; long text is cut', () => {
    initI18n('en');
    expect(notificationText(mention, '# general')).toEqual({ title: 'bob mentioned you in # general', body: 'hi @me' });
    expect(notificationText(dm, undefined).title).toBe('bob');
    const long = notificationText({ ...dm, body: `${'字'.repeat(200)}\n\nend` }, undefined).body;
    expect([...long]).toHaveLength(140);
    expect(long.endsWith('…')).toBe(true);
    initI18n('zh-CN');
    expect(notificationText(mention, '# 闲聊').title).toBe('bob 在 # 闲聊 中提及了你');
  });

  it('counts unread mentions in rooms and unread private messages, none from muted ones', () => {
    const counts = [
      { roomId: 'r1', unread: 10, mentions: 2 },
      { roomId: 'r2', unread: 5, mentions: 0 },
      { roomId: 'dm-1', unread: 3, mentions: 0 },
      { roomId: 'dm-2', unread: 4, mentions: 1 },
      { roomId: 'r3', unread: 7, mentions: 7 },
    ];
    const isDm = (id: string) => id.startsWith('dm-');
    expect(titleCount(counts, isDm, () => false)).toBe(2 + 3 + 4 + 7);
    expect(titleCount(counts, isDm, (id) => id === 'r3' || id === 'dm-2')).toBe(2 + 3);
    expect(titleText('Chat', 0)).toBe('Chat');
    expect(titleText('聊天', 3)).toBe('(3) 聊天');
    expect(titleText('Chat', 5000)).toBe('(999+) Chat');
  });

  it('keeps muted rooms per user and survives a broken stored value', () => {
    let raw = withMuted(null, 'u1', 'r1', true);
    raw = withMuted(raw, 'u1', 'r2', true);
    raw = withMuted(raw, 'u2', 'r9', true);
    expect([...mutedOf(raw, 'u1')].sort()).toEqual(['r1', 'r2']);
    expect([...mutedOf(raw, 'u2')]).toEqual(['r9']);
    raw = withMuted(raw, 'u1', 'r1', false);
    expect([...mutedOf(raw, 'u1')]).toEqual(['r2']);
    expect(JSON.parse(withMuted(raw, 'u2', 'r9', false))).toEqual({ u1: ['r2'] });
    expect(mutedOf('not json', 'u1').size).toBe(0);
    expect(mutedOf('{"u1":"r1"}', 'u1').size).toBe(0);
    expect([...mutedOf(withMuted('[1,2]', 'u1', 'r1', true), 'u1')]).toEqual(['r1']);
  });
});
