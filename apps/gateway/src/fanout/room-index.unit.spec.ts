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
    expect([...idx.connectionsIn('general').keys()].sort()).toEqual(['c1', 'c2']);
    expect(idx.removeConnection('c1')).toEqual({ closed: ['dev'], userGone: true });
    expect(idx.removeConnection('c2')).toEqual({ closed: ['general'], userGone: true });
    expect(idx.activeRooms()).toEqual([]);
    expect(idx.connectionCount).toBe(0);
  });

  it('puts every connection of a user in the user rooms, and a second device follows joins', () => {
    connect('phone', 'alice', ['general']);
    expect(idx.addConnection('laptop', 'alice')).toEqual({ opened: [], newUser: false });
    expect([...idx.connectionsIn('general').keys()].sort()).toEqual(['laptop', 'phone']);
    idx.applyRoomList('laptop', ['general']);
    expect(idx.join('alice', 'dev', 0)).toEqual({ changed: true, opened: true });
    expect([...idx.connectionsIn('dev').keys()].sort()).toEqual(['laptop', 'phone']);
    expect(idx.join('alice', 'dev', 0)).toEqual({ changed: false, opened: false });
    expect(idx.leave('alice', 'dev', 0)).toEqual({ changed: true, closed: true });
    expect(idx.connectionsIn('dev').size).toBe(0);
    expect(idx.followingSince('alice', 'dev')).toBeUndefined();
  });

  it("a new connection's room list corrects rooms nothing changed since it was registered", () => {
    connect('c1', 'alice', ['general', 'old']);
    expect(connect('c2', 'alice', ['general', 'new'])).toEqual({ opened: ['new'], closed: ['old'] });
    expect(idx.roomsOf('alice').sort()).toEqual(['general', 'new']);
    expect([...idx.connectionsIn('new').keys()].sort()).toEqual(['c1', 'c2']);
  });

  it('a stale room list does not undo a join applied while it was being fetched', () => {
    connect('a', 'alice', ['general']);
    idx.addConnection('b', 'alice');
    // Connection a joins X while b's list is on its way; the list was made before the join.
    idx.join('alice', 'x', 0);
    expect(idx.applyRoomList('b', ['general'])).toEqual({ opened: [], closed: [] });
    expect(idx.followingSince('alice', 'x')).toBe(0);
    expect([...idx.connectionsIn('x').keys()].sort()).toEqual(['a', 'b']);
  });

  it('a stale room list does not bring back a room left while it was being fetched (no reading after leaving)', () => {
    connect('a', 'alice', ['general', 'secret']);
    idx.addConnection('b', 'alice');
    idx.leave('alice', 'secret', 0);
    expect(idx.applyRoomList('b', ['general', 'secret'])).toEqual({ opened: [], closed: [] });
    expect(idx.followingSince('alice', 'secret')).toBeUndefined();
    expect(idx.connectionsIn('secret').size).toBe(0);
  });

  it('a removal of a user who does not follow the room, seen on the room subject first, still reaches them from their own subject', () => {
    connect('c1', 'alice', ['general']);
    idx.leave('alice', 'x', 9); // a ban of alice (not a member) read on room x's subject, followed here for others
    expect(idx.takeUserEvent('alice', 'x', 9)).toBe(true);
  });

  it('a removal that arrived on the user subject before the room list is not undone by a stale list', () => {
    idx.addConnection('c1', 'alice');
    // Kicked from x while the list was being fetched from a rooms replica that still has her in x.
    expect(idx.takeUserEvent('alice', 'x', 7)).toBe(true);
    expect(idx.applyRoomList('c1', ['general', 'x'])).toEqual({ opened: ['general'], closed: [] });
    expect(idx.followingSince('alice', 'x')).toBeUndefined();
  });

  it('a first connection keeps a join that arrived live before its room list', () => {
    idx.addConnection('a', 'alice');
    idx.join('alice', 'fresh', 0);
    idx.applyRoomList('a', ['general']);
    expect(idx.roomsOf('alice').sort()).toEqual(['fresh', 'general']);
  });

  it('ignores joins and leaves of users without local connections', () => {
    expect(idx.join('stranger', 'general', 0)).toEqual({ changed: false, opened: false });
    expect(idx.leave('stranger', 'general', 0)).toEqual({ changed: false, closed: false });
    expect(idx.followingSince('stranger', 'general')).toBeUndefined();
  });

  it('keeps a room open while another user is still in it', () => {
    connect('a', 'alice', ['general']);
    connect('b', 'bob', ['general']);
    expect(idx.leave('alice', 'general', 0)).toEqual({ changed: true, closed: false });
    expect([...idx.connectionsIn('general').keys()]).toEqual(['b']);
  });

  it('forgets the user membership with the last connection, and a room list for a gone connection changes nothing', () => {
    connect('a', 'alice', ['general']);
    idx.removeConnection('a');
    expect(idx.followingSince('alice', 'general')).toBeUndefined();
    expect(idx.removeConnection('a')).toEqual({ closed: [], userGone: false });
    expect(idx.applyRoomList('a', ['general'])).toEqual({ opened: [], closed: [] });
    expect(idx.followingSince('alice', 'general')).toBeUndefined();
  });

  it('refuses to register a connection twice', () => {
    idx.addConnection('a', 'alice');
    expect(() => idx.addConnection('a', 'alice')).toThrow();
  });

  it('each connection follows a room from a position: a later join keeps the earlier position', () => {
    connect('a', 'alice', ['general']);
    connect('b', 'bob', []);
    expect(idx.join('bob', 'general', 40)).toEqual({ changed: true, opened: false });
    expect([...idx.connectionsIn('general')]).toEqual([
      ['a', 0],
      ['b', 40],
    ]);
    expect(idx.join('bob', 'general', 50)).toEqual({ changed: false, opened: false });
    expect(idx.followingSince('bob', 'general')).toBe(40);
    // A second device of bob follows from the same position.
    idx.addConnection('b2', 'bob');
    expect(idx.connectionsIn('general').get('b2')).toBe(40);
  });

  it('remembers per user what reached them of a room, only while the user is connected here', () => {
    connect('a', 'alice', ['x']);
    expect(idx.seen('alice', 'x')).toBe(0);
    idx.markSeen('alice', 'x', 7);
    idx.markSeen('alice', 'x', 5);
    expect(idx.seen('alice', 'x')).toBe(7);
    idx.leave('alice', 'x', 12);
    expect(idx.seen('alice', 'x')).toBe(12);
    idx.removeConnection('a');
    idx.addConnection('a2', 'alice');
    expect(idx.seen('alice', 'x')).toBe(0);
  });

  it('a deleted room: every local user stops following it', () => {
    connect('a', 'alice', ['x', 'y']);
    connect('b', 'bob', ['x']);
    idx.leaveEveryone('x', 30);
    expect(idx.connectionsIn('x').size).toBe(0);
    expect(idx.activeRooms()).toEqual(['y']);
    expect(idx.seen('bob', 'x')).toBe(30);
  });

  it('an event from the user subject is shown once, and only where the room subject does not deliver it', () => {
    connect('a', 'alice', []);
    // Not following: shown, once.
    expect(idx.takeUserEvent('alice', 'x', 10)).toBe(true);
    expect(idx.takeUserEvent('alice', 'x', 10)).toBe(false);
    // Older than what she has: not shown.
    expect(idx.takeUserEvent('alice', 'x', 9)).toBe(false);
    // Following from 15: events from there come from the room; an earlier one about her (her
    // own conversation opening, before the message she followed from) is still shown.
    idx.join('alice', 'x', 15);
    expect(idx.takeUserEvent('alice', 'x', 15)).toBe(false);
    expect(idx.takeUserEvent('alice', 'x', 20)).toBe(false);
    expect(idx.takeUserEvent('alice', 'x', 12)).toBe(true);
    // After leaving at 30, a late copy of anything up to 30 is not shown again.
    idx.leave('alice', 'x', 30);
    expect(idx.takeUserEvent('alice', 'x', 25)).toBe(false);
    expect(idx.takeUserEvent('alice', 'x', 31)).toBe(true);
    // Users without connections here get nothing.
    expect(idx.takeUserEvent('bob', 'x', 40)).toBe(false);
  });
});
