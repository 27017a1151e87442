import { RoomIndex } from './room-index';

describe('room index - membership and connections', () => {
  let idx: RoomIndex<string>;
  beforeEach(() => (idx = new RoomIndex<string>()));

  it('reports rooms that gain their first and lose their last connection', () => {
    expect(idx.addConnection('c1', 'alice', ['general', 'dev'])).toEqual({ opened: ['general', 'dev'], closed: [] });
    expect(idx.addConnection('c2', 'bob', ['general'])).toEqual({ opened: [], closed: [] });
    expect([...idx.connectionsIn('general')].sort()).toEqual(['c1', 'c2']);
    expect(idx.removeConnection('c1')).toEqual(['dev']);
    expect(idx.removeConnection('c2')).toEqual(['general']);
    expect(idx.activeRooms()).toEqual([]);
    expect(idx.connectionCount).toBe(0);
  });

  it('puts every connection of a user in the user rooms, and a second device follows joins', () => {
    idx.addConnection('phone', 'alice', ['general']);
    idx.addConnection('laptop', 'alice', ['general']);
    expect(idx.join('alice', 'dev')).toEqual({ changed: true, opened: true });
    expect([...idx.connectionsIn('dev')].sort()).toEqual(['laptop', 'phone']);
    expect(idx.join('alice', 'dev')).toEqual({ changed: false, opened: false });
    expect(idx.leave('alice', 'dev')).toEqual({ changed: true, closed: true });
    expect(idx.connectionsIn('dev').size).toBe(0);
    expect(idx.isMember('alice', 'dev')).toBe(false);
  });

  it('a new connection replaces the user rooms with the fresh list', () => {
    idx.addConnection('c1', 'alice', ['general', 'old']);
    expect(idx.addConnection('c2', 'alice', ['general', 'new'])).toEqual({ opened: ['new'], closed: ['old'] });
    expect(idx.roomsOf('alice').sort()).toEqual(['general', 'new']);
    expect([...idx.connectionsIn('new')].sort()).toEqual(['c1', 'c2']);
  });

  it('ignores joins and leaves of users without local connections', () => {
    expect(idx.join('stranger', 'general')).toEqual({ changed: false, opened: false });
    expect(idx.leave('stranger', 'general')).toEqual({ changed: false, closed: false });
    expect(idx.isMember('stranger', 'general')).toBe(false);
  });

  it('keeps a room open while another user is still in it', () => {
    idx.addConnection('a', 'alice', ['general']);
    idx.addConnection('b', 'bob', ['general']);
    expect(idx.leave('alice', 'general')).toEqual({ changed: true, closed: false });
    expect([...idx.connectionsIn('general')]).toEqual(['b']);
  });

  it('forgets the user membership with the last connection', () => {
    idx.addConnection('a', 'alice', ['general']);
    idx.removeConnection('a');
    expect(idx.isMember('alice', 'general')).toBe(false);
    expect(idx.removeConnection('a')).toEqual([]);
  });

  it('refuses to register a connection twice', () => {
    idx.addConnection('a', 'alice', []);
    expect(() => idx.addConnection('a', 'alice', [])).toThrow();
  });
});
