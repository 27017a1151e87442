import { createSubjects } from './subjects';

describe('subjects', () => {
  it('roomIdOf - reads the room of stored and live room subjects, in any namespace (even one called "room")', () => {
    for (const ns of ['chat', 'room', 'chat_test']) {
      const s = createSubjects(ns);
      expect(s.chat.roomIdOf(s.chat.roomMeta('general'))).toBe('general');
      expect(s.chat.roomIdOf(s.chat.roomMessages('dev-1'))).toBe('dev-1');
      expect(s.chat.roomIdOf(s.live.roomMessages('dev-1'))).toBe('dev-1');
      expect(s.chat.roomIdOf(`other.chat.room.general.meta`)).toBeNull();
      expect(s.chat.roomIdOf(s.accounts.events('8c1b3a62-3f4e-4c55-9a51-1c1e3c2a0b7d'))).toBeNull();
    }
  });

  it('roomAll - both subjects of one room, stored and live, as one wildcard (for reading back and following in stream order)', () => {
    const s = createSubjects('chat');
    expect(s.chat.roomAll('dev-1')).toBe('chat.chat.room.dev-1.*');
    expect(s.live.roomAll('dev-1')).toBe('chat.live.chat.room.dev-1.*');
    expect(s.live.user('8c1b3a62-3f4e-4c55-9a51-1c1e3c2a0b7d')).toBe('chat.live.user.8c1b3a62-3f4e-4c55-9a51-1c1e3c2a0b7d');
    expect(() => s.chat.roomAll('a.b')).toThrow();
  });
});
