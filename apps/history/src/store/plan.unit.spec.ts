import {
  createSubjects,
  makeEvent,
  type EventContext,
  type MemberJoined,
  type MemberLeft,
  type MessagePosted,
  type RoomCreated,
} from '@chat/contracts';
import type { StreamEvent } from './events';
import { planBatch, route } from './plan';

const s = createSubjects('unit');
const ann = '11111111-1111-4111-8111-111111111111';
const bob = '33333333-3333-4333-8333-333333333333';
const ctx: EventContext = {
  now: () => new Date('2030-01-02T03:04:05.678Z'),
  newId: () => '00000000-0000-4000-8000-000000000001',
  actor: { kind: 'user', id: ann },
  correlationId: 'c1',
};

const posted = (messageId: string) =>
  makeEvent<MessagePosted>(ctx, 'MessagePosted', 1, {
    messageId,
    roomId: 'general',
    senderId: ann,
    senderName: 'ann',
    clientMsgId: 'c-1',
    body: 'hello',
  });
const created = (roomId: string, ownerId: string | null, visibility: 'public' | 'private' = 'private') =>
  makeEvent<RoomCreated>(ctx, 'RoomCreated', 1, {
    roomId,
    name: roomId,
    topic: '',
    visibility,
    postPolicy: 'members',
    memberLimit: 10,
    ownerId,
    ownerName: ownerId ? 'ann' : null,
  });
const joined = (roomId: string, userId: string) =>
  makeEvent<MemberJoined>(ctx, 'MemberJoined', 1, { roomId, userId, username: 'bob', role: 'member' });
const left = (roomId: string, userId: string) => makeEvent<MemberLeft>(ctx, 'MemberLeft', 1, { roomId, userId, username: 'bob' });
const msg = (position: number, data: unknown): StreamEvent => ({ subject: s.chat.roomMessages('general'), position, data });
const meta = <T extends { payload: { roomId: string } }>(
  position: number,
  data: T,
  subject = s.chat.roomMeta(data.payload.roomId),
): StreamEvent => ({
  subject,
  position,
  data,
});

describe('history plan - route', () => {
  it('routes room events to membership: RoomCreated makes the owner a member', () => {
    expect(route(meta(3, created('r', ann)), s.chat)).toEqual({
      kind: 'membership',
      change: {
        position: 3,
        room: { roomId: 'r', visibility: 'private', createdPosition: 3 },
        member: { roomId: 'r', userId: ann, member: true, role: 'owner', position: 3 },
      },
    });
    expect(route(meta(4, created('general', null, 'public')), s.chat)).toEqual({
      kind: 'membership',
      change: { position: 4, room: { roomId: 'general', visibility: 'public', createdPosition: 4 } },
    });
    expect(route(meta(5, left('r', bob)), s.chat)).toEqual({
      kind: 'membership',
      change: { position: 5, member: { roomId: 'r', userId: bob, member: false, role: null, position: 5 } },
    });
  });

  it.each([
    [
      'a room event on a message subject',
      meta(6, joined('r', bob), s.chat.roomMessages('r')),
      /MemberJoined for room "r" stored on subject/,
    ],
    ['a room event on another room', meta(6, joined('r', bob), s.chat.roomMeta('other')), /stored on subject/],
    ['a bad user id', meta(6, joined('r', 'nobody')), /MemberJoined: payload.userId must be a UUID/],
    ['a bad role', meta(6, { ...joined('r', bob), payload: { ...joined('r', bob).payload, role: 'king' as never } }), /role must be/],
    [
      'a bad visibility',
      meta(6, { ...created('r', ann), payload: { ...created('r', ann).payload, visibility: 'secret' as never } }),
      /visibility/,
    ],
    ['a newer version', meta(6, { ...left('r', bob), version: 2 }), /unsupported MemberLeft version 2/],
  ])('dead-letters %s', (_what, e, error) => {
    const out = route(e, s.chat);
    expect(out.kind).toBe('dead');
    expect(out.kind === 'dead' && out.letter.error).toMatch(error);
  });
});

describe('history plan - planBatch', () => {
  const batch = [
    msg(12, posted('22222222-2222-4222-8222-000000000012')),
    meta(10, joined('general', bob)),
    msg(11, 'garbage'),
    msg(13, posted('22222222-2222-4222-8222-000000000013')),
  ];

  it('asks every read model for its part and moves the checkpoint to the highest position', () => {
    const plan = planBatch(batch, 9, s.chat);
    expect(plan.fresh).toEqual({ messages: 2, membership: 1, deadLetters: 1 });
    expect(plan.replayed).toBe(0);
    expect(plan.parts.messages.inserts.map((m) => m.position)).toEqual([12, 13]);
    expect(plan.parts.membership).toEqual({
      rooms: [],
      members: [{ roomId: 'general', userId: bob, member: true, role: 'member', position: 10 }],
    });
    expect(plan.deadLetters.map((d) => d.position)).toEqual([11]);
    expect(plan.checkpoint).toBe(13);
  });

  it('counts events at or below the checkpoint as replays and never moves the checkpoint back', () => {
    const plan = planBatch(batch, 12, s.chat);
    expect(plan.fresh).toEqual({ messages: 1, membership: 0, deadLetters: 0 });
    expect(plan.replayed).toBe(3);
    expect(plan.checkpoint).toBe(13);
    expect(planBatch(batch, 50, s.chat).checkpoint).toBe(50);
  });

  it('plans the same rows for a replay, so re-applying it is a no-op', () => {
    const first = planBatch(batch, 0, s.chat);
    const again = planBatch(batch, first.checkpoint, s.chat);
    expect(again.parts).toEqual(first.parts);
    expect(again.deadLetters).toEqual(first.deadLetters);
    expect(again.fresh).toEqual({ messages: 0, membership: 0, deadLetters: 0 });
  });

  it('takes a position delivered twice in one batch once', () => {
    const plan = planBatch([batch[0], batch[0]], 0, s.chat);
    expect(plan.parts.messages.inserts).toHaveLength(1);
    expect(plan.fresh.messages).toBe(1);
  });

  it('membership: one row per (room, user), the newest event wins, whatever the delivery order or repeats', () => {
    const events = [meta(20, created('r', ann)), meta(21, joined('r', bob)), meta(22, left('r', bob)), meta(23, left('r', ann))];
    const expected = {
      rooms: [{ roomId: 'r', visibility: 'private', createdPosition: 20 }],
      members: [
        { roomId: 'r', userId: ann, member: false, role: null, position: 23 },
        { roomId: 'r', userId: bob, member: false, role: null, position: 22 },
      ],
    };
    const byUser = (p: ReturnType<typeof planBatch>) => ({
      ...p.parts.membership,
      members: [...p.parts.membership.members].sort((a, b) => a.userId.localeCompare(b.userId)),
    });
    expect(byUser(planBatch(events, 0, s.chat))).toEqual(expected);
    expect(byUser(planBatch([...events].reverse(), 0, s.chat))).toEqual(expected);
    expect(byUser(planBatch([...events, ...events], 0, s.chat))).toEqual(expected);
  });
});
