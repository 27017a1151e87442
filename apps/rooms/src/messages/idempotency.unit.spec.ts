import { USER_ID_PATTERN } from '@chat/contracts';
import { idempotencyKey, messageIdFor } from './idempotency';

describe('idempotency - keys and message ids', () => {
  const u = '00000000-0000-4000-8000-00000000000a';

  it('same input, same key and id; any part changed, different key', () => {
    const k = idempotencyKey('general', u, 'c1');
    expect(idempotencyKey('general', u, 'c1')).toBe(k);
    expect(new Set([k, idempotencyKey('general', u, 'c2'), idempotencyKey('other', u, 'c1'), idempotencyKey('general', u.replace('a', 'b'), 'c1')]).size).toBe(4);
    expect(messageIdFor(k)).toBe(messageIdFor(idempotencyKey('general', u, 'c1')));
  });

  it('no ambiguity from joining parts', () => {
    expect(idempotencyKey('ab', u, 'c')).not.toBe(idempotencyKey('a', u, 'bc'));
  });

  it('message ids are well-formed version-8 UUIDs', () => {
    for (const c of ['a', 'b', 'c', 'd']) {
      const id = messageIdFor(idempotencyKey('general', u, c));
      expect(id).toMatch(USER_ID_PATTERN);
      expect(id[14]).toBe('8');
      expect('89ab').toContain(id[19]);
    }
  });
});
