import { acceptedFrom, idempotencyKey } from './idempotency';

describe('idempotency - keys and the original of a duplicate', () => {
  const u = '00000000-0000-4000-8000-00000000000a';

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
    const stored = { type: 'MessagePosted', id: 'm-1', time: '2026-01-01T00:00:00.000Z', payload: { messageId: 'm-1', roomId: 'general' } };
    expect(acceptedFrom(stored, 7)).toEqual({ messageId: 'm-1', position: 7, time: '2026-01-01T00:00:00.000Z' });
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
    ]) {
      expect(acceptedFrom(stored, 1)).toBeNull();
    }
  });
});
