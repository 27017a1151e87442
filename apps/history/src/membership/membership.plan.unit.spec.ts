import { createSubjects, makeEvent, type ChatEvent, type EventContext, type RoomEvent } from '@chat/contracts';
import type { StreamEvent } from '../store/events';
import { route } from '../store/plan';
import { planMembership, readRefusal, type MembershipChange, type RoomAccess } from './membership.plan';

const s = createSubjects('unit');
const ann = '11111111-1111-4111-8111-111111111111';
const bob = '33333333-3333-4333-8333-333333333333';
const time = new Date('2030-01-02T03:04:05.678Z');
const ctx: EventContext = {
  now: () => time,
  newId: () => '00000000-0000-4000-8000-000000000001',
  actor: { kind: 'user', id: ann },
  correlationId: 'c1',
};
const by = { byUserId: ann, byUsername: 'ann' };
const settings = { name: 'Room', topic: '', visibility: 'public' as const, postPolicy: 'admins' as const, memberLimit: 50 };

/** The membership change an event makes at position 7 in room r, through the real decoder and router. */
function change<E extends RoomEvent>(type: E['type'], payload: Omit<E['payload'], 'roomId'>, version = 1, roomId = 'r'): MembershipChange {
  const e: StreamEvent = {
    subject: s.chat.roomMeta(roomId),
    position: 7,
    data: makeEvent<ChatEvent>(ctx, type as never, version as never, { roomId, ...payload } as never),
  };
  const out = route(e, s.chat);
  if (out.kind !== 'membership') throw new Error(`not routed to membership: ${JSON.stringify(out)}`);
  return out.change;
}
const member = (userId: string, username: string, role: 'owner' | 'admin' | 'member' | null) => ({
  roomId: 'r',
  userId,
  username,
  member: role !== null,
  role,
  position: 7,
  time,
});

describe('membership plan - every room event', () => {
  it('RoomCreated: a group room with its settings, its owner a member', () => {
    expect(change('RoomCreated', { ...settings, ownerId: ann, ownerName: 'ann' })).toEqual({
      position: 7,
      room: {
        roomId: 'r',
        position: 7,
        created: true,
        deleted: false,
        kind: 'group',
        name: 'Room',
        visibility: 'public',
        postPolicy: 'admins',
      },
      members: [member(ann, 'ann', 'owner')],
    });
  });

  it('ConversationOpened: a private direct room with both participants, by name', () => {
    const c = change(
      'ConversationOpened',
      { userAId: ann, userAName: 'ann', userBId: bob, userBName: 'bob', openedById: ann, reason: 'message' },
      1,
      'dm-' + 'a'.repeat(40),
    );
    expect(c.room).toMatchObject({ created: true, kind: 'direct', visibility: 'private', postPolicy: 'members' });
    expect(c.members.map((m) => [m.userId, m.username, m.member, m.role])).toEqual([
      [ann, 'ann', true, 'member'],
      [bob, 'bob', true, 'member'],
    ]);
  });

  it('MemberJoined: a member with the role it names', () => {
    expect(change('MemberJoined', { userId: bob, username: 'bob', role: 'member' }).members).toEqual([member(bob, 'bob', 'member')]);
  });

  it('MemberLeft v2 with a successor: the leaver goes, the successor becomes owner, in one change', () => {
    const c = change('MemberLeft', { userId: ann, username: 'ann', successorId: bob, successorName: 'bob' }, 2);
    expect(c.members).toEqual([member(ann, 'ann', null), member(bob, 'bob', 'owner')]);
    expect(c.recheck).toEqual({ roomId: 'r', from: 7, userId: null });
  });

  it('MemberLeft v1 (the old shape) is upcast: a leave with no successor', () => {
    const c = change('MemberLeft', { userId: bob, username: 'bob' } as never, 1);
    expect(c.members).toEqual([member(bob, 'bob', null)]);
    expect(c.recheck).toEqual({ roomId: 'r', from: 7, userId: bob });
  });

  it('MemberKicked and MemberBanned remove the member and recheck their later posts', () => {
    for (const type of ['MemberKicked', 'MemberBanned'] as const) {
      const c = change(type, { userId: bob, username: 'bob', reason: 'spam', ...by });
      expect(c.members).toEqual([member(bob, 'bob', null)]);
      expect(c.recheck).toEqual({ roomId: 'r', from: 7, userId: bob });
    }
  });

  it('MemberRoleChanged sets the role; OwnershipTransferred makes the target owner and the old owner admin', () => {
    expect(change('MemberRoleChanged', { userId: bob, username: 'bob', role: 'admin', ...by }).members).toEqual([
      member(bob, 'bob', 'admin'),
    ]);
    expect(change('OwnershipTransferred', { userId: bob, username: 'bob', ...by }).members).toEqual([
      member(bob, 'bob', 'owner'),
      member(ann, 'ann', 'admin'),
    ]);
  });

  it('RoomSettingsChanged sets name, visibility and posting policy; RoomDeleted deletes, rechecking the whole history', () => {
    const changed = change('RoomSettingsChanged', { ...settings, visibility: 'private', postPolicy: 'members', ...by });
    expect(changed.room).toEqual({
      roomId: 'r',
      position: 7,
      created: false,
      deleted: false,
      name: 'Room',
      visibility: 'private',
      postPolicy: 'members',
    });
    expect(changed.recheck).toEqual({ roomId: 'r', from: 7, userId: null });
    const deleted = change('RoomDeleted', { reason: 'owner', ...by });
    expect(deleted.room).toEqual({ roomId: 'r', position: 7, created: false, deleted: true });
    expect(deleted.recheck).toEqual({ roomId: 'r', from: 0, userId: null });
  });

  it('UserBlocked / UserUnblocked: one direction of the pair', () => {
    expect(change('UserBlocked', { blockerId: ann, blockedId: bob }).block).toEqual({
      roomId: 'r',
      blockerId: ann,
      blockedId: bob,
      blocked: true,
      position: 7,
    });
    expect(change('UserUnblocked', { blockerId: ann, blockedId: bob }).block?.blocked).toBe(false);
  });

  it('RoomRetentionSet sets the retention period; null (back to the default) is a setting too', () => {
    const room = { roomId: 'r', position: 7, created: false, deleted: false };
    expect(change('RoomRetentionSet', { days: 30, ...by })).toEqual({
      position: 7,
      room: { ...room, retention: { days: 30 } },
      members: [],
    });
    expect(change('RoomRetentionSet', { days: null, ...by }).room).toEqual({ ...room, retention: { days: null } });
  });

  it('invitations, declines and unbans change nothing history keeps', () => {
    const nothing = { position: 7, members: [] };
    expect(change('MemberInvited', { userId: bob, username: 'bob', roomName: 'Room', ...by })).toEqual(nothing);
    expect(change('InvitationDeclined', { userId: bob, username: 'bob' })).toEqual(nothing);
    expect(change('MemberUnbanned', { userId: bob, username: 'bob', ...by })).toEqual(nothing);
  });
});

describe('membership plan - planMembership', () => {
  const at = (position: number, c: Partial<MembershipChange>): MembershipChange => ({ position, members: [], ...c });

  it('keeps the lowest recheck per room and user, and a room-wide one covers the per-user ones after it', () => {
    const part = planMembership([
      at(5, { recheck: { roomId: 'a', from: 5, userId: bob } }),
      at(6, { recheck: { roomId: 'a', from: 6, userId: bob } }),
      at(7, { recheck: { roomId: 'b', from: 9, userId: bob } }),
      at(8, { recheck: { roomId: 'b', from: 8, userId: null } }),
      at(9, { recheck: { roomId: 'b', from: 3, userId: ann } }),
    ]);
    expect(part.rechecks).toEqual([
      { roomId: 'a', from: 5, userId: bob },
      { roomId: 'b', from: 8, userId: null },
      { roomId: 'b', from: 3, userId: ann },
    ]);
  });

  it('touches the room of every member change (its owner is read off its members)', () => {
    const part = planMembership([at(5, { members: [member(bob, 'bob', 'owner')] })]);
    expect(part.touchedRooms).toEqual(['r']);
    expect(part.touchedMembers).toEqual([{ roomId: 'r', userId: bob }]);
  });
});

describe('membership plan - readRefusal', () => {
  const room = (over: Partial<RoomAccess> = {}): RoomAccess => ({ kind: 'group', visibility: 'public', deleted: false, ...over });
  const notFound = { code: 'NOT_FOUND', message: 'room "r" does not exist' };
  const memberOf = { member: true, role: 'member' as const, position: 3 };
  const former = { member: false, role: null, position: 9 };

  it('lets members read, whatever their role and the room kind', () => {
    for (const role of ['owner', 'admin', 'member'] as const)
      expect(readRefusal('r', room(), { member: true, role, position: 3 })).toBeNull();
    expect(readRefusal('r', room({ visibility: 'private' }), memberOf)).toBeNull();
    expect(readRefusal('r', room({ kind: 'direct', visibility: 'private' }), memberOf)).toBeNull();
  });

  it('a missing room, a deleted one (even to its members), a private room and a conversation the caller is not in: the same NOT_FOUND', () => {
    expect(readRefusal('r', null, null)).toEqual(notFound);
    expect(readRefusal('r', room({ deleted: true }), memberOf)).toEqual(notFound);
    for (const hidden of [room({ visibility: 'private' }), room({ kind: 'direct', visibility: 'private' })]) {
      expect(readRefusal('r', hidden, null)).toEqual(notFound);
      expect(readRefusal('r', hidden, former)).toEqual(notFound);
    }
  });

  it('a public room the caller is not (or no longer) in: FORBIDDEN, join to read', () => {
    for (const standing of [null, former]) {
      const refusal = readRefusal('r', room(), standing);
      expect(refusal?.code).toBe('FORBIDDEN');
      expect(refusal?.message).toMatch(/not a member of room "r"/);
    }
  });
});
