import { ChatError, decodeChatEvent, directRoomId, roomEventTypes, type EventContext, type RoomEvent } from '@chat/contracts';
import { decide, decidePost, defaultRoomCommand, roomNotFound, type DecideLookups, type RoomCommand } from './room.decide';
import { canSee, evolve, evolveInPlace, orderedMembers, summarize, type Room } from './room';

const u = (n: number, username: string) => ({ userId: `00000000-0000-4000-8000-${n.toString(16).padStart(12, '0')}`, username });
const alice = u(0xa, 'alice');
const bob = u(0xb, '小明');
const carol = u(0xc, 'carol');
const dave = u(0xd, 'dave');
const erin = u(0xe, 'erin');

let ids = 0;
const ctx: EventContext = {
  now: () => new Date('2026-01-02T03:04:05.000Z'),
  newId: () => `id-${++ids}`,
  actor: { kind: 'user', id: alice.userId },
  correlationId: 'corr-1',
};

type Create = Extract<RoomCommand, { type: 'CreateRoom' }>;
const create = (over: Partial<Create> = {}): RoomCommand => ({
  type: 'CreateRoom',
  roomId: 'lounge',
  name: 'Lounge',
  topic: '',
  visibility: 'public',
  postPolicy: 'members',
  memberLimit: 5,
  slowModeSeconds: 0,
  owner: alice,
  ...over,
});
const R = 'lounge';
const join = (user: typeof alice, roomId = R): RoomCommand => ({ type: 'JoinRoom', roomId, user });
const leave = (user: typeof alice, roomId = R): RoomCommand => ({ type: 'LeaveRoom', roomId, user });
const invite = (actor: typeof alice, invitee: typeof alice, roomId = R): RoomCommand => ({ type: 'Invite', roomId, actor, invitee });
const accept = (user: typeof alice): RoomCommand => ({ type: 'AcceptInvitation', roomId: R, user });
const decline = (user: typeof alice): RoomCommand => ({ type: 'DeclineInvitation', roomId: R, user });
const kick = (actor: typeof alice, target: typeof alice): RoomCommand => ({
  type: 'Kick',
  roomId: R,
  actor,
  userId: target.userId,
  reason: 'spam',
});
const ban = (actor: typeof alice, target: typeof alice): RoomCommand => ({ type: 'Ban', roomId: R, actor, target, reason: 'rude' });
const unban = (actor: typeof alice, target: typeof alice): RoomCommand => ({ type: 'Unban', roomId: R, actor, userId: target.userId });
const setRole = (actor: typeof alice, target: typeof alice, role: 'admin' | 'member'): RoomCommand => ({
  type: 'SetRole',
  roomId: R,
  actor,
  userId: target.userId,
  role,
});
const transfer = (actor: typeof alice, target: typeof alice): RoomCommand => ({
  type: 'Transfer',
  roomId: R,
  actor,
  userId: target.userId,
});
const update = (actor: typeof alice, changes: Extract<RoomCommand, { type: 'UpdateSettings' }>['changes']): RoomCommand => ({
  type: 'UpdateSettings',
  roomId: R,
  actor,
  changes,
});
const del = (actor: typeof alice, roomId = R): RoomCommand => ({ type: 'DeleteRoom', roomId, actor });
const retention = (actor: typeof alice, days: number | null, roomId = R): RoomCommand => ({ type: 'SetRetention', roomId, actor, days });
const dm = (a: typeof alice, b: typeof alice) => directRoomId(a.userId, b.userId);
const open = (actor: typeof alice, peer: typeof alice): RoomCommand => ({ type: 'OpenConversation', roomId: dm(actor, peer), actor, peer });
const block = (actor: typeof alice, peer: typeof alice): RoomCommand => ({ type: 'Block', roomId: dm(actor, peer), actor, peer });
const unblock = (actor: typeof alice, peer: typeof alice): RoomCommand => ({ type: 'Unblock', roomId: dm(actor, peer), actor, peer });

interface Outcome {
  events: RoomEvent[];
  error: string | null;
  message: string | null;
}

/** given(commands).when(command) -> events or error, in the emmett style (each given command must succeed). */
function given(...commands: RoomCommand[]) {
  let room: Room | null = null;
  let position = 0;
  for (const c of commands) for (const e of decide(room, c, ctx)) room = evolve(room, e, ++position);
  const when = (cmd: RoomCommand, lookups?: DecideLookups): Outcome => {
    try {
      return { events: decide(room, cmd, ctx, lookups), error: null, message: null };
    } catch (err) {
      if (!(err instanceof ChatError)) throw err;
      return { events: [], error: err.code, message: err.message };
    }
  };
  /** The room after `cmd` (which must succeed). */
  const then = (cmd: RoomCommand): Room | null => {
    let r = room;
    let p = position;
    for (const e of decide(room, cmd, ctx)) r = evolve(r, e, ++p);
    return r;
  };
  return { room: room as Room, when, then };
}

const types = (o: Outcome) => o.events.map((e) => e.type);
const roles = (room: Room | null) => Object.fromEntries([...(room?.members.values() ?? [])].map((m) => [m.username, m.role]));
const missing = roomNotFound(R).message;

describe('rooms - create', () => {
  it('RoomCreated with envelope metadata; the creator is the owner and a member; creation time and creator kept', () => {
    const { events } = given().when(create());
    expect(events).toEqual([
      expect.objectContaining({
        type: 'RoomCreated',
        version: 2,
        time: '2026-01-02T03:04:05.000Z',
        correlationId: 'corr-1',
        causationId: null,
        actor: { kind: 'user', id: alice.userId },
        payload: expect.objectContaining({ roomId: R, ownerId: alice.userId, ownerName: 'alice', memberLimit: 5 }),
      }),
    ]);
    const room = evolve(null, events[0], 1)!;
    expect(summarize(room, alice.userId)).toEqual(expect.objectContaining({ memberCount: 1, myRole: 'owner' }));
    expect(room).toEqual(
      expect.objectContaining({ kind: 'group', ownerId: alice.userId, createdBy: alice, createdAt: '2026-01-02T03:04:05.000Z' }),
    );
  });

  it('an existing id is a CONFLICT', () => {
    expect(given(create()).when(create()).error).toBe('CONFLICT');
  });

  it('an id is never used twice: a deleted room keeps it (CONFLICT)', () => {
    expect(given(create(), del(alice)).when(create({ owner: bob })).error).toBe('CONFLICT');
  });

  it('ids starting with dm- are reserved for conversations', () => {
    expect(given().when(create({ roomId: 'dm-abc' })).error).toBe('BAD_REQUEST');
  });
});

describe('rooms - the default room', () => {
  it('public, created by the system, without owner or members', () => {
    const { events } = given().when(defaultRoomCommand('General'));
    expect(events[0].payload).toEqual(expect.objectContaining({ roomId: 'general', visibility: 'public', ownerId: null }));
    const room = evolve(null, events[0], 1)!;
    expect(room.members.size).toBe(0);
    expect(room.createdBy).toBeNull();
  });

  it('nobody owns it: its first member is a plain member, and the last one leaving leaves it ownerless', () => {
    const g = given(defaultRoomCommand('General'), join(alice, 'general'), leave(alice, 'general'));
    expect(g.when(join(bob, 'general')).events[0].payload).toEqual(expect.objectContaining({ role: 'member' }));
  });

  it('cannot be deleted (FORBIDDEN)', () => {
    expect(given(defaultRoomCommand('General'), join(alice, 'general')).when(del(alice, 'general')).error).toBe('FORBIDDEN');
  });
});

describe('rooms - join (public)', () => {
  it('MemberJoined as member, with the join time and its stream position as standing', () => {
    const g = given(create());
    expect(g.when(join(bob)).events.map((e) => [e.type, e.payload])).toEqual([
      ['MemberJoined', { roomId: R, userId: bob.userId, username: '小明', role: 'member' }],
    ]);
    const room = g.then(join(bob))!;
    expect(room.members.get(bob.userId)).toEqual(expect.objectContaining({ joinedAt: '2026-01-02T03:04:05.000Z', joinedPosition: 2 }));
  });

  it.each([
    ['missing room', [], 'NOT_FOUND'],
    ['already a member', [create(), join(bob)], 'ALREADY_MEMBER'],
    ['banned', [create(), ban(alice, bob)], 'BANNED'],
    ['full room', [create({ memberLimit: 2 }), join(carol)], 'ROOM_FULL'],
  ])('%s is refused', (_what, history, code) => {
    expect(given(...(history as RoomCommand[])).when(join(bob)).error).toBe(code);
  });
});

describe('rooms - private rooms are invisible to outsiders', () => {
  const priv = () => given(create({ visibility: 'private' }), invite(alice, carol), accept(carol));

  it('joining without an invitation is NOT_FOUND with the missing room message', () => {
    const g = priv();
    expect(g.when(join(bob))).toEqual({ events: [], error: 'NOT_FOUND', message: missing });
    expect(given().when(join(bob))).toEqual({ events: [], error: 'NOT_FOUND', message: missing });
  });

  it('every operation by an outsider answers exactly as for a room that does not exist', () => {
    const commands = [
      join(bob),
      leave(bob),
      invite(bob, dave),
      accept(bob),
      decline(bob),
      kick(bob, carol),
      ban(bob, carol),
      unban(bob, carol),
      update(bob, { name: 'x' }),
      setRole(bob, carol, 'admin'),
      transfer(bob, carol),
      del(bob),
    ];
    for (const c of commands) {
      expect({ c: c.type, ...given(create({ visibility: 'private' }), invite(alice, carol)).when(c) }).toEqual({
        c: c.type,
        ...given().when(c),
      });
      expect(given().when(c)).toEqual({ events: [], error: 'NOT_FOUND', message: missing });
    }
    const post = { roomId: R, ...bob, clientMsgId: 'c', messageId: '11111111-1111-4111-8111-111111111111', body: 'hi' };
    expect(() => decidePost(priv().room, post, ctx)).toThrow(roomNotFound(R));
    expect(canSee(priv().room, bob.userId)).toBe(false);
    expect(canSee(priv().room, carol.userId)).toBe(true);
  });

  it('an invitee sees the room and joining it accepts the invitation', () => {
    const g = given(create({ visibility: 'private' }), invite(alice, bob));
    expect(canSee(g.room, bob.userId)).toBe(true);
    expect(g.when(join(bob)).events.map((e) => [e.type, e.payload])).toEqual([
      ['MemberJoined', { roomId: R, userId: bob.userId, username: bob.username, role: 'member' }],
    ]);
    expect(g.then(join(bob))!.invitations.size).toBe(0);
  });
});

describe('rooms - invite', () => {
  it('an admin invites by user: MemberInvited with the room name and the inviter; the invitation is pending', () => {
    const g = given(create(), join(carol), setRole(alice, carol, 'admin'));
    const o = g.when(invite(carol, bob));
    expect(o.events[0].payload).toEqual({
      roomId: R,
      userId: bob.userId,
      username: bob.username,
      byUserId: carol.userId,
      byUsername: 'carol',
      roomName: 'Lounge',
    });
    expect(g.then(invite(carol, bob))!.invitations.get(bob.userId)).toEqual(
      expect.objectContaining({ byUserId: carol.userId, roomName: 'Lounge', time: '2026-01-02T03:04:05.000Z' }),
    );
  });

  it('a plain member may not invite (FORBIDDEN)', () => {
    expect(given(create(), join(carol)).when(invite(carol, bob)).error).toBe('FORBIDDEN');
  });

  it.each([
    ['a member', [create(), join(bob)], 'ALREADY_MEMBER'],
    ['a banned user', [create(), ban(alice, bob)], 'BANNED'],
    ['into a full room', [create({ memberLimit: 2 }), join(carol)], 'ROOM_FULL'],
  ])('inviting %s is refused', (_what, history, code) => {
    expect(given(...(history as RoomCommand[])).when(invite(alice, bob)).error).toBe(code);
  });

  it('someone who blocked the inviter cannot be invited by them (BLOCKED); others still can', () => {
    const lookups: DecideLookups = { isBlocked: (blocker, blocked) => blocker === bob.userId && blocked === alice.userId };
    const g = given(create(), join(carol), setRole(alice, carol, 'admin'));
    expect(g.when(invite(alice, bob), lookups).error).toBe('BLOCKED');
    expect(types(g.when(invite(carol, bob), lookups))).toEqual(['MemberInvited']);
  });

  it('inviting someone already invited renews the invitation', () => {
    const g = given(create(), join(carol), setRole(alice, carol, 'admin'), invite(alice, bob));
    expect(types(g.when(invite(carol, bob)))).toEqual(['MemberInvited']);
    expect(g.then(invite(carol, bob))!.invitations.get(bob.userId)?.byUserId).toBe(carol.userId);
  });

  it('invitations end when accepted, declined, the invitee banned, or the room deleted', () => {
    const g = given(create(), invite(alice, bob));
    expect(g.then(accept(bob))!.invitations.has(bob.userId)).toBe(false);
    expect(g.then(decline(bob))!.invitations.has(bob.userId)).toBe(false);
    expect(g.then(ban(alice, bob))!.invitations.has(bob.userId)).toBe(false);
    expect(g.then(del(alice))!.invitations.size).toBe(0);
  });
});

describe('rooms - accept and decline', () => {
  it('accepting makes a member; the member limit applies (ROOM_FULL)', () => {
    expect(types(given(create(), invite(alice, bob)).when(accept(bob)))).toEqual(['MemberJoined']);
    expect(given(create({ memberLimit: 2 }), invite(alice, bob), join(carol)).when(accept(bob)).error).toBe('ROOM_FULL');
  });

  it('declining: InvitationDeclined, and the invitation is gone', () => {
    const g = given(create(), invite(alice, bob));
    expect(g.when(decline(bob)).events.map((e) => [e.type, e.payload])).toEqual([
      ['InvitationDeclined', { roomId: R, userId: bob.userId, username: bob.username }],
    ]);
    expect(given(create(), invite(alice, bob), decline(bob)).when(accept(bob)).error).toBe('NOT_FOUND');
  });

  it('either without an invitation is NOT_FOUND', () => {
    expect(given(create()).when(accept(bob)).error).toBe('NOT_FOUND');
    expect(given(create()).when(decline(bob)).error).toBe('NOT_FOUND');
  });
});

describe('rooms - kick', () => {
  const staffed = () => given(create(), join(bob), join(carol), join(dave), setRole(alice, bob, 'admin'), setRole(alice, dave, 'admin'));

  it('an admin kicks a member: removed, and may come back', () => {
    const g = staffed();
    const o = g.when(kick(bob, carol));
    expect(o.events.map((e) => [e.type, e.payload])).toEqual([
      [
        'MemberKicked',
        { roomId: R, userId: carol.userId, username: 'carol', byUserId: bob.userId, byUsername: bob.username, reason: 'spam' },
      ],
    ]);
    const after = g.then(kick(bob, carol))!;
    expect(after.members.has(carol.userId)).toBe(false);
    expect(types(decideOn(after, join(carol)))).toEqual(['MemberJoined']);
  });

  it('admins cannot kick the owner or other admins; the owner can kick admins', () => {
    const g = staffed();
    expect(g.when(kick(bob, alice)).error).toBe('FORBIDDEN');
    expect(g.when(kick(bob, dave)).error).toBe('FORBIDDEN');
    expect(types(g.when(kick(alice, dave)))).toEqual(['MemberKicked']);
  });

  it('a member asking is FORBIDDEN; a target who is not a member is NOT_MEMBER', () => {
    expect(staffed().when(kick(carol, alice)).error).toBe('FORBIDDEN');
    expect(staffed().when(kick(alice, erin)).error).toBe('NOT_MEMBER');
  });
});

describe('rooms - ban and unban', () => {
  it('removes the member, cancels an invitation, refuses joins and invitations until unbanned', () => {
    const g = given(create(), join(bob), ban(alice, bob));
    expect(g.room.members.has(bob.userId)).toBe(false);
    expect(g.room.bans.get(bob.userId)).toEqual(
      expect.objectContaining({ byUserId: alice.userId, reason: 'rude', username: bob.username, time: '2026-01-02T03:04:05.000Z' }),
    );
    expect(g.when(join(bob)).error).toBe('BANNED');
    expect(g.when(invite(alice, bob)).error).toBe('BANNED');
    const unbanned = g.then(unban(alice, bob))!;
    expect(types(decideOn(unbanned, join(bob)))).toEqual(['MemberJoined']);
  });

  it('a user who is not a member may be banned', () => {
    expect(
      given(create())
        .when(ban(alice, erin))
        .events.map((e) => e.type),
    ).toEqual(['MemberBanned']);
  });

  it('same targets as kick: not the owner, admins only by the owner; members may not ban', () => {
    const g = given(create(), join(bob), join(carol), join(dave), setRole(alice, bob, 'admin'), setRole(alice, dave, 'admin'));
    expect(g.when(ban(bob, alice)).error).toBe('FORBIDDEN');
    expect(g.when(ban(bob, dave)).error).toBe('FORBIDDEN');
    expect(g.when(ban(carol, erin)).error).toBe('FORBIDDEN');
    expect(types(g.when(ban(alice, dave)))).toEqual(['MemberBanned']);
  });

  it('unban: admins only; someone not banned is NOT_FOUND', () => {
    const g = given(create(), join(carol), ban(alice, bob));
    expect(g.when(unban(carol, bob)).error).toBe('FORBIDDEN');
    expect(g.when(unban(alice, erin)).error).toBe('NOT_FOUND');
  });
});

describe('rooms - settings', () => {
  it('admins change them; the event carries the whole new settings', () => {
    const g = given(create({ topic: 'old' }), join(bob), setRole(alice, bob, 'admin'));
    const o = g.when(update(bob, { topic: 'new', postPolicy: 'admins' }));
    expect(o.events[0].payload).toEqual({
      roomId: R,
      name: 'Lounge',
      topic: 'new',
      visibility: 'public',
      postPolicy: 'admins',
      memberLimit: 5,
      slowModeSeconds: 0,
      byUserId: bob.userId,
      byUsername: bob.username,
    });
    expect(g.then(update(bob, { name: 'Salon' }))!.name).toBe('Salon');
    expect(given(create(), join(carol)).when(update(carol, { topic: 'x' })).error).toBe('FORBIDDEN');
  });

  it('lowering the limit below the member count keeps everyone but admits nobody new until below it', () => {
    const g = given(create(), join(bob), join(carol), update(alice, { memberLimit: 2 }));
    expect(g.room.members.size).toBe(3);
    expect(g.when(join(dave)).error).toBe('ROOM_FULL');
    expect(
      given(create(), join(bob), join(carol), update(alice, { memberLimit: 2 }), leave(carol), leave(bob)).when(join(dave)).error,
    ).toBeNull();
  });
});

describe('rooms - slow mode', () => {
  const now = ctx.now().getTime();
  const post = (who: typeof alice, lastPostMs: number | null) => ({
    roomId: R,
    ...who,
    clientMsgId: 'c2',
    messageId: '22222222-2222-4222-8222-222222222222',
    body: 'again',
    lastPostMs,
  });
  const attempt = (room: Room, p: ReturnType<typeof post>) => {
    try {
      decidePost(room, p, ctx);
      return null;
    } catch (err) {
      return { code: (err as ChatError).code, message: (err as ChatError).message };
    }
  };
  const slow = () => given(create(), join(bob), join(carol), setRole(alice, carol, 'admin'), update(alice, { slowModeSeconds: 30 }));

  it('admins set it; the event carries it and the room keeps it', () => {
    const o = given(create(), join(carol), setRole(alice, carol, 'admin')).when(update(carol, { slowModeSeconds: 30 }));
    expect(o.events[0]).toEqual(expect.objectContaining({ type: 'RoomSettingsChanged', version: 2 }));
    expect(o.events[0].payload).toEqual(expect.objectContaining({ slowModeSeconds: 30 }));
    expect(slow().room.slowModeSeconds).toBe(30);
    expect(given(create(), join(bob)).when(update(bob, { slowModeSeconds: 30 })).error).toBe('FORBIDDEN');
  });

  it.each([-1, 1.5, 21_601])('slowModeSeconds %p is BAD_REQUEST', (n) => {
    expect(given(create()).when(update(alice, { slowModeSeconds: n }))).toEqual(
      expect.objectContaining({ error: 'BAD_REQUEST', message: 'slowModeSeconds must be 0 (off) or 1-21600' }),
    );
  });

  it('a member posting within the period is RATE_LIMITED with the wait; after it, the post passes', () => {
    expect(attempt(slow().room, post(bob, now - 10_000))).toEqual({
      code: 'RATE_LIMITED',
      message: 'slow mode: one message per 30 s in "lounge"; wait 20 s; retryAfterMs=20000',
    });
    expect(attempt(slow().room, post(bob, now - 30_000))).toBeNull();
    expect(attempt(slow().room, post(bob, null))).toBeNull();
  });

  it('the owner and admins are exempt', () => {
    expect(attempt(slow().room, post(alice, now - 1))).toBeNull();
    expect(attempt(slow().room, post(carol, now - 1))).toBeNull();
  });

  it('0 is off', () => {
    const off = given(create(), join(bob), update(alice, { slowModeSeconds: 30 }), update(alice, { slowModeSeconds: 0 }));
    expect(attempt(off.room, post(bob, now - 1))).toBeNull();
  });

  it('a room is created with it (v2), 0 by default', () => {
    expect(given(create({ slowModeSeconds: 5 })).room.slowModeSeconds).toBe(5);
    expect(given().when(create({ slowModeSeconds: 5 })).events[0]).toEqual(expect.objectContaining({ type: 'RoomCreated', version: 2 }));
    expect(given().when(create({ slowModeSeconds: 21_601 })).error).toBe('BAD_REQUEST');
  });
});

describe('rooms - asking for what already holds', () => {
  it('settings equal to the current ones, or a role the member has, append nothing', () => {
    const g = given(create({ topic: 'same' }), join(bob), setRole(alice, bob, 'admin'));
    expect(g.when(update(alice, { topic: 'same', memberLimit: 5 })).events).toEqual([]);
    expect(g.when(setRole(alice, bob, 'admin')).events).toEqual([]);
    expect(g.when(update(alice, { topic: 'changed' })).events.map((e) => e.type)).toEqual(['RoomSettingsChanged']);
  });
});

describe('rooms - roles and transfer', () => {
  it('the owner makes a member an admin and back', () => {
    const g = given(create(), join(bob));
    expect(roles(g.then(setRole(alice, bob, 'admin')))).toEqual({ alice: 'owner', [bob.username]: 'admin' });
    expect(roles(given(create(), join(bob), setRole(alice, bob, 'admin')).then(setRole(alice, bob, 'member')))[bob.username]).toBe(
      'member',
    );
  });

  it('an admin asking is FORBIDDEN; a non-member target NOT_MEMBER; the owner role only moves by transfer', () => {
    const g = given(create(), join(bob), join(carol), setRole(alice, bob, 'admin'));
    expect(g.when(setRole(bob, carol, 'admin')).error).toBe('FORBIDDEN');
    expect(g.when(setRole(alice, erin, 'admin')).error).toBe('NOT_MEMBER');
    expect(g.when(setRole(alice, alice, 'member')).error).toBe('FORBIDDEN');
  });

  it('transfer: the member becomes owner and the old owner an admin; one owner', () => {
    const g = given(create(), join(bob));
    const after = g.then(transfer(alice, bob))!;
    expect(after.ownerId).toBe(bob.userId);
    expect(roles(after)).toEqual({ alice: 'admin', [bob.username]: 'owner' });
    expect([...after.members.values()].filter((m) => m.role === 'owner')).toHaveLength(1);
  });

  it('transfer: only the owner (FORBIDDEN), only to a member (NOT_MEMBER)', () => {
    const g = given(create(), join(bob), setRole(alice, bob, 'admin'));
    expect(g.when(transfer(bob, bob)).error).toBe('FORBIDDEN');
    expect(g.when(transfer(alice, erin)).error).toBe('NOT_MEMBER');
  });
});

describe('rooms - delete', () => {
  it('only the owner deletes (admins FORBIDDEN); afterwards every operation is NOT_FOUND as for a missing room', () => {
    const g = given(create(), join(bob), setRole(alice, bob, 'admin'));
    expect(g.when(del(bob)).error).toBe('FORBIDDEN');
    expect(g.when(del(alice)).events.map((e) => [e.type, e.payload])).toEqual([
      ['RoomDeleted', { roomId: R, reason: 'owner', byUserId: alice.userId, byUsername: 'alice' }],
    ]);
    const gone = g.then(del(alice))!;
    expect(gone).toEqual(expect.objectContaining({ deleted: true, ownerId: null }));
    expect(gone.members.size).toBe(0);
    for (const c of [join(carol), leave(bob), invite(alice, carol), kick(alice, bob), update(alice, { topic: 'x' }), del(alice)]) {
      expect(decideOrError(gone, c)).toEqual({ error: 'NOT_FOUND', message: missing });
    }
    const post = { roomId: R, ...alice, clientMsgId: 'c', messageId: '11111111-1111-4111-8111-111111111111', body: 'hi' };
    expect(() => decidePost(gone, post, ctx)).toThrow(roomNotFound(R));
    expect(canSee(gone, alice.userId)).toBe(false);
  });
});

describe('rooms - leave and owner succession', () => {
  it('a member leaves; a non-member of a public room gets NOT_MEMBER', () => {
    const g = given(create(), join(bob));
    expect(g.when(leave(bob)).events.map((e) => [e.type, e.payload])).toEqual([
      ['MemberLeft', { roomId: R, userId: bob.userId, username: bob.username, successorId: null, successorName: null }],
    ]);
    expect(g.when(leave(carol)).error).toBe('NOT_MEMBER');
  });

  it('the owner leaving hands the room to the longest-standing admin, even over earlier members', () => {
    const g = given(create(), join(bob), join(carol), join(dave), setRole(alice, dave, 'admin'), setRole(alice, carol, 'admin'));
    expect(g.when(leave(alice)).events[0].payload).toEqual(expect.objectContaining({ successorId: carol.userId, successorName: 'carol' }));
    const after = g.then(leave(alice))!;
    expect(after.ownerId).toBe(carol.userId);
    expect(roles(after)).toEqual({ [bob.username]: 'member', carol: 'owner', dave: 'admin' });
  });

  it('without admins, the longest-standing member (earliest current membership: a rejoin starts over)', () => {
    const g = given(create(), join(bob), join(carol), leave(bob), join(bob));
    expect(g.when(leave(alice)).events[0].payload).toEqual(expect.objectContaining({ successorId: carol.userId }));
  });

  it('the last member of a private room leaving deletes it (RoomDeleted, reason empty)', () => {
    const g = given(create({ visibility: 'private' }));
    expect(g.when(leave(alice)).events.map((e) => [e.type, e.payload])).toEqual([
      ['RoomDeleted', { roomId: R, reason: 'empty', byUserId: alice.userId, byUsername: 'alice' }],
    ]);
    expect(g.then(leave(alice))!.deleted).toBe(true);
  });

  it('the last member of a public room leaving leaves it ownerless and listed; the next joiner owns it', () => {
    const g = given(create(), leave(alice));
    expect(g.room).toEqual(expect.objectContaining({ deleted: false, ownerId: null, visibility: 'public' }));
    expect(g.room.members.size).toBe(0);
    expect(g.when(join(bob)).events[0].payload).toEqual(expect.objectContaining({ role: 'owner' }));
    const after = g.then(join(bob))!;
    expect(after.ownerId).toBe(bob.userId);
    expect(types(decideOn(after, del(bob)))).toEqual(['RoomDeleted']);
  });

  it('a private room non-member leaving gets NOT_FOUND', () => {
    expect(given(create({ visibility: 'private' })).when(leave(bob))).toEqual({ events: [], error: 'NOT_FOUND', message: missing });
  });
});

describe('rooms - posting', () => {
  const post = (who: typeof alice, roomId = R) => ({
    roomId,
    ...who,
    clientMsgId: 'c1',
    messageId: '11111111-1111-4111-8111-111111111111',
    body: '你好',
  });
  const refusal = (room: Room | null, p: ReturnType<typeof post>) => {
    try {
      decidePost(room, p, ctx);
      return null;
    } catch (err) {
      return { code: (err as ChatError).code, message: (err as ChatError).message };
    }
  };

  it('a member posts: MessagePosted carries the given message id', () => {
    const e = decidePost(given(create()).room, post(alice), ctx);
    expect(e).toEqual(
      expect.objectContaining({
        id: post(alice).messageId,
        type: 'MessagePosted',
        payload: expect.objectContaining({ body: '你好', senderName: 'alice' }),
      }),
    );
  });

  it('posting policy admins: plain members FORBIDDEN; owner and admins post', () => {
    const g = given(create({ postPolicy: 'admins' }), join(bob), join(carol), setRole(alice, carol, 'admin'));
    expect(refusal(g.room, post(bob))?.code).toBe('FORBIDDEN');
    expect(refusal(g.room, post(alice))).toBeNull();
    expect(refusal(g.room, post(carol))).toBeNull();
  });

  it('non-members: NOT_MEMBER in public rooms, the missing-room NOT_FOUND in private ones and everywhere for missing rooms', () => {
    expect(refusal(given(create()).room, post(bob))?.code).toBe('NOT_MEMBER');
    expect(refusal(given(create({ visibility: 'private' }), invite(alice, bob)).room, post(bob))).toEqual({
      code: 'NOT_FOUND',
      message: missing,
    });
    expect(refusal(null, post(bob))).toEqual({ code: 'NOT_FOUND', message: missing });
  });

  it('a kicked member can no longer post', () => {
    expect(refusal(given(create(), join(bob), kick(alice, bob)).room, post(bob))?.code).toBe('NOT_MEMBER');
  });

  it('MessagePosted v2: mentions are the current members named in the body, each once; a non-member named mentions nobody', () => {
    const g = given(create(), join(bob), join(carol), join(dave), leave(dave));
    const e = decidePost(g.room, { ...post(alice), body: '@CAROL look, @小明你好 @carol again, @dave left, me@carol.org' }, ctx);
    expect(e.version).toBe(2);
    expect(e.payload.mentions).toEqual([
      { userId: carol.userId, username: 'carol' },
      { userId: bob.userId, username: '小明' },
    ]);
    expect(e.payload.replyTo).toBeNull();
    expect(e.payload.body).toBe('@CAROL look, @小明你好 @carol again, @dave left, me@carol.org');
  });

  it('a reply carries the snapshot it was given', () => {
    const replyTo = {
      messageId: '22222222-2222-4222-8222-222222222222',
      position: 7,
      senderId: bob.userId,
      senderName: '小明',
      excerpt: 'hi',
    };
    expect(decidePost(given(create()).room, { ...post(alice), replyTo }, ctx).payload.replyTo).toEqual(replyTo);
  });

  it('in a conversation the other participant can be mentioned', () => {
    const g = given(open(alice, bob));
    const e = decidePost(g.room, { ...post(alice, dm(alice, bob)), body: '@小明 hi @carol' }, ctx);
    expect(e.payload.mentions).toEqual([{ userId: bob.userId, username: '小明' }]);
  });
});

describe('rooms - retention', () => {
  it('the owner and admins set or clear the period; setting the same period appends nothing', () => {
    const g = given(create(), join(bob), join(carol), setRole(alice, bob, 'admin'));
    const [set] = g.when(retention(bob, 30)).events;
    expect(set).toEqual(
      expect.objectContaining({
        type: 'RoomRetentionSet',
        payload: { roomId: R, days: 30, byUserId: bob.userId, byUsername: '小明' },
      }),
    );
    const kept = given(create(), join(bob), setRole(alice, bob, 'admin'), retention(alice, 30));
    expect(kept.room.retentionDays).toBe(30);
    expect(kept.when(retention(bob, 30)).events).toEqual([]);
    expect(kept.when(retention(alice, null)).events.map((e) => e.payload)).toEqual([
      { roomId: R, days: null, byUserId: alice.userId, byUsername: 'alice' },
    ]);
    expect(given(create(), retention(alice, 7), retention(alice, null)).room.retentionDays).toBeNull();
  });

  it('errors: a plain member FORBIDDEN, a non-member NOT_MEMBER, an outsider of a private room NOT_FOUND, days out of range BAD_REQUEST', () => {
    const g = given(create(), join(bob));
    expect(g.when(retention(bob, 30)).error).toBe('FORBIDDEN');
    expect(g.when(retention(carol, 30)).error).toBe('NOT_MEMBER');
    expect(given(create({ visibility: 'private' })).when(retention(carol, 30))).toEqual({
      events: [],
      error: 'NOT_FOUND',
      message: missing,
    });
    expect(given(create({ visibility: 'private' }), invite(alice, carol)).when(retention(carol, 30)).error).toBe('NOT_MEMBER');
    expect(given().when(retention(alice, 30)).error).toBe('NOT_FOUND');
    expect(given(create(), del(alice)).when(retention(alice, 30)).error).toBe('NOT_FOUND');
    for (const days of [0, -1, 36_501, 1.5]) expect(given(create()).when(retention(alice, days)).error).toBe('BAD_REQUEST');
  });

  it('the default room has no admins: nobody sets its period', () => {
    const g = given(defaultRoomCommand('General'), join(bob, 'general'));
    expect(g.when(retention(bob, 30, 'general')).error).toBe('FORBIDDEN');
  });

  it('a conversation: FORBIDDEN to its participants, the missing-room answer to anyone else', () => {
    const g = given(open(alice, bob));
    expect(g.when(retention(alice, 30, dm(alice, bob))).error).toBe('FORBIDDEN');
    expect(g.when(retention(carol, 30, dm(alice, bob))).error).toBe('NOT_FOUND');
  });
});

describe('conversations', () => {
  const id = dm(alice, bob);

  it('opening: ConversationOpened with both participants, userA < userB, both members', () => {
    const o = given().when(open(bob, alice));
    const [a, b] = [alice, bob].sort((x, y) => (x.userId < y.userId ? -1 : 1));
    expect(o.events.map((e) => [e.type, e.payload])).toEqual([
      [
        'ConversationOpened',
        {
          roomId: id,
          userAId: a.userId,
          userAName: a.username,
          userBId: b.userId,
          userBName: b.username,
          openedById: bob.userId,
          reason: 'message',
        },
      ],
    ]);
    const room = evolve(null, o.events[0], 1)!;
    expect(room).toEqual(expect.objectContaining({ kind: 'direct', roomId: id, ownerId: null }));
    expect([...room.members.keys()].sort()).toEqual([a.userId, b.userId]);
  });

  it('opening an open conversation appends nothing (racing first messages open it once)', () => {
    expect(given(open(alice, bob)).when(open(bob, alice)).events).toEqual([]);
  });

  it('to yourself is BAD_REQUEST; an id that is not the pair is NOT_FOUND', () => {
    expect(given().when({ type: 'OpenConversation', roomId: dm(alice, alice), actor: alice, peer: alice }).error).toBe('BAD_REQUEST');
    expect(given().when({ type: 'OpenConversation', roomId: dm(alice, carol), actor: alice, peer: bob }).error).toBe('NOT_FOUND');
  });

  it('nobody else reads or posts: non-participants get the missing-room NOT_FOUND', () => {
    const g = given(open(alice, bob));
    expect(canSee(g.room, carol.userId)).toBe(false);
    expect(() =>
      decidePost(g.room, { roomId: id, ...carol, clientMsgId: 'c', messageId: '11111111-1111-4111-8111-111111111111', body: 'x' }, ctx),
    ).toThrow(roomNotFound(id));
  });

  it('cannot be joined, left, invited to or managed: NOT_FOUND, as for a missing room', () => {
    const g = given(open(alice, bob));
    const message = roomNotFound(id).message;
    const on = <C extends RoomCommand>(c: C): C => ({ ...c, roomId: id });
    for (const c of [
      join(carol),
      join(alice),
      leave(alice),
      invite(alice, carol),
      accept(carol),
      kick(alice, bob),
      ban(alice, bob),
      update(alice, { name: 'x' }),
      setRole(alice, bob, 'admin'),
      transfer(alice, bob),
      del(alice),
    ]) {
      expect({ c: c.type, ...g.when(on(c)) }).toEqual({ c: c.type, events: [], error: 'NOT_FOUND', message });
    }
  });

  it('blocking someone you never wrote to opens the conversation (by a block: only the blocker is told), then blocks', () => {
    const first = given().when(block(alice, bob)).events;
    expect(first.map((e) => e.type)).toEqual(['ConversationOpened', 'UserBlocked']);
    expect(first[0].payload).toEqual(expect.objectContaining({ openedById: alice.userId, reason: 'block' }));
    const g = given(open(alice, bob));
    expect(g.when(block(alice, bob)).events.map((e) => e.payload)).toEqual([
      { roomId: id, blockerId: alice.userId, blockedId: bob.userId },
    ]);
  });

  it('while either side blocks the other, messages between them are refused with BLOCKED, to both; unblock restores', () => {
    const post = (who: typeof alice) => ({
      roomId: id,
      ...who,
      clientMsgId: 'c',
      messageId: '11111111-1111-4111-8111-111111111111',
      body: 'x',
    });
    const blocked = given(block(bob, alice));
    for (const who of [alice, bob])
      expect(() => decidePost(blocked.room, post(who), ctx)).toThrow(expect.objectContaining({ code: 'BLOCKED' }));
    const unblocked = given(block(bob, alice), unblock(bob, alice));
    expect(decidePost(unblocked.room, post(alice), ctx).type).toBe('MessagePosted');
    // Both blocking: one unblock is not enough.
    const both = given(block(bob, alice), block(alice, bob), unblock(bob, alice));
    expect(() => decidePost(both.room, post(alice), ctx)).toThrow(expect.objectContaining({ code: 'BLOCKED' }));
  });

  it('blocking twice or unblocking someone not blocked appends nothing; blocking yourself is BAD_REQUEST', () => {
    expect(given(block(alice, bob)).when(block(alice, bob)).events).toEqual([]);
    expect(given(open(alice, bob)).when(unblock(alice, bob)).events).toEqual([]);
    expect(given().when(block(alice, alice)).error).toBe('BAD_REQUEST');
  });
});

describe('room - what decide writes, the chat decoder reads back', () => {
  it('every room event type is emitted by some decision and decodes to itself', () => {
    const staffed = given(create(), join(bob), join(carol), setRole(alice, bob, 'admin'), invite(alice, dave), ban(alice, erin));
    const events = [
      ...given().when(create()).events,
      ...given().when(defaultRoomCommand('General')).events,
      ...staffed.when(join(u(0xf, 'frank'))).events,
      ...staffed.when(leave(alice)).events,
      ...staffed.when(invite(bob, u(0xf, 'frank'))).events,
      ...staffed.when(decline(dave)).events,
      ...staffed.when(kick(bob, carol)).events,
      ...staffed.when(ban(alice, carol)).events,
      ...staffed.when(unban(alice, erin)).events,
      ...staffed.when(setRole(alice, carol, 'admin')).events,
      ...staffed.when(transfer(alice, bob)).events,
      ...staffed.when(update(alice, { topic: 't' })).events,
      ...staffed.when(retention(bob, 30)).events,
      ...staffed.when(del(alice)).events,
      ...given().when(block(alice, bob)).events,
      ...given(block(alice, bob)).when(unblock(alice, bob)).events,
    ];
    expect(new Set(events.map((e) => e.type))).toEqual(new Set(roomEventTypes));
    for (const e of events) expect(decodeChatEvent(JSON.parse(JSON.stringify(e)))).toEqual({ ok: true, event: e });
  });
});

describe('room - evolve', () => {
  it('does not mutate the previous state', () => {
    const g = given(create());
    const before = g.room;
    const [joined] = g.when(join(bob)).events;
    const after = evolve(before, joined, 2)!;
    expect(before.members.size).toBe(1);
    expect(after.members.size).toBe(2);
  });

  it('in place gives the same state as the pure fold', () => {
    const commands = [create(), join(bob), join(carol), setRole(alice, bob, 'admin'), invite(bob, dave), ban(alice, carol), leave(alice)];
    let pure: Room | null = null;
    let inPlace: Room | null = null;
    let position = 0;
    for (const c of commands)
      for (const e of decide(pure, c, ctx)) {
        position++;
        pure = evolve(pure, e, position);
        inPlace = evolveInPlace(inPlace, e, position);
      }
    expect(inPlace).toEqual(pure);
    expect(pure!.version).toBe(position);
  });

  it('events before the room exists make no room; a deleted room only moves its version', () => {
    const [joined] = given(create()).when(join(bob)).events;
    expect(evolve(null, joined, 1)).toBeNull();
    const gone = given(create(), del(alice)).room;
    expect(evolve(gone, joined, 9)).toEqual({ ...gone, version: 9 });
  });

  it('members are listed owner, admins, members, each by when they joined', () => {
    const g = given(create(), join(bob), join(carol), join(dave), setRole(alice, dave, 'admin'));
    expect(orderedMembers(g.room).map((m) => m.username)).toEqual(['alice', 'dave', bob.username, 'carol']);
  });
});

function decideOn(room: Room, cmd: RoomCommand): Outcome {
  try {
    return { events: decide(room, cmd, ctx), error: null, message: null };
  } catch (err) {
    return { events: [], error: (err as ChatError).code, message: (err as ChatError).message };
  }
}

function decideOrError(room: Room, cmd: RoomCommand) {
  const { error, message } = decideOn(room, cmd);
  return { error, message };
}
