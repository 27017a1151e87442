import { randomUUID } from 'node:crypto';
import { decodeChatEvent, directRoomId, makeEvent, usernameKey, type UserDeleted, type UserView } from '@chat/contracts';
import { decodeJson, encodeJson } from '@chat/messaging';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, eventually, randomName } from '@chat/testing';
import { fakeModeration, register as registerUser, startRooms } from '../testing/rooms-fixture';
import { DeletedUsers } from './deleted-users';

/**
 * The rooms service's reaction to a deleted account, against the real NATS: UserDeleted is
 * appended to the ACCOUNTS stream as the gateway appends it, and the real rooms service removes
 * the user from every room and conversation through the usual leave rules.
 */
describe('rooms service - account events (a deleted account leaves everything)', () => {
  const namespace = randomName();
  let svc: RunningService;
  const rpc = () => svc.deps.rpc;
  const actor = (u: UserView) => ({ actorId: u.userId, actorName: u.username });

  beforeAll(async () => {
    svc = await startRooms(namespace);
  });
  afterAll(async () => {
    await svc?.close();
    await deleteNamespace(namespace);
  });

  async function deleteAccount(user: UserView): Promise<number> {
    const s = svc.deps.subjects;
    const event = makeEvent<UserDeleted>(
      { now: () => new Date(), newId: randomUUID, actor: { kind: 'user', id: user.userId }, correlationId: randomUUID() },
      'UserDeleted',
      1,
      { userId: user.userId, username: user.username },
    );
    return (await svc.deps.js.append(s.accounts.events(user.userId), event, { msgId: randomUUID() })).seq;
  }
  const handled = (seq: number) =>
    eventually(
      async () =>
        ((await svc.deps.js.ackFloor(svc.deps.subjects.streams.accounts.name, svc.deps.subjects.consumers.roomsAccountEvents)) ?? 0) >= seq,
    );
  const roomsOf = async (u: UserView) => (await rpc().callOrThrow('rooms.userRooms', { userId: u.userId })).roomIds.sort();

  it('UserDeleted - leaves rooms (ownership passes), deletes an emptied private room, declines invitations, leaves conversations; idempotent', async () => {
    const [gone, admin, member, peer] = await Promise.all([
      registerUser(svc, 'gone'),
      registerUser(svc, 'g-admin'),
      registerUser(svc, 'g-member'),
      registerUser(svc, 'g-peer'),
    ]);
    await rpc().callOrThrow('rooms.create', { ...gone, roomId: 'owned', name: 'Owned' });
    for (const u of [member, admin]) await rpc().callOrThrow('rooms.join', { ...u, roomId: 'owned' });
    await rpc().callOrThrow('rooms.setRole', { roomId: 'owned', ...actor(gone), userId: admin.userId, role: 'admin' });
    await rpc().callOrThrow('rooms.create', { ...gone, roomId: 'alone', name: 'Alone', visibility: 'private' });
    await rpc().callOrThrow('rooms.create', { ...peer, roomId: 'invites', name: 'Invites', visibility: 'private' });
    await rpc().callOrThrow('rooms.invite', { roomId: 'invites', ...actor(peer), username: 'gone' });
    await rpc().callOrThrow('rooms.block', { ...actor(peer), userId: gone.userId });
    const dm = directRoomId(gone.userId, peer.userId);
    const before = await roomsOf(gone);
    expect(before).toEqual(expect.arrayContaining(['owned', 'alone', dm]));

    const seq = await deleteAccount(gone);
    await eventually(async () => (await roomsOf(gone)).length === 0);
    await handled(seq);

    const owned = await rpc().callOrThrow('rooms.members', { roomId: 'owned', actorId: admin.userId });
    expect(owned.members.map((m) => [m.username, m.role])).toEqual([
      ['g-admin', 'owner'],
      ['g-member', 'member'],
    ]);
    expect((await rpc().call('rooms.details', { roomId: 'alone', userId: admin.userId })).ok).toBe(false);
    expect((await rpc().callOrThrow('rooms.invitations', gone)).invitations).toEqual([]);
    expect(await roomsOf(peer)).toEqual(expect.arrayContaining(['invites', dm]));

    // The leave events are the usual ones, in the room's own subjects.
    const s = svc.deps.subjects;
    const last = await svc.deps.js.lastOnSubject(s.streams.chat.name, s.chat.roomMeta('owned'));
    const left = decodeChatEvent(last!.data);
    expect(left.ok && left.event).toEqual(
      expect.objectContaining({ type: 'MemberLeft', payload: expect.objectContaining({ userId: gone.userId, successorId: admin.userId }) }),
    );

    // Once the gateway has marked the account record deleted, nobody can invite (or message) it by name.
    const kv = await svc.deps.js.kv(svc.deps.subjects.kv.accounts);
    const entry = (await kv.get(usernameKey('gone')))!;
    await kv.put(usernameKey('gone'), encodeJson({ ...(decodeJson(entry.value) as object), deleted: true, passwordHash: '' }));
    const invite = await rpc().call('rooms.invite', { roomId: 'owned', ...actor(admin), username: 'gone' });
    expect(!invite.ok && invite.error.code).toBe('NOT_FOUND');

    // Delivered again (or a second UserDeleted): nothing is left to do, nothing is appended.
    const chatBefore = await svc.deps.js.lastSeq(s.streams.chat.name);
    await handled(await deleteAccount(gone));
    expect(await svc.deps.js.lastSeq(s.streams.chat.name)).toBe(chatBefore);
  });

  it("UserDeleted - the deleted user's own commands are refused SESSION_REVOKED on every replica (a still-open connection cannot re-join)", async () => {
    // A second replica, running before the deletion: it learns it from the stream, not from the consumer.
    const other = await startRooms(namespace);
    const moderation = fakeModeration(svc, 'never-used');
    try {
      const [gone, host] = await Promise.all([registerUser(svc, 'gone-2'), registerUser(svc, 'g2-host')]);
      await rpc().callOrThrow('rooms.create', { ...host, roomId: 'lobby', name: 'Lobby' });
      await rpc().callOrThrow('rooms.join', { ...gone, roomId: 'lobby' });
      await handled(await deleteAccount(gone));
      await eventually(async () => (await roomsOf(gone)).length === 0);
      await eventually(() => [svc, other].every((r) => r.app.get(DeletedUsers).isDeleted(gone.userId)));

      const attempts = [
        () => rpc().call('rooms.join', { ...gone, roomId: 'lobby' }),
        () => rpc().call('rooms.join', { ...gone, roomId: 'general' }),
        () => rpc().call('rooms.create', { ...gone, roomId: 'gone-new', name: 'New' }),
        () => rpc().call('rooms.post', { ...gone, roomId: 'lobby', clientMsgId: randomUUID(), body: 'still here' }),
        () => rpc().call('rooms.directSend', { ...actor(gone), username: 'g2-host', clientMsgId: randomUUID(), body: 'hi' }),
        () => rpc().call('rooms.block', { ...actor(gone), userId: host.userId }),
      ];
      // Several times each: the RPCs are shared by the two replicas' queue group.
      const codes = new Set<string>();
      for (let i = 0; i < 4; i++) for (const attempt of attempts) codes.add(((r) => (r.ok ? 'OK' : r.error.code))(await attempt()));
      expect([...codes]).toEqual(['SESSION_REVOKED']);
      expect(await roomsOf(gone)).toEqual([]);
      // Others go on as usual.
      await rpc().callOrThrow('rooms.post', { ...host, roomId: 'lobby', clientMsgId: randomUUID(), body: 'still open' });
    } finally {
      moderation.unsubscribe();
      await other.close();
    }
  });

  it('other account events change nothing', async () => {
    const [u, other] = await Promise.all([registerUser(svc, 'stays'), registerUser(svc, 'stays-2')]);
    await rpc().callOrThrow('rooms.create', { ...u, roomId: 'kept', name: 'Kept' });
    await rpc().callOrThrow('rooms.join', { ...other, roomId: 'kept' });
    const s = svc.deps.subjects;
    const chatBefore = await svc.deps.js.lastSeq(s.streams.chat.name);
    const ctx = { now: () => new Date(), newId: randomUUID, actor: { kind: 'user' as const, id: u.userId }, correlationId: randomUUID() };
    const { seq } = await svc.deps.js.append(
      s.accounts.events(u.userId),
      makeEvent(ctx, 'UserDisabled', 1, { userId: u.userId, byUserId: other.userId, reason: 'x' }),
      { msgId: randomUUID() },
    );
    await handled(seq);
    expect(await svc.deps.js.lastSeq(s.streams.chat.name)).toBe(chatBefore);
    expect(await roomsOf(u)).toContain('kept');
  });
});
