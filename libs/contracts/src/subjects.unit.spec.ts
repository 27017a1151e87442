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
    expect(() => s.chat.roomAll('a.b')).toThrow();
  });

  it('userAll - the three subjects of one user, matched by one wildcard and told apart by their last token', () => {
    const s = createSubjects('chat');
    const id = '8c1b3a62-3f4e-4c55-9a51-1c1e3c2a0b7d';
    expect(s.live.user(id)).toBe(`chat.live.user.${id}.rooms`);
    expect(s.live.readMarkers(id)).toBe(`chat.live.user.${id}.reads`);
    expect(s.live.presenceMine(id)).toBe(`chat.live.user.${id}.presence`);
    expect(s.live.userAll(id)).toBe(`chat.live.user.${id}.*`);
    const kinds = [s.live.user(id), s.live.readMarkers(id), s.live.presenceMine(id)].map((x) => s.live.userSubjectKind(x));
    expect(kinds).toEqual(['rooms', 'reads', 'presence']);
    expect(() => s.live.userAll('a.b')).toThrow();
    expect(() => s.live.userAll('*')).toThrow();
  });
});
