import { createSubjects, directRoomId, type EventContext, type RoomEvent } from '@chat/contracts';
import { decide, type RoomCommand } from './room.decide';
import { RoomStore } from './room.store';

const u = (n: number, username: string) => ({ userId: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`, username });
const [ann, ben, cy] = [u(1, 'ann'), u(2, 'ben'), u(3, 'cy')];
const ctx: EventContext = {
  now: () => new Date('2026-01-01T00:00:00.000Z'),
  newId: () => 'id',
  actor: { kind: 'system', id: 't' },
  correlationId: 'c',
};
const create = (roomId: string, name: string, visibility: 'public' | 'private' = 'public'): RoomCommand => ({
  type: 'CreateRoom',
  roomId,
  name,
  topic: '',
  visibility,
  postPolicy: 'members',
  memberLimit: 10,
  slowModeSeconds: 0,
  owner: ann,
});

/** A store fed the events of `commands` (decided on its own state), as the follower would. */
function storeAfter(commands: RoomCommand[], twice = false) {
  // Only apply() and the queries are used: nothing here talks to NATS.
  const store = new RoomStore({} as never, createSubjects('t'));
  const log: Array<[string, RoomEvent, number]> = [];
  let position = 0;
  for (const c of commands)
    for (const e of decide(store.get(c.roomId), c, ctx)) {
      log.push([c.roomId, e, ++position]);
      store.apply(c.roomId, e, position);
    }
  if (twice) for (const [roomId, e, p] of log) store.apply(roomId, e, p);
  return { store, log };
}

describe('room store - indexes and replay', () => {
  const commands: RoomCommand[] = [
    create('zeta', 'Zeta Ｃlub'),
    create('alpha', 'alpha club'),
    create('hidden', 'Hidden club', 'private'),
    { type: 'JoinRoom', roomId: 'alpha', user: ben },
    { type: 'Invite', roomId: 'hidden', actor: ann, invitee: ben },
    { type: 'Invite', roomId: 'zeta', actor: ann, invitee: cy },
    { type: 'Block', roomId: directRoomId(ben.userId, cy.userId), actor: cy, peer: ben },
  ];

  it('members, invitations and the directory answer from the events', () => {
    const { store } = storeAfter(commands);
    expect(store.roomsOf(ann.userId).sort()).toEqual(['alpha', 'hidden', 'zeta']);
    expect(store.roomsOf(ben.userId).sort()).toEqual(['alpha', directRoomId(ben.userId, cy.userId)].sort());
    expect(store.invitedTo(ben.userId).map((r) => r.roomId)).toEqual(['hidden']);
    expect(store.searchDirectory('').map((r) => r.roomId)).toEqual(['alpha', 'zeta']);
    expect(store.searchDirectory('CLUB').map((r) => r.roomId)).toEqual(['alpha', 'zeta']);
    expect(store.searchDirectory('TA ｃ').map((r) => r.roomId)).toEqual(['zeta']);
  });

  it('leaving, accepting, banning and deleting update the indexes', () => {
    const { store } = storeAfter([
      ...commands,
      { type: 'AcceptInvitation', roomId: 'hidden', user: ben },
      { type: 'Ban', roomId: 'zeta', actor: ann, target: cy, reason: '' },
      { type: 'LeaveRoom', roomId: 'alpha', user: ben },
      { type: 'UpdateSettings', roomId: 'alpha', actor: ann, changes: { visibility: 'private' } },
      { type: 'DeleteRoom', roomId: 'hidden', actor: ann },
    ]);
    expect(store.roomsOf(ben.userId)).toEqual([directRoomId(ben.userId, cy.userId)]);
    expect(store.invitedTo(ben.userId)).toEqual([]);
    expect(store.invitedTo(cy.userId)).toEqual([]);
    expect(store.roomsOf(ann.userId).sort()).toEqual(['alpha', 'zeta']);
    expect(store.searchDirectory('').map((r) => r.roomId)).toEqual(['zeta']);
    expect(store.get('hidden')?.deleted).toBe(true);
  });

  it('every event delivered twice (follower and own write) gives the same state as once', () => {
    const once = storeAfter(commands).store;
    const twice = storeAfter(commands, true).store;
    expect(twice.all()).toEqual(once.all());
    for (const user of [ann, ben, cy]) expect(twice.roomsOf(user.userId)).toEqual(once.roomsOf(user.userId));
  });

  it('an event this version cannot read moves the version only', () => {
    const { store, log } = storeAfter(commands.slice(0, 1));
    const before = { ...store.get('zeta')! };
    store.apply('zeta', null, log.length + 5);
    expect(store.versionOf('zeta')).toBe(log.length + 5);
    expect(store.get('zeta')).toEqual({ ...before, version: log.length + 5 });
  });
});

describe('room store - waiting for every room event stored so far', () => {
  const s = createSubjects('t');
  const event = (roomId: string) => decide(null, create(roomId, roomId), ctx)[0];
  /** A store whose stream's last room event is at `last`; `deliver` plays the follower. */
  function storeWithStreamAt(last: number) {
    const js = { lastOnSubject: async () => ({ seq: last }) };
    const store = new RoomStore(js as never, s);
    const deliver = (roomId: string, seq: number) =>
      (store as unknown as { onDelivered(m: object): void }).onDelivered({ subject: s.chat.roomMeta(roomId), seq, data: event(roomId) });
    return { store, deliver };
  }

  it('resolves once the follower has passed the last stored position, not on the handler own writes', async () => {
    const { store, deliver } = storeWithStreamAt(3);
    // The command handler's own write at 3 moves the room, not the follower's watermark.
    store.apply('c', event('c'), 3);
    let done = false;
    const waiting = store.waitForAllRooms(1000).then((r) => ((done = true), r));
    deliver('a', 1);
    await Promise.resolve();
    expect(done).toBe(false);
    deliver('b', 2);
    deliver('c', 3);
    expect(await waiting).toBe(true);
  });

  it('gives up (false) when the follower does not get there in time', async () => {
    const { store } = storeWithStreamAt(5);
    expect(await store.waitForAllRooms(20)).toBe(false);
  });
});
