import { randomUUID } from 'node:crypto';
import { directRoomId, type Result, type UserView } from '@chat/contracts';
import type { RunningService } from '@chat/platform';
import { deleteNamespace, randomName } from '@chat/testing';
import type { Subscription } from '@nats-io/transport-node';
import { fakeModeration, register as registerUser, startRooms } from './testing/rooms-fixture';

const code = (r: Result<unknown>) => (r.ok ? 'OK' : r.error.code);
const error = (r: Result<unknown>) => (r.ok ? 'OK' : r.error);

describe('rooms service - operations and their typed errors over NATS', () => {
  const namespace = randomName();
  let svc: RunningService;
  let moderation: Subscription;
  const rpc = () => svc.deps.rpc;

  beforeAll(async () => {
    svc = await startRooms(namespace);
    moderation = fakeModeration(svc, 'forbidden', 'forbidden word');
  });

  afterAll(async () => {
    moderation?.unsubscribe();
    await svc?.close();
    await deleteNamespace(namespace);
  });

  const register = (username: string) => registerUser(svc, username);
  const actor = (u: UserView) => ({ actorId: u.userId, actorName: u.username });
  const missingRoom = (roomId: string) => ({ code: 'NOT_FOUND', message: `room "${roomId}" does not exist` });

  it('private room - outsiders get the missing-room answer for everything; an invitation shows it; accepting joins', async () => {
    const [owner, guest, outsider] = await Promise.all([register('priv-owner'), register('Priv-Guest'), register('priv-out')]);
    await rpc().callOrThrow('rooms.create', { ...owner, roomId: 'hideout', name: 'Hideout', visibility: 'private' });
    const asOutsider = [
      await rpc().call('rooms.details', { roomId: 'hideout', userId: outsider.userId }),
      await rpc().call('rooms.members', { roomId: 'hideout', actorId: outsider.userId }),
      await rpc().call('rooms.join', { ...outsider, roomId: 'hideout' }),
      await rpc().call('rooms.invite', { roomId: 'hideout', ...actor(outsider), username: 'priv-guest' }),
      await rpc().call('rooms.invite', { roomId: 'hideout', ...actor(outsider), username: 'nobody-at-all' }),
      await rpc().call('rooms.bans', { roomId: 'hideout', userId: outsider.userId }),
      await rpc().call('rooms.post', { ...outsider, roomId: 'hideout', clientMsgId: 'x', body: 'hi' }),
    ];
    expect(asOutsider.map(error)).toEqual(Array(asOutsider.length).fill(missingRoom('hideout')));
    expect(error(await rpc().call('rooms.details', { roomId: 'nowhere', userId: outsider.userId }))).toEqual(missingRoom('nowhere'));

    // The invitee is found by name (NFKC, any case); an unknown name is NOT_FOUND.
    expect(error(await rpc().call('rooms.invite', { roomId: 'hideout', ...actor(owner), username: 'nobody-at-all' }))).toEqual({
      code: 'NOT_FOUND',
      message: 'user "nobody-at-all" does not exist',
    });
    const invited = await rpc().callOrThrow('rooms.invite', { roomId: 'hideout', ...actor(owner), username: 'ＰＲＩＶ-guest' });
    expect(invited.userId).toBe(guest.userId);
    const { invitations } = await rpc().callOrThrow('rooms.invitations', guest);
    expect(invitations).toEqual([{ roomId: 'hideout', roomName: 'Hideout', invitedBy: owner, time: expect.any(String) }]);
    expect((await rpc().callOrThrow('rooms.details', { roomId: 'hideout', userId: guest.userId })).myRole).toBeNull();

    const joined = await rpc().callOrThrow('rooms.acceptInvitation', { ...guest, roomId: 'hideout' });
    expect(joined.room).toEqual(expect.objectContaining({ myRole: 'member', memberCount: 2 }));
    expect((await rpc().callOrThrow('rooms.invitations', guest)).invitations).toEqual([]);
    expect(code(await rpc().call('rooms.acceptInvitation', { ...guest, roomId: 'hideout' }))).toBe('ALREADY_MEMBER');
    const members = await rpc().callOrThrow('rooms.members', { roomId: 'hideout', actorId: guest.userId });
    expect(members.members.map((m) => [m.username, m.role])).toEqual([
      ['priv-owner', 'owner'],
      ['Priv-Guest', 'member'],
    ]);
  });

  it('roles - members may not manage; kick, ban and the bans list; the owner leaving hands the room on', async () => {
    const [owner, admin, member, other] = await Promise.all([
      register('r-owner'),
      register('r-admin'),
      register('r-member'),
      register('r-other'),
    ]);
    await rpc().callOrThrow('rooms.create', { ...owner, roomId: 'ranks', name: 'Ranks' });
    for (const u of [admin, member]) await rpc().callOrThrow('rooms.join', { ...u, roomId: 'ranks' });
    expect(code(await rpc().call('rooms.setRole', { roomId: 'ranks', ...actor(member), userId: admin.userId, role: 'admin' }))).toBe(
      'FORBIDDEN',
    );
    await rpc().callOrThrow('rooms.setRole', { roomId: 'ranks', ...actor(owner), userId: admin.userId, role: 'admin' });
    expect(code(await rpc().call('rooms.kick', { roomId: 'ranks', ...actor(admin), userId: owner.userId }))).toBe('FORBIDDEN');
    expect(code(await rpc().call('rooms.kick', { roomId: 'ranks', ...actor(admin), userId: other.userId }))).toBe('NOT_MEMBER');
    expect(code(await rpc().call('rooms.bans', { roomId: 'ranks', userId: member.userId }))).toBe('FORBIDDEN');

    // A ban of someone who never joined finds them by id; an unknown id is NOT_FOUND.
    await rpc().callOrThrow('rooms.ban', { roomId: 'ranks', ...actor(admin), userId: other.userId, reason: 'spam' });
    expect(code(await rpc().call('rooms.ban', { roomId: 'ranks', ...actor(admin), userId: randomUUID() }))).toBe('NOT_FOUND');
    expect(code(await rpc().call('rooms.join', { ...other, roomId: 'ranks' }))).toBe('BANNED');
    const { bans } = await rpc().callOrThrow('rooms.bans', { roomId: 'ranks', userId: admin.userId });
    expect(bans).toEqual([{ userId: other.userId, username: 'r-other', by: admin, reason: 'spam', time: expect.any(String) }]);

    await rpc().callOrThrow('rooms.leave', { ...owner, roomId: 'ranks' });
    const details = await rpc().callOrThrow('rooms.details', { roomId: 'ranks', userId: member.userId });
    expect(details.owner).toEqual(admin);
    expect(details).toEqual(expect.objectContaining({ memberCount: 2, isDefault: false, createdBy: owner }));
  });

  it('public room - anyone sees its details and members; settings, a lowered limit and a transfer', async () => {
    const [owner, m1, m2, passer] = await Promise.all([register('p-owner'), register('p-m1'), register('p-m2'), register('p-passer')]);
    await rpc().callOrThrow('rooms.create', { ...owner, roomId: 'plaza', name: 'Plaza', memberLimit: 3 });
    await rpc().callOrThrow('rooms.join', { ...m1, roomId: 'plaza' });
    const page = await rpc().callOrThrow('rooms.members', { roomId: 'plaza', actorId: passer.userId, limit: 1 });
    expect(page).toEqual({
      roomId: 'plaza',
      members: [expect.objectContaining({ userId: owner.userId, role: 'owner' })],
      total: 2,
      nextOffset: 1,
    });
    expect((await rpc().callOrThrow('rooms.details', { roomId: 'plaza', userId: passer.userId })).myRole).toBeNull();

    expect(code(await rpc().call('rooms.update', { ...m1, roomId: 'plaza', topic: 'mine now' }))).toBe('FORBIDDEN');
    const updated = await rpc().callOrThrow('rooms.update', { ...owner, roomId: 'plaza', memberLimit: 2, postPolicy: 'admins' });
    expect(updated.room).toEqual(expect.objectContaining({ memberLimit: 2, postPolicy: 'admins', memberCount: 2 }));
    expect(code(await rpc().call('rooms.join', { ...m2, roomId: 'plaza' }))).toBe('ROOM_FULL');
    expect(code(await rpc().call('rooms.post', { ...m1, roomId: 'plaza', clientMsgId: 'p1', body: 'hi' }))).toBe('FORBIDDEN');

    expect(code(await rpc().call('rooms.transfer', { roomId: 'plaza', ...actor(owner), userId: passer.userId }))).toBe('NOT_MEMBER');
    await rpc().callOrThrow('rooms.transfer', { roomId: 'plaza', ...actor(owner), userId: m1.userId });
    const roles = await rpc().callOrThrow('rooms.members', { roomId: 'plaza', actorId: owner.userId });
    expect(roles.members.map((m) => [m.userId, m.role])).toEqual([
      [m1.userId, 'owner'],
      [owner.userId, 'admin'],
    ]);
    expect(code(await rpc().call('rooms.post', { ...m1, roomId: 'plaza', clientMsgId: 'p2', body: 'hi' }))).toBe('OK');
  });

  it('delete - the default room is FORBIDDEN; a deleted room answers NOT_FOUND and its id stays taken', async () => {
    const owner = await register('d-owner');
    await rpc().callOrThrow('rooms.join', { ...owner, roomId: 'general' });
    expect(code(await rpc().call('rooms.delete', { ...owner, roomId: 'general' }))).toBe('FORBIDDEN');
    await rpc().callOrThrow('rooms.create', { ...owner, roomId: 'doomed', name: 'Doomed' });
    await rpc().callOrThrow('rooms.delete', { ...owner, roomId: 'doomed' });
    expect(error(await rpc().call('rooms.details', { roomId: 'doomed', userId: owner.userId }))).toEqual(missingRoom('doomed'));
    expect(error(await rpc().call('rooms.join', { ...owner, roomId: 'doomed' }))).toEqual(missingRoom('doomed'));
    expect(code(await rpc().call('rooms.create', { ...owner, roomId: 'doomed', name: 'Again' }))).toBe('CONFLICT');
    expect((await rpc().callOrThrow('rooms.mine', owner)).rooms.map((r) => r.roomId)).toEqual(['general']);
  });

  it('directory - public rooms matched case-insensitively after NFKC anywhere in the name, by name, in pages', async () => {
    const owner = await register('dir-owner');
    for (const [roomId, name, visibility] of [
      ['dir-b', 'Ｂeta Café', 'public'],
      ['dir-a', 'alpha café', 'public'],
      ['dir-c', 'Gamma CAFÉ club', 'public'],
      ['dir-p', 'Private café', 'private'],
    ] as const) {
      await rpc().callOrThrow('rooms.create', { ...owner, roomId, name, visibility });
    }
    const first = await rpc().callOrThrow('rooms.directory', { userId: owner.userId, query: 'CAFÉ', limit: 2 });
    expect(first.rooms.map((r) => r.roomId)).toEqual(['dir-a', 'dir-b']);
    expect(first).toEqual(expect.objectContaining({ total: 3, nextOffset: 2 }));
    const second = await rpc().callOrThrow('rooms.directory', { userId: owner.userId, query: 'café', offset: 2, limit: 2 });
    expect(second.rooms.map((r) => r.roomId)).toEqual(['dir-c']);
    expect(second.nextOffset).toBeNull();
    expect((await rpc().callOrThrow('rooms.directory', { userId: owner.userId, query: 'beta' })).rooms.map((r) => r.roomId)).toEqual([
      'dir-b',
    ]);
  });

  it('conversations - dm by name opens one, blocks refuse messages both ways and invitations to the blocker', async () => {
    const [ann, ben, cat] = await Promise.all([register('dm-ann'), register('dm-ben'), register('dm-cat')]);
    const dmId = directRoomId(ann.userId, ben.userId);
    const send = (from: UserView, to: string, clientMsgId: string) =>
      rpc().call('rooms.directSend', { ...actor(from), username: to, clientMsgId, body: 'hello' });
    expect(code(await send(ann, 'DM-ANN', 'self'))).toBe('BAD_REQUEST');
    expect(error(await send(ann, 'dm-nobody', 'n1'))).toEqual({ code: 'NOT_FOUND', message: 'user "dm-nobody" does not exist' });

    const ack = await send(ann, 'dm-ben', 'first');
    expect(ack.ok && ack.data.roomId).toBe(dmId);
    expect((await rpc().callOrThrow('rooms.userRooms', { userId: ben.userId })).roomIds).toEqual([dmId]);
    expect((await rpc().callOrThrow('rooms.list', { userId: ben.userId })).map((r) => r.roomId)).not.toContain(dmId);
    // A third user forging the id gets the missing-room answer.
    expect(error(await rpc().call('rooms.post', { ...cat, roomId: dmId, clientMsgId: 'forged', body: 'x' }))).toEqual(missingRoom(dmId));
    expect(error(await rpc().call('rooms.members', { roomId: dmId, actorId: cat.userId }))).toEqual(missingRoom(dmId));
    expect(error(await rpc().call('rooms.join', { ...cat, roomId: dmId }))).toEqual(missingRoom(dmId));

    expect(code(await rpc().call('rooms.block', { ...actor(ben), userId: ben.userId }))).toBe('BAD_REQUEST');
    expect(code(await rpc().call('rooms.block', { ...actor(ben), userId: randomUUID() }))).toBe('NOT_FOUND');
    await rpc().callOrThrow('rooms.block', { ...actor(ben), userId: ann.userId });
    expect((await rpc().callOrThrow('rooms.blocks', ben)).blocks).toEqual([
      { userId: ann.userId, username: 'dm-ann', time: expect.any(String) },
    ]);
    expect((await rpc().callOrThrow('rooms.blocks', ann)).blocks).toEqual([]);
    expect(code(await send(ann, 'dm-ben', 'blocked-1'))).toBe('BLOCKED');
    expect(code(await send(ben, 'dm-ann', 'blocked-2'))).toBe('BLOCKED');

    await rpc().callOrThrow('rooms.create', { ...ann, roomId: 'ann-club', name: 'Ann club', visibility: 'private' });
    expect(code(await rpc().call('rooms.invite', { roomId: 'ann-club', ...actor(ann), username: 'dm-ben' }))).toBe('BLOCKED');

    await rpc().callOrThrow('rooms.unblock', { ...actor(ben), userId: ann.userId });
    expect(code(await send(ann, 'dm-ben', 'after-1'))).toBe('OK');
    expect(code(await rpc().call('rooms.invite', { roomId: 'ann-club', ...actor(ann), username: 'dm-ben' }))).toBe('OK');

    // A first message moderation refuses opens nothing: the peer is not told of an empty conversation.
    const dan = await register('dm-dan');
    expect(
      code(await rpc().call('rooms.directSend', { ...actor(ann), username: 'dm-dan', clientMsgId: 'f1', body: 'a forbidden word' })),
    ).toBe('CONTENT_BLOCKED');
    expect((await rpc().callOrThrow('rooms.userRooms', { userId: dan.userId })).roomIds).toEqual([]);

    // Blocking someone never written to opens the pair's conversation aggregate.
    await rpc().callOrThrow('rooms.block', { ...actor(cat), userId: ann.userId });
    expect((await rpc().callOrThrow('rooms.userRooms', { userId: cat.userId })).roomIds).toEqual([directRoomId(ann.userId, cat.userId)]);
    expect(code(await send(ann, 'dm-cat', 'to-cat'))).toBe('BLOCKED');
  });
});
