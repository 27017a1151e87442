import { RoomIndex } from './room-index';

describe('room index - membership and connections', () => {
  let idx: RoomIndex<string>;
  beforeEach(() => (idx = new RoomIndex<string>()));
  /** Registration as the gateway does it: register, then apply the fetched room list. */
  const connect = (conn: string, user: string, rooms: string[]) => {
    const first = idx.addConnection(conn, user);
    const merged = idx.applyRoomList(conn, rooms);
    return { opened: [...first.opened, ...merged.opened], closed: merged.closed };
  };

  it('reports rooms that gain their first and lose their last connection', () => {
    expect(connect('c1', 'alice', ['general', 'dev'])).toEqual({ opened: ['general', 'dev'], closed: [] });
    expect(connect('c2', 'bob', ['general'])).toEqual({ opened: [], closed: [] });
    expect([...idx.connectionsIn('general')].sort()).toEqual(['c1', 'c2']);
    expect(idx.removeConnection('c1')).toEqual(['dev']);
    expect(idx.removeConnection('c2')).toEqual(['general']);
    expect(idx.activeRooms()).toEqual([]);
    expect(idx.connectionCount).toBe(0);
  });

  it('puts every connection of a user in the user rooms, and a second device follows joins', () => {
    connect('phone', 'alice', ['general']);
    expect(idx.addConnection('laptop', 'alice')).toEqual({ opened: [] });
    expect([...idx.connectionsIn('general')].sort()).toEqual(['laptop', 'phone']);
    idx.applyRoomList('laptop', ['general']);
    expect(idx.join('alice', 'dev')).toEqual({ changed: true, opened: true });
    expect([...idx.connectionsIn('dev')].sort()).toEqual(['laptop', 'phone']);
    expect(idx.join('alice', 'dev')).toEqual({ changed: false, opened: false });
    expect(idx.leave('alice', 'dev')).toEqual({ changed: true, closed: true });
    expect(idx.connectionsIn('dev').size).toBe(0);
    expect(idx.isMember('alice', 'dev')).toBe(false);
  });

  it("a new connection's room list corrects rooms nothing changed since it was registered", () => {
    connect('c1', 'alice', ['general', 'old']);
    expect(connect('c2', 'alice', ['general', 'new'])).toEqual({ opened: ['new'], closed: ['old'] });
    expect(idx.roomsOf('alice').sort()).toEqual(['general', 'new']);
    expect([...idx.connectionsIn('new')].sort()).toEqual(['c1', 'c2']);
  });

  it('a stale room list does not undo a join applied while it was being fetched', () => {
    connect('a', 'alice', ['general']);
    idx.addConnection('b', 'alice');
    // Connection a joins X while b's list is on its way; the list was made before the join.
    idx.join('alice', 'x');
    expect(idx.applyRoomList('b', ['general'])).toEqual({ opened: [], closed: [] });
    expect(idx.isMember('alice', 'x')).toBe(true);
    expect([...idx.connectionsIn('x')].sort()).toEqual(['a', 'b']);
  });

  it('a stale room list does not bring back a room left while it was being fetched (no reading after leaving)', () => {
    connect('a', 'alice', ['general', 'secret']);
    idx.addConnection('b', 'alice');
    idx.leave('alice', 'secret');
    expect(idx.applyRoomList('b', ['general', 'secret'])).toEqual({ opened: [], closed: [] });
    expect(idx.isMember('alice', 'secret')).toBe(false);
    expect(idx.connectionsIn('secret').size).toBe(0);
  });

  it('a first connection keeps a join that arrived live before its room list', () => {
    idx.addConnection('a', 'alice');
    idx.join('alice', 'fresh');
    idx.applyRoomList('a', ['general']);
    expect(idx.roomsOf('alice').sort()).toEqual(['fresh', 'general']);
  });

  it('ignores joins and leaves of users without local connections', () => {
    expect(idx.join('stranger', 'general')).toEqual({ changed: false, opened: false });
    expect(idx.leave('stranger', 'general')).toEqual({ changed: false, closed: false });
    expect(idx.isMember('stranger', 'general')).toBe(false);
  });

  it('keeps a room open while another user is still in it', () => {
    connect('a', 'alice', ['general']);
    connect('b', 'bob', ['general']);
    expect(idx.leave('alice', 'general')).toEqual({ changed: true, closed: false });
    expect([...idx.connectionsIn('general')]).toEqual(['b']);
  });

  it('forgets the user membership with the last connection, and a room list for a gone connection changes nothing', () => {
    connect('a', 'alice', ['general']);
    idx.removeConnection('a');
    expect(idx.isMember('alice', 'general')).toBe(false);
    expect(idx.removeConnection('a')).toEqual([]);
    expect(idx.applyRoomList('a', ['general'])).toEqual({ opened: [], closed: [] });
    expect(idx.isMember('alice', 'general')).toBe(false);
  });

  it('refuses to register a connection twice', () => {
    idx.addConnection('a', 'alice');
    expect(() => idx.addConnection('a', 'alice')).toThrow();
  });
});
