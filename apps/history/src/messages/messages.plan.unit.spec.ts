import { createSubjects, makeEvent, type EventContext, type MemberJoined, type MessagePosted } from '@chat/contracts';
import { planBatch, project, resolveSkipped, type MessageRecord, type StreamEvent } from './mapping';

const s = createSubjects('unit');
const subjectOf = (roomId: string) => s.chat.roomMessages(roomId);
const ctx: EventContext = {
  now: () => new Date('2030-01-02T03:04:05.678Z'),
  newId: () => '00000000-0000-4000-8000-000000000001',
  actor: { kind: 'user', id: '11111111-1111-4111-8111-111111111111' },
  correlationId: 'c1',
};

const posted = (over: Partial<MessagePosted['payload']> = {}) =>
  makeEvent<MessagePosted>(ctx, 'MessagePosted', 1, {
    messageId: '22222222-2222-4222-8222-222222222222',
    roomId: 'general',
    senderId: '11111111-1111-4111-8111-111111111111',
    senderName: 'ann',
    clientMsgId: 'c-1',
    body: 'hello',
    ...over,
  });
const at = (position: number, data: unknown, subject = s.chat.roomMessages('general')): StreamEvent => ({ subject, position, data });

describe('history mapping - project', () => {
  it('maps a MessagePosted to a row at its stream position', () => {
    expect(project(at(7, posted()), subjectOf)).toEqual({
      kind: 'message',
      row: {
        messageId: '22222222-2222-4222-8222-222222222222',
        roomId: 'general',
        position: 7,
        senderId: '11111111-1111-4111-8111-111111111111',
        senderName: 'ann',
        clientMsgId: 'c-1',
        body: 'hello',
        createdAt: new Date('2030-01-02T03:04:05.678Z'),
      },
    });
  });

  it('ignores room events, which only advance the checkpoint', () => {
    const joined = makeEvent<MemberJoined>(ctx, 'MemberJoined', 1, {
      roomId: 'general',
      userId: ctx.actor.id,
      username: 'ann',
      role: 'member',
    });
    expect(project(at(3, joined, s.chat.roomMeta('general')), subjectOf)).toEqual({ kind: 'ignored', type: 'MemberJoined' });
  });

  it('keeps the raw bytes of a payload that is not JSON', () => {
    const raw = new TextEncoder().encode('not {json');
    expect(project({ subject: 'x', position: 9, data: undefined, raw }, subjectOf)).toEqual({
      kind: 'dead',
      letter: { position: 9, subject: 'x', raw: 'not {json', error: 'payload is not JSON' },
    });
  });

  it.each([
    ['an unknown type', { ...posted(), type: 'MessageExploded' }, /unknown event type "MessageExploded"/],
    ['no envelope', [1, 2], /not an event envelope/],
    ['a newer version', { ...posted(), version: 2 }, /unsupported MessagePosted version 2/],
    ['a bad sender id', posted({ senderId: 'nobody' }), /senderId must be a UUID/],
    ['a bad message id', posted({ messageId: 'x' }), /messageId must be a UUID/],
    ['a bad room id', posted({ roomId: 'Not A Room' }), /roomId must be a room id/],
    ['a non-string body', posted({ body: 42 as never }), /body must be a string/],
    ['an empty sender name', posted({ senderName: '' }), /senderName must be a non-empty string/],
    ['a bad time', { ...posted(), time: 'yesterday' }, /time must be an ISO-8601 timestamp/],
    ['an impossible date', { ...posted(), time: '2030-13-45T00:00:00Z' }, /time must be an ISO-8601 timestamp/],
  ])('dead-letters %s', (_what, data, error) => {
    const out = project(at(5, data), subjectOf);
    expect(out.kind).toBe('dead');
    expect(out.kind === 'dead' && out.letter.error).toMatch(error);
    expect(out.kind === 'dead' && JSON.parse(out.letter.raw)).toEqual(data);
  });

  it('dead-letters a message stored on another room subject', () => {
    const out = project(at(5, posted({ roomId: 'other' })), subjectOf);
    expect(out.kind === 'dead' && out.letter.error).toMatch(/for room "other" stored on subject/);
  });

  it('stores U+0000, which Postgres text rejects, as U+FFFD', () => {
    const out = project(at(5, posted({ body: 'a\u0000b' })), subjectOf);
    expect(out.kind === 'message' && out.row.body).toBe('a\uFFFDb');
    const dead = project({ subject: 'x', position: 6, data: undefined, raw: new Uint8Array([0x61, 0x00, 0xff]) }, subjectOf);
    expect(dead.kind === 'dead' && dead.letter.raw).toBe('a\uFFFD\uFFFD');
  });
});

describe('history mapping - planBatch', () => {
  const meta = makeEvent<MemberJoined>(ctx, 'MemberJoined', 1, {
    roomId: 'general',
    userId: ctx.actor.id,
    username: 'ann',
    role: 'member',
  });
  const batch = [
    at(12, posted({ messageId: '22222222-2222-4222-8222-000000000012' })),
    at(10, meta, s.chat.roomMeta('general')),
    at(11, 'garbage'),
    at(13, posted({ messageId: '22222222-2222-4222-8222-000000000013' })),
  ];

  it('splits a batch and moves the checkpoint to its highest position', () => {
    const plan = planBatch(batch, 9, subjectOf);
    expect(plan.fresh).toEqual({ messages: 2, deadLetters: 1, ignored: 1 });
    expect(plan.replayed).toBe(0);
    expect(plan.messages.map((m) => m.position)).toEqual([12, 13]);
    expect(plan.deadLetters.map((d) => d.position)).toEqual([11]);
    expect(plan.checkpoint).toBe(13);
  });

  it('counts events at or below the checkpoint as replays and never moves the checkpoint back', () => {
    const plan = planBatch(batch, 12, subjectOf);
    expect(plan.fresh).toEqual({ messages: 1, deadLetters: 0, ignored: 0 });
    expect(plan.replayed).toBe(3);
    expect(plan.checkpoint).toBe(13);
    expect(planBatch(batch, 50, subjectOf).checkpoint).toBe(50);
  });

  it('plans the same rows for a replay, so re-applying it (ON CONFLICT DO NOTHING) is a no-op', () => {
    const first = planBatch(batch, 0, subjectOf);
    const again = planBatch(batch, first.checkpoint, subjectOf);
    expect(again.messages).toEqual(first.messages);
    expect(again.deadLetters).toEqual(first.deadLetters);
    expect(again.fresh).toEqual({ messages: 0, deadLetters: 0, ignored: 0 });
  });

  it('takes a position delivered twice in one batch once', () => {
    const plan = planBatch([batch[0], batch[0]], 0, subjectOf);
    expect(plan.messages).toHaveLength(1);
    expect(plan.fresh.messages).toBe(1);
  });
});

describe('history mapping - resolveSkipped', () => {
  const id = '22222222-2222-4222-8222-000000000001';
  const events = [at(20, posted({ messageId: id })), at(21, posted({ messageId: id })), at(22, posted())];
  const row = (e: StreamEvent) => (project(e, subjectOf) as { row: MessageRecord }).row;

  it('the same event again (same position, same id) is a redelivery: nothing to do', () => {
    expect(resolveSkipped([row(events[0])], [{ messageId: id, position: 20 }], events)).toEqual([]);
  });

  it('another event with a stored message id becomes a dead letter naming where the id is', () => {
    expect(resolveSkipped([row(events[1])], [{ messageId: id, position: 20 }], events)).toEqual([
      {
        position: 21,
        subject: events[1].subject,
        raw: JSON.stringify(events[1].data),
        error: `MessagePosted: messageId ${id} is already stored at position 20`,
      },
    ]);
  });

  it('another message at a stored position (a re-created stream) becomes a dead letter too', () => {
    const [letter] = resolveSkipped([row(events[2])], [{ messageId: id, position: 22 }], events);
    expect(letter.error).toBe(`MessagePosted: position 22 already holds message ${id}`);
  });

  it('throws rather than drop a skipped message when nothing stored explains the skip', () => {
    expect(() => resolveSkipped([row(events[2])], [], events)).toThrow(/no row is in its way/);
  });
});
