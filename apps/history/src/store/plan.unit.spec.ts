import { makeEvent, type MemberJoined, type MemberLeft, type MessagePosted, type RoomCreated } from '@chat/contracts';
import type { StreamEvent } from './events';
import { planBatch, route } from './plan';
import { ann, bob, fixedCtx as ctx, fixedTime as time, unitSubjects as s } from '../testing/unit-events';

const posted = (messageId: string) =>
  makeEvent<MessagePosted>(ctx, 'MessagePosted', 2, {
    replyTo: null,
    mentions: [],
    messageId,
    roomId: 'general',
    senderId: ann,
    senderName: 'ann',
    clientMsgId: 'c-1',
    body: 'hello',
  });
const created = (roomId: string, ownerId: string | null, visibility: 'public' | 'private' = 'private') =>
  makeEvent<RoomCreated>(ctx, 'RoomCreated', 2, {
    roomId,
    name: roomId,
    topic: '',
    visibility,
    postPolicy: 'members',
    memberLimit: 10,
    slowModeSeconds: 0,
    ownerId,
    ownerName: ownerId ? 'ann' : null,
  });
const joined = (roomId: string, userId: string) =>
  makeEvent<MemberJoined>(ctx, 'MemberJoined', 1, { roomId, userId, username: 'bob', role: 'member' });
const left = (roomId: string, userId: string) =>
  makeEvent<MemberLeft>(ctx, 'MemberLeft', 2, { roomId, userId, username: 'bob', successorId: null, successorName: null });
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
        room: {
          roomId: 'r',
          position: 3,
          created: true,
          deleted: false,
          kind: 'group',
          name: 'r',
          visibility: 'private',
          postPolicy: 'members',
        },
        members: [{ roomId: 'r', userId: ann, username: 'ann', member: true, role: 'owner', position: 3, time }],
      },
    });
    expect(route(meta(4, created('general', null, 'public')), s.chat)).toMatchObject({
      kind: 'membership',
      change: { position: 4, room: { roomId: 'general', created: true, visibility: 'public' }, members: [] },
    });
    expect(route(meta(5, left('r', bob)), s.chat)).toEqual({
      kind: 'membership',
      change: {
        position: 5,
        members: [{ roomId: 'r', userId: bob, username: 'bob', member: false, role: null, position: 5, time }],
        recheck: { roomId: 'r', from: 5, userId: bob },
      },
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
    ['a newer version', meta(6, { ...left('r', bob), version: 3 }), /unsupported MemberLeft version 3/],
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
      members: [{ roomId: 'general', userId: bob, username: 'bob', member: true, role: 'member', position: 10, time }],
      blocks: [],
      touchedRooms: ['general'],
      touchedMembers: [{ roomId: 'general', userId: bob }],
      rechecks: [{ roomId: 'general', from: 10, userId: bob }],
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

  it('membership: every event is a log row of its own; each touched room and (room, user) once, whatever the delivery order or repeats', () => {
    const events = [meta(20, created('r', ann)), meta(21, joined('r', bob)), meta(22, left('r', bob)), meta(23, left('r', ann))];
    const summary = (p: ReturnType<typeof planBatch>) => ({
      members: p.parts.membership.members.map((m) => `${m.position}:${m.userId === ann ? 'ann' : 'bob'}:${m.member}`),
      touched: p.parts.membership.touchedMembers.map((t) => t.userId).sort(),
      rooms: p.parts.membership.touchedRooms,
      rechecks: p.parts.membership.rechecks,
    });
    const expected = {
      members: ['20:ann:true', '21:bob:true', '22:bob:false', '23:ann:false'],
      touched: [ann, bob].sort(),
      rooms: ['r'],
      rechecks: [
        { roomId: 'r', from: 21, userId: bob },
        { roomId: 'r', from: 23, userId: ann },
      ],
    };
    expect(summary(planBatch(events, 0, s.chat))).toEqual(expected);
    expect(summary(planBatch([...events].reverse(), 0, s.chat))).toEqual(expected);
    expect(summary(planBatch([...events, ...events], 0, s.chat))).toEqual(expected);
  });
});
