import { randomUUID } from 'node:crypto';
import { decodeChatEvent, directRoomId, makeEvent, usernameKey, type UserDeleted, type UserView } from '@chat/contracts';
import { decodeJson, encodeJson } from '@chat/messaging';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, eventually, randomName } from '@chat/testing';
import { register as registerUser, startRooms } from '../testing/rooms-fixture';

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
