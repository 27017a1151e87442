import { directRoomId, type UserView } from '@chat/contracts';
import { register as registerUser, roomsForSuite } from '../testing/rooms-fixture';

describe('rooms service - rooms.presenceAudience over NATS', () => {
  const rooms = roomsForSuite('forbidden');
  const rpc = () => rooms().deps.rpc;
  const register = (username: string) => registerUser(rooms(), username);
  const actor = (u: UserView) => ({ actorId: u.userId, actorName: u.username });
  const sorted = (ids: string[]) => [...ids].sort();

  it('presenceAudience - the rooms and conversations within the size limit and their distinct members, the user included', async () => {
    const [ann, bea, cid, dan, eve] = await Promise.all(['pa-ann', 'pa-bea', 'pa-cid', 'pa-dan', 'pa-eve'].map(register));
    // small: ann, bea, cid (3); big: ann, bea, cid, dan (4); a conversation ann-eve (2).
    await rpc().callOrThrow('rooms.create', { ...ann, roomId: 'pa-small', name: 'Small' });
    await rpc().callOrThrow('rooms.create', { ...ann, roomId: 'pa-big', name: 'Big' });
    for (const u of [bea, cid]) await rpc().callOrThrow('rooms.join', { ...u, roomId: 'pa-small' });
    for (const u of [bea, cid, dan]) await rpc().callOrThrow('rooms.join', { ...u, roomId: 'pa-big' });
    await rpc().callOrThrow('rooms.directSend', { ...actor(ann), username: 'pa-eve', clientMsgId: 'pa1', body: 'hello' });
    const dm = directRoomId(ann.userId, eve.userId);

    const within3 = await rpc().callOrThrow('rooms.presenceAudience', { userId: ann.userId, maxMembers: 3, contactsLimit: 1000 });
    expect(within3.roomIds).toEqual(sorted(['pa-small', dm]));
    expect(within3.contactIds).toEqual(sorted([ann.userId, bea.userId, cid.userId, eve.userId]));

    const within4 = await rpc().callOrThrow('rooms.presenceAudience', { userId: ann.userId, maxMembers: 4, contactsLimit: 1000 });
    expect(within4.roomIds).toEqual(sorted(['pa-small', 'pa-big', dm]));
    expect(within4.contactIds).toEqual(sorted([ann, bea, cid, dan, eve].map((u) => u.userId)));
    // dan shares only the big room; after leaving it he has nobody within 3.
    expect(await rpc().callOrThrow('rooms.presenceAudience', { userId: dan.userId, maxMembers: 3, contactsLimit: 1000 })).toEqual({
      roomIds: [],
      contactIds: [],
      contactTotal: 0,
    });
    await rpc().callOrThrow('rooms.leave', { ...cid, roomId: 'pa-big' });
    const after = await rpc().callOrThrow('rooms.presenceAudience', { userId: dan.userId, maxMembers: 3, contactsLimit: 1000 });
    expect(after).toEqual({ roomIds: ['pa-big'], contactIds: sorted([ann.userId, bea.userId, dan.userId]), contactTotal: 3 });
    // Without contactsLimit only the rooms are answered (the fan-out's question); with it, a page in user id order.
    expect(await rpc().callOrThrow('rooms.presenceAudience', { userId: dan.userId, maxMembers: 3 })).toEqual({ roomIds: ['pa-big'] });
    expect(
      await rpc().callOrThrow('rooms.presenceAudience', { userId: dan.userId, maxMembers: 3, contactsOffset: 1, contactsLimit: 1 }),
    ).toEqual({
      roomIds: ['pa-big'],
      contactIds: sorted([ann.userId, bea.userId, dan.userId]).slice(1, 2),
      contactTotal: 3,
    });
  });

  it('presenceAudience - a user in no room gets empty lists; bad input is BAD_REQUEST', async () => {
    expect(
      await rpc().callOrThrow('rooms.presenceAudience', {
        userId: '00000000-0000-4000-8000-000000000abc',
        maxMembers: 10,
        contactsLimit: 10,
      }),
    ).toEqual({
      roomIds: [],
      contactIds: [],
      contactTotal: 0,
    });
    for (const body of [
      { userId: 'nope', maxMembers: 10 },
      { userId: '00000000-0000-4000-8000-000000000abc', maxMembers: 1 },
      { userId: '00000000-0000-4000-8000-000000000abc', maxMembers: 10, contactsLimit: 1001 },
      {},
    ]) {
      const r = await rpc().call('rooms.presenceAudience', body as never);
      expect(r.ok ? 'OK' : r.error.code).toBe('BAD_REQUEST');
    }
  });
});
