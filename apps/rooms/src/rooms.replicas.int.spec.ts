import { randomUUID } from 'node:crypto';
import { ChatError, directRoomId, type UserView } from '@chat/contracts';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, eventually, randomName } from '@chat/testing';
import type { Room } from './room/room';
import { RoomCommandHandler } from './room/room.commands';
import type { RoomCommand } from './room/room.decide';
import { RoomStore } from './room/room.store';
import { startRooms } from './testing/rooms-fixture';

const user = (name: string): UserView => ({ userId: randomUUID(), username: name });

/** A deterministic random sequence, so a failing mix can be replayed. */
function prng(seed: number) {
  return () => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    return seed / 0x7fffffff;
  };
}

describe('rooms - replicas racing on one room over real NATS', () => {
  const namespace = randomName();
  let a: RunningService;
  let b: RunningService;
  const extra: RunningService[] = [];
  const start = () => startRooms(namespace);

  beforeAll(async () => {
    [a, b] = await Promise.all([start(), start()]);
  });

  afterAll(async () => {
    await Promise.all([a?.close(), b?.close(), ...extra.map((s) => s.close())]);
    await deleteNamespace(namespace);
  });

  /** Runs a command on one replica's own handler (not through the load-balanced RPC): the code of the outcome. */
  async function on(replica: RunningService, cmd: RoomCommand, by: UserView): Promise<string> {
    try {
      await replica.app.get(RoomCommandHandler).execute(cmd, { kind: 'user', id: by.userId }, randomUUID());
      return 'OK';
    } catch (err) {
      if (err instanceof ChatError) return err.code;
      throw err;
    }
  }

  /** A store of nothing but the stream, replayed from its beginning. */
  async function replayed(from: RunningService): Promise<RoomStore> {
    const store = new RoomStore(from.deps.js, from.deps.subjects);
    await store.start();
    await store.onApplicationShutdown();
    return store;
  }

  /** Waits until the replica has applied everything stored on the room's subject. */
  async function settled(replica: RunningService, roomId: string) {
    const store = replica.app.get(RoomStore);
    const latest = await store.latestVersion(roomId);
    await eventually(() => store.versionOf(roomId) >= latest);
  }

  const create = (roomId: string, owner: UserView, memberLimit: number): RoomCommand => ({
    type: 'CreateRoom',
    roomId,
    name: roomId,
    topic: '',
    visibility: 'public',
    postPolicy: 'members',
    memberLimit,
    slowModeSeconds: 0,
    owner,
  });

  function expectRulesHold(room: Room, bannedEver: Set<string>) {
    const owners = [...room.members.values()].filter((m) => m.role === 'owner');
    if (room.members.size > 0) {
      expect(owners.map((m) => m.userId)).toEqual([room.ownerId]);
    } else {
      expect(owners).toEqual([]);
    }
    expect(room.members.size).toBeLessThanOrEqual(room.memberLimit);
    for (const id of room.bans.keys()) expect(room.members.has(id)).toBe(false);
    for (const id of room.members.keys()) if (room.bans.has(id)) bannedEver.add(id);
  }

  it('50 concurrent joins on two replicas to a room of 10: exactly 10 members, every other join ROOM_FULL', async () => {
    const owner = user('owner');
    expect(await on(a, create('ten', owner, 10), owner)).toBe('OK');
    const joiners = Array.from({ length: 50 }, (_, i) => user(`j${i}`));
    const codes = await Promise.all(joiners.map((u, i) => on(i % 2 ? a : b, { type: 'JoinRoom', roomId: 'ten', user: u }, u)));
    expect(codes.filter((c) => c === 'OK')).toHaveLength(9);
    expect(codes.filter((c) => c !== 'OK')).toEqual(Array(41).fill('ROOM_FULL'));
    await Promise.all([settled(a, 'ten'), settled(b, 'ten')]);
    for (const replica of [a, b]) expect(replica.app.get(RoomStore).get('ten')!.members.size).toBe(10);
    expect((await replayed(a)).get('ten')!.members.size).toBe(10);
  });

  it('mixed joins, leaves, role changes, kicks and bans on both replicas: no update lost, no rule broken', async () => {
    const random = prng(20261201);
    const pool = Array.from({ length: 14 }, (_, i) => user(`m${i}`));
    const [alice] = pool;
    const roomId = 'mixed';
    expect(await on(a, create(roomId, alice, 8), alice)).toBe('OK');
    const pick = () => pool[Math.floor(random() * pool.length)];
    /** An admin or the owner as this replica sees them right now (stale views are part of the test). */
    const staff = (replica: RunningService) => {
      const room = replica.app.get(RoomStore).get(roomId);
      const admins = [...(room?.members.values() ?? [])].filter((m) => m.role !== 'member');
      return admins.length ? admins[Math.floor(random() * admins.length)] : pick();
    };
    const owner = (replica: RunningService) => {
      const room = replica.app.get(RoomStore).get(roomId);
      return (room?.ownerId && room.members.get(room.ownerId)) || pick();
    };
    const seen = new Map<string, number>();
    for (let round = 0; round < 8; round++) {
      const ops = Array.from({ length: 16 }, (_, i) => {
        const replica = i % 2 ? a : b;
        const target = pick();
        const r = random();
        let cmd: RoomCommand;
        let by: UserView = target;
        if (r < 0.35) cmd = { type: 'JoinRoom', roomId, user: target };
        else if (r < 0.55) cmd = { type: 'LeaveRoom', roomId, user: target };
        else if (r < 0.75) {
          by = owner(replica);
          cmd = { type: 'SetRole', roomId, actor: by, userId: target.userId, role: random() < 0.6 ? 'admin' : 'member' };
        } else if (r < 0.88) {
          by = staff(replica);
          cmd = { type: 'Kick', roomId, actor: by, userId: target.userId, reason: '' };
        } else if (r < 0.95) {
          by = staff(replica);
          cmd = { type: 'Ban', roomId, actor: by, target, reason: 'test' };
        } else {
          by = staff(replica);
          cmd = { type: 'Unban', roomId, actor: by, userId: target.userId };
        }
        return on(replica, cmd, by);
      });
      for (const c of await Promise.all(ops)) seen.set(c, (seen.get(c) ?? 0) + 1);
    }
    // Only typed refusals, and enough accepted changes for the test to mean something.
    expect(
      [...seen.keys()].every((c) =>
        ['OK', 'ALREADY_MEMBER', 'NOT_MEMBER', 'FORBIDDEN', 'ROOM_FULL', 'BANNED', 'NOT_FOUND', 'BAD_REQUEST'].includes(c),
      ),
    ).toBe(true);
    expect(seen.get('OK')).toBeGreaterThan(20);

    await Promise.all([settled(a, roomId), settled(b, roomId)]);
    const fresh = (await replayed(a)).get(roomId)!;
    expect(a.app.get(RoomStore).get(roomId)).toEqual(fresh);
    expect(b.app.get(RoomStore).get(roomId)).toEqual(fresh);
    const bannedMembers = new Set<string>();
    expectRulesHold(fresh, bannedMembers);
    expect(bannedMembers.size).toBe(0);
  });

  it('restart - a rooms service started from nothing rebuilds the same state from the stream', async () => {
    const owner = user('restart-owner');
    const guest = user('restart-guest');
    expect(await on(a, { ...create('kept', owner, 5), visibility: 'private' } as RoomCommand, owner)).toBe('OK');
    expect(await on(b, { type: 'Invite', roomId: 'kept', actor: owner, invitee: guest }, owner)).toBe('OK');
    expect(await on(a, { type: 'Block', roomId: directRoomId(owner.userId, guest.userId), actor: guest, peer: owner }, guest)).toBe('OK');
    expect(await on(b, create('gone', owner, 5), owner)).toBe('OK');
    expect(await on(a, { type: 'DeleteRoom', roomId: 'gone', actor: owner }, owner)).toBe('OK');

    const snapshot = async (replica: RunningService) => {
      const store = replica.app.get(RoomStore);
      for (const r of store.all()) await settled(replica, r.roomId);
      const users = [owner, guest];
      return {
        rooms: store.all().sort((x, y) => (x.roomId < y.roomId ? -1 : 1)),
        memberOf: users.map((u) => store.roomsOf(u.userId).sort()),
        invitedTo: users.map((u) => store.invitedTo(u.userId).map((r) => r.roomId)),
        directory: store.searchDirectory('').map((r) => r.roomId),
      };
    };
    const before = await snapshot(a);
    expect(before.rooms.map((r) => r.roomId)).toEqual(expect.arrayContaining(['general', 'gone', 'kept', 'mixed', 'ten']));
    expect(before.invitedTo[1]).toEqual(['kept']);
    await Promise.all([a.close(), b.close()]);
    const c = await start();
    extra.push(c);
    expect(await snapshot(c)).toEqual(before);
  });
});
