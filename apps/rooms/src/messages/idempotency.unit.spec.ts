import { makeEvent, type MessagePosted } from '@chat/contracts';
import { acceptedFrom, idempotencyKey } from './idempotency';

describe('idempotency - keys and the original of a duplicate', () => {
  const u = '00000000-0000-4000-8000-00000000000a';
  const m1 = '00000000-0000-4000-8000-0000000000b1';
  const original = makeEvent<MessagePosted>(
    { now: () => new Date('2026-01-01T00:00:00.000Z'), newId: () => m1, actor: { kind: 'user', id: u }, correlationId: 'c-1' },
    'MessagePosted',
    1,
    { messageId: m1, roomId: 'general', senderId: u, senderName: 'ann', clientMsgId: 'c1', body: 'hi' },
  );

  it('same input, same key; any part changed, different key', () => {
    const k = idempotencyKey('general', u, 'c1');
    expect(idempotencyKey('general', u, 'c1')).toBe(k);
    expect(
      new Set([
        k,
        idempotencyKey('general', u, 'c2'),
        idempotencyKey('other', u, 'c1'),
        idempotencyKey('general', u.replace('a', 'b'), 'c1'),
      ]).size,
    ).toBe(4);
  });

  it('no ambiguity from joining parts', () => {
    expect(idempotencyKey('ab', u, 'c')).not.toBe(idempotencyKey('a', u, 'bc'));
  });

  it('the original is read from the stored MessagePosted: its id and time, at the given position', () => {
    expect(acceptedFrom(original, 7)).toEqual({ messageId: m1, position: 7, time: '2026-01-01T00:00:00.000Z' });
  });

  it('anything else stored there gives no id rather than a guessed one', () => {
    for (const stored of [
      undefined,
      null,
      'text',
      { type: 'MemberJoined', time: 't', payload: { messageId: 'x' } },
      { type: 'MessagePosted', time: 't', payload: {} },
      { type: 'MessagePosted', payload: { messageId: 'x' } },
      { type: 'MessagePosted', time: 't', payload: null },
      // A whole envelope whose payload is not a MessagePosted's: its id is not trusted either.
      { ...original, payload: { ...original.payload, messageId: 'not-a-uuid' } },
      { ...original, version: 2 },
    ]) {
      expect(acceptedFrom(stored, 1)).toBeNull();
    }
  });
});
