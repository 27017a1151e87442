import { ChatError, decodeChatEvent, type EventContext, type RoomEvent } from '@chat/contracts';
import { decide, decidePost, defaultRoomCommand, type RoomCommand } from './room.decide';
import { evolve, summarize, type Room } from './room';

const alice = { userId: '00000000-0000-4000-8000-00000000000a', username: 'alice' };
const bob = { userId: '00000000-0000-4000-8000-00000000000b', username: '小明' };
const carol = { userId: '00000000-0000-4000-8000-00000000000c', username: 'carol' };

let ids = 0;
const ctx: EventContext = {
  now: () => new Date('2026-01-02T03:04:05.000Z'),
  newId: () => `id-${++ids}`,
  actor: { kind: 'user', id: alice.userId },
  correlationId: 'corr-1',
};

const create = (over: Partial<Extract<RoomCommand, { type: 'CreateRoom' }>> = {}): RoomCommand => ({
  type: 'CreateRoom',
  roomId: 'lounge',
  name: 'Lounge',
  topic: '',
  visibility: 'public',
  postPolicy: 'members',
  memberLimit: 3,
  owner: alice,
  ...over,
});

/** given(events).when(command) -> events or error, in the emmett style. */
function given(...commands: RoomCommand[]) {
  let room: Room | null = null;
  let position = 0;
  for (const c of commands) for (const e of decide(room, c, ctx)) room = evolve(room, e, ++position);
  return {
    room,
    when: (cmd: RoomCommand) => {
      try {
        return { events: decide(room, cmd, ctx) as RoomEvent[], error: null };
      } catch (err) {
        return { events: [] as RoomEvent[], error: (err as ChatError).code };
      }
    },
  };
}

describe('room - decide', () => {
  it('create - emits RoomCreated with envelope metadata; the owner becomes a member', () => {
    const { events } = given().when(create());
    expect(events).toEqual([
      expect.objectContaining({
        type: 'RoomCreated',
        version: 1,
        time: '2026-01-02T03:04:05.000Z',
        correlationId: 'corr-1',
        causationId: null,
        actor: { kind: 'user', id: alice.userId },
        payload: expect.objectContaining({ roomId: 'lounge', ownerId: alice.userId, ownerName: 'alice', memberLimit: 3 }),
      }),
    ]);
    const room = evolve(null, events[0], 1)!;
    expect(summarize(room, alice.userId)).toEqual(expect.objectContaining({ memberCount: 1, myRole: 'owner' }));
  });

  it('create - an existing id is a CONFLICT', () => {
    expect(given(create()).when(create()).error).toBe('CONFLICT');
  });

  it('join - public room: MemberJoined as member', () => {
    const { events } = given(create()).when({ type: 'JoinRoom', roomId: 'lounge', ...bob });
    expect(events.map((e) => [e.type, e.payload])).toEqual([
      ['MemberJoined', { roomId: 'lounge', userId: bob.userId, username: '小明', role: 'member' }],
    ]);
  });

  it.each([
    ['missing room', [], 'NOT_FOUND'],
    ['already a member', [create(), { type: 'JoinRoom', roomId: 'lounge', ...bob } as RoomCommand], 'ALREADY_MEMBER'],
    ['private room', [create({ visibility: 'private' })], 'FORBIDDEN'],
    ['full room', [create({ memberLimit: 2 }), { type: 'JoinRoom', roomId: 'lounge', ...carol } as RoomCommand], 'ROOM_FULL'],
  ])('join - %s is refused', (_what, history, code) => {
    expect(given(...(history as RoomCommand[])).when({ type: 'JoinRoom', roomId: 'lounge', ...bob }).error).toBe(code);
  });

  it('leave - a member leaves; a non-member gets NOT_MEMBER', () => {
    const g = given(create(), { type: 'JoinRoom', roomId: 'lounge', ...bob });
    expect(g.when({ type: 'LeaveRoom', roomId: 'lounge', ...bob }).events[0].type).toBe('MemberLeft');
    expect(g.when({ type: 'LeaveRoom', roomId: 'lounge', ...carol }).error).toBe('NOT_MEMBER');
  });

  it('default room - public, system-owned', () => {
    const { events } = given().when(defaultRoomCommand('General'));
    expect(events[0].payload).toEqual(expect.objectContaining({ roomId: 'general', visibility: 'public', ownerId: null }));
    expect(evolve(null, events[0], 1)!.members.size).toBe(0);
  });
});

describe('room - what decide writes, the chat decoder reads back', () => {
  it('every room event decide emits decodes to itself', () => {
    const g = given(create(), { type: 'JoinRoom', roomId: 'lounge', ...bob });
    const events = [
      ...given().when(create()).events,
      ...given().when(defaultRoomCommand('General')).events,
      ...g.when({ type: 'JoinRoom', roomId: 'lounge', ...carol }).events,
      ...g.when({ type: 'LeaveRoom', roomId: 'lounge', ...bob }).events,
    ];
    expect(events.map((e) => e.type).sort()).toEqual(['MemberJoined', 'MemberLeft', 'RoomCreated', 'RoomCreated']);
    for (const e of events) expect(decodeChatEvent(JSON.parse(JSON.stringify(e)))).toEqual({ ok: true, event: e });
  });
});

describe('room - evolve', () => {
  it('skips nothing and counts members through join and leave', () => {
    const g = given(
      create(),
      { type: 'JoinRoom', roomId: 'lounge', ...bob },
      { type: 'JoinRoom', roomId: 'lounge', ...carol },
      { type: 'LeaveRoom', roomId: 'lounge', ...bob },
    );
    expect([...g.room!.members.keys()].sort()).toEqual([alice.userId, carol.userId].sort());
    expect(g.room!.version).toBe(4);
  });

  it('does not mutate the previous state', () => {
    const g = given(create());
    const before = g.room!;
    const [joined] = g.when({ type: 'JoinRoom', roomId: 'lounge', ...bob }).events;
    const after = evolve(before, joined, 2)!;
    expect(before.members.size).toBe(1);
    expect(after.members.size).toBe(2);
  });
});

describe('room - decidePost', () => {
  const post = { roomId: 'lounge', clientMsgId: 'c1', messageId: '11111111-1111-8111-8111-111111111111', body: '你好' };

  it('a member posts: MessagePosted carries the given message id', () => {
    const g = given(create());
    const e = decidePost(g.room, { ...post, ...alice }, ctx);
    expect(e).toEqual(
      expect.objectContaining({
        id: post.messageId,
        type: 'MessagePosted',
        payload: expect.objectContaining({ body: '你好', senderName: 'alice' }),
      }),
    );
  });

  it.each([
    ['non-member', create(), bob, 'NOT_MEMBER'],
    ['member in an admins-only room', create({ postPolicy: 'admins' }), bob, 'FORBIDDEN'],
  ])('%s is refused', (_what, c, who, code) => {
    const g = given(
      c as RoomCommand,
      ...(who === bob && code === 'FORBIDDEN' ? [{ type: 'JoinRoom', roomId: 'lounge', ...bob } as RoomCommand] : []),
    );
    expect(() => decidePost(g.room, { ...post, ...who }, ctx)).toThrow(expect.objectContaining({ code }));
  });

  it('the owner may post in an admins-only room', () => {
    const g = given(create({ postPolicy: 'admins' }));
    expect(decidePost(g.room, { ...post, ...alice }, ctx).type).toBe('MessagePosted');
  });

  it('missing room is NOT_FOUND', () => {
    expect(() => decidePost(null, { ...post, ...alice }, ctx)).toThrow(expect.objectContaining({ code: 'NOT_FOUND' }));
  });
});
