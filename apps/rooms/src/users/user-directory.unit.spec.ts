import { userOf } from './user-directory';

describe('user directory - reading an account record', () => {
  const userId = '00000000-0000-4000-8000-000000000001';

  it('keeps only the id and the name (never the password hash)', () => {
    expect(userOf({ userId, username: 'Ann', passwordHash: '$argon2id$x', createdAt: '2026-01-01T00:00:00.000Z' })).toEqual({
      userId,
      username: 'Ann',
    });
  });

  it.each([
    ['not JSON', undefined],
    ['null', null],
    ['a string', 'ann'],
    ['no id', { username: 'ann' }],
    ['an id that is not a UUID', { userId: 'ann', username: 'ann' }],
    ['an empty name', { userId, username: '' }],
    ['a name that is not a string', { userId, username: 42 }],
  ])('anything else is no user: %s', (_what, record) => {
    expect(userOf(record)).toBeNull();
  });
});
