import { createSubjects, makeEvent, type EventContext, type MessagePosted } from '@chat/contracts';
import type { StreamEvent } from '../store/events';
import { route } from '../store/plan';
import { resolveSkipped, type MessageRecord } from './messages.plan';

const s = createSubjects('unit');
const ctx: EventContext = {
  now: () => new Date('2030-01-02T03:04:05.678Z'),
  newId: () => '00000000-0000-4000-8000-000000000001',
  actor: { kind: 'user', id: '11111111-1111-4111-8111-111111111111' },
  correlationId: 'c1',
};

const posted = (over: Partial<MessagePosted['payload']> = {}) =>
  makeEvent<MessagePosted>(ctx, 'MessagePosted', 2, {
    replyTo: null,
    mentions: [],
    messageId: '22222222-2222-4222-8222-222222222222',
    roomId: 'general',
    senderId: '11111111-1111-4111-8111-111111111111',
    senderName: 'ann',
    clientMsgId: 'c-1',
    body: 'hello',
    ...over,
  });
const at = (position: number, data: unknown, subject = s.chat.roomMessages('general')): StreamEvent => ({ subject, position, data });

describe('messages plan - decoding through route', () => {
  it('maps a MessagePosted to a row at its stream position', () => {
    expect(route(at(7, posted()), s.chat)).toEqual({
      kind: 'messages',
      change: {
        messageId: '22222222-2222-4222-8222-222222222222',
        roomId: 'general',
        position: 7,
        senderId: '11111111-1111-4111-8111-111111111111',
        senderName: 'ann',
        clientMsgId: 'c-1',
        body: 'hello',
        createdAt: new Date('2030-01-02T03:04:05.678Z'),
        replyTo: null,
        mentions: [],
      },
    });
  });

  it('keeps the raw bytes of a payload that is not JSON', () => {
    const raw = new TextEncoder().encode('not {json');
    expect(route({ subject: 'x', position: 9, data: undefined, raw }, s.chat)).toEqual({
      kind: 'dead',
      letter: { position: 9, subject: 'x', raw: 'not {json', error: 'not JSON' },
    });
  });

  it.each([
    ['an unknown type', { ...posted(), type: 'MessageExploded' }, /unknown event type "MessageExploded"/],
    ['no envelope', [1, 2], /not an event envelope/],
    ['a newer version', { ...posted(), version: 3 }, /unsupported MessagePosted version 3/],
    ['a bad sender id', posted({ senderId: 'nobody' }), /senderId must be a UUID/],
    ['a bad message id', posted({ messageId: 'x' }), /messageId must be a UUID/],
    ['a bad room id', posted({ roomId: 'Not A Room' }), /roomId must be a room id/],
    ['a non-string body', posted({ body: 42 as never }), /body must be a string/],
    ['an empty sender name', posted({ senderName: '' }), /senderName must be a non-empty string/],
    ['a bad time', { ...posted(), time: 'yesterday' }, /time must be an ISO-8601 UTC time/],
    ['an impossible date', { ...posted(), time: '2030-13-45T00:00:00Z' }, /time must be an ISO-8601 UTC time/],
  ])('dead-letters %s', (_what, data, error) => {
    const out = route(at(5, data), s.chat);
    expect(out.kind).toBe('dead');
    expect(out.kind === 'dead' && out.letter.error).toMatch(error);
    expect(out.kind === 'dead' && JSON.parse(out.letter.raw)).toEqual(data);
  });

  it('dead-letters a message stored on another room subject', () => {
    const out = route(at(5, posted({ roomId: 'other' })), s.chat);
    expect(out.kind === 'dead' && out.letter.error).toMatch(/for room "other" stored on subject/);
  });

  it('stores U+0000, which Postgres text rejects, as U+FFFD', () => {
    const out = route(at(5, posted({ body: 'a\u0000b' })), s.chat);
    expect(out.kind === 'messages' && out.change.body).toBe('a\uFFFDb');
    const dead = route({ subject: 'x', position: 6, data: undefined, raw: new Uint8Array([0x61, 0x00, 0xff]) }, s.chat);
    expect(dead.kind === 'dead' && dead.letter.raw).toBe('a\uFFFD\uFFFD');
  });
});

describe('messages plan - resolveSkipped', () => {
  const id = '22222222-2222-4222-8222-000000000001';
  const events = [at(20, posted({ messageId: id })), at(21, posted({ messageId: id })), at(22, posted())];
  const row = (e: StreamEvent) => (route(e, s.chat) as { change: MessageRecord }).change;

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
