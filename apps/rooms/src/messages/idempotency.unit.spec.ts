import { makeEvent, type MessagePosted } from '@chat/contracts';
import { acceptedFrom, idempotencyKey, recorderTiming, supersedes } from './idempotency';

describe('idempotency - keys and the original of a duplicate', () => {
  const u = '00000000-0000-4000-8000-00000000000a';
  const m1 = '00000000-0000-4000-8000-0000000000b1';
  const original = makeEvent<MessagePosted>(
    { now: () => new Date('2026-01-01T00:00:00.000Z'), newId: () => m1, actor: { kind: 'user', id: u }, correlationId: 'c-1' },
    'MessagePosted',
    2,
    { replyTo: null, mentions: [], messageId: m1, roomId: 'general', senderId: u, senderName: 'ann', clientMsgId: 'c1', body: 'hi' },
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
      // A version nobody wrote (MessagePosted is at v2): not read as a message.
      { ...original, version: 3 },
    ]) {
      expect(acceptedFrom(stored, 1)).toBeNull();
    }
  });
});

describe('idempotency - the record of a key is the latest message stored with it', () => {
  const at = (position: number) => ({ messageId: `m${position}`, position, time: '2026-01-01T00:00:00.000Z' });

  it('no record yet: written', () => {
    expect(supersedes(null, at(5))).toBe(true);
  });

  it('a record of an older message (its key was accepted again after it expired): written over', () => {
    expect(supersedes(at(3), at(5))).toBe(true);
  });

  it('the same message handed out again: already written, left alone', () => {
    expect(supersedes(at(5), at(5))).toBe(false);
  });

  it('an old message redelivered after a newer one with the same key was recorded: the newer record stays', () => {
    expect(supersedes(at(9), at(5))).toBe(false);
  });

  it('timing - sends stop at half the window, re-publishes fit in a quarter, the ack wait stays under the lag limit', () => {
    expect(recorderTiming(120_000)).toEqual({ ackWaitMs: 30_000, maxLagMs: 60_000, republishWindowMs: 10_000, pollMs: 1000 });
    expect(recorderTiming(4000)).toEqual({ ackWaitMs: 1000, maxLagMs: 2000, republishWindowMs: 1000, pollMs: 200 });
    for (const w of [2000, 3000, 10_000, 60_000, 120_000, 3_600_000]) {
      const t = recorderTiming(w);
      expect(t.maxLagMs + t.republishWindowMs).toBeLessThanOrEqual((3 * w) / 4);
      expect(t.ackWaitMs).toBeLessThanOrEqual(t.maxLagMs);
      expect(t.pollMs).toBeLessThan(t.maxLagMs);
    }
  });
});
