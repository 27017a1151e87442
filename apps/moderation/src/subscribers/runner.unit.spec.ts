import { createSubjects } from '@chat/contracts';
import { loadConfig } from '@chat/platform';
import { ModerationConfig } from '../config';
import { moderationSubscribers } from './registry';
import { checkSubscribers, sourceOf } from './runner';
import type { AnySubscriber } from './subscriber';

const sub = (name: string): AnySubscriber => ({ name, source: 'messages', handle: () => [] });

describe('moderation subscriber runner', () => {
  it('reads each source from its stream and subjects', () => {
    const s = createSubjects('t');
    expect(sourceOf(s, 'messages')).toEqual({ stream: 'T_CHAT', filterSubject: 't.chat.room.*.msg' });
    expect(sourceOf(s, 'accounts')).toEqual({ stream: 'T_ACCOUNTS', filterSubject: 't.account.*' });
    expect(sourceOf(s, 'moderation')).toEqual({ stream: 'T_MODERATION', filterSubject: 't.mod.>' });
    expect(s.consumers.moderationSubscriber('link-spam')).toBe('mod-sub-link-spam');
  });

  it('refuses a name that cannot be a consumer name, and a name registered twice', () => {
    expect(() => checkSubscribers([sub('link-spam'), sub('new-account-flood')])).not.toThrow();
    expect(() => checkSubscribers([sub('Link Spam')])).toThrow('must match');
    expect(() => checkSubscribers([sub('a.b')])).toThrow('must match');
    expect(() => checkSubscribers([sub('dup'), sub('dup')])).toThrow('"dup" is registered twice');
  });

  it('the registered list passes, with the shipped subscribers', () => {
    const list = moderationSubscribers(loadConfig(ModerationConfig, {}));
    expect(() => checkSubscribers(list)).not.toThrow();
    expect(list.map((x) => [x.name, x.source])).toEqual([
      ['link-spam', 'messages'],
      ['new-account-flood', 'messages'],
    ]);
  });
});
