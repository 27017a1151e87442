import { randomUUID } from 'node:crypto';
import type { SessionRecord } from '@chat/contracts';
import {
  PREVIOUS_HASHES_KEPT,
  decideRefresh,
  hashSecret,
  isSessionId,
  newSecret,
  newSessionId,
  newSessionRecord,
  parseRefreshToken,
  parseSessionRecord,
  rotated,
  sessionView,
  userIdOfSession,
} from './session-records';

const lifetimes = { rememberS: 30 * 86400, sessionS: 86400 };
const t0 = new Date('2030-01-01T00:00:00.000Z');
const later = (s: number) => new Date(t0.getTime() + s * 1000);

function session(remember = false): { record: SessionRecord; secret: string } {
  const userId = randomUUID();
  const secret = newSecret();
  const record = newSessionRecord(
    { sessionId: newSessionId(userId), userId, username: 'ann', secret, remember, userAgent: 'ua' },
    t0,
    lifetimes,
  );
  return { record, secret };
}

describe('session records - ids and refresh tokens', () => {
  it('a session id is the user id and a random part; the token is the id and a 32-byte secret', () => {
    const userId = randomUUID();
    const id = newSessionId(userId);
    expect(isSessionId(id)).toBe(true);
    expect(userIdOfSession(id)).toBe(userId);
    const secret = newSecret();
    expect(Buffer.from(secret, 'base64url')).toHaveLength(32);
    expect(parseRefreshToken(`${id}.${secret}`)).toEqual({ sessionId: id, secret });
  });

  it.each([
    ['', 'empty'],
    ['abc', 'no dots'],
    [`not-a-uuid.abcdefghijklmnopqrst.${'A'.repeat(43)}`, 'user part not a uuid'],
    [`${randomUUID()}.short.${'A'.repeat(43)}`, 'random part too short'],
    [`${randomUUID()}.abcdefghijklmnopqrst.short`, 'secret too short'],
    [`${randomUUID()}.abcdefghijklmnopqrst.${'A'.repeat(42)}!`, 'secret not base64url'],
    [`${randomUUID()}.abcdefghijklmnopqrst.${'A'.repeat(300)}`, 'too long'],
  ])('refuses %j (%s)', (token) => {
    expect(parseRefreshToken(token)).toBeNull();
  });
});

describe('session records - rotation and reuse detection', () => {
  it('remember chooses the lifetime', () => {
    expect(Date.parse(session(false).record.expiresAt) - t0.getTime()).toBe(86400_000);
    expect(Date.parse(session(true).record.expiresAt) - t0.getTime()).toBe(30 * 86400_000);
  });

  it('the current secret rotates; the replaced one is then a reuse; an unknown one is invalid', () => {
    const { record, secret } = session();
    expect(decideRefresh(record, secret, later(10))).toBe('rotate');
    const next = newSecret();
    const r2 = rotated(record, next, later(10), lifetimes);
    expect(r2.tokenHash).toBe(hashSecret(next));
    expect(r2.previousHashes).toEqual([record.tokenHash]);
    expect(r2.lastUsedAt).toBe(later(10).toISOString());
    expect(r2.expiresAt).toBe(later(10 + 86400).toISOString());
    expect(decideRefresh(r2, next, later(20))).toBe('rotate');
    expect(decideRefresh(r2, secret, later(20))).toBe('reuse');
    expect(decideRefresh(r2, newSecret(), later(20))).toBe('invalid');
  });

  it('an expired session does not rotate', () => {
    const { record, secret } = session();
    expect(decideRefresh(record, secret, later(86400))).toBe('expired');
  });

  it(`keeps the last ${PREVIOUS_HASHES_KEPT} replaced hashes, newest first`, () => {
    let { record } = session();
    const secrets: string[] = [];
    for (let i = 0; i < PREVIOUS_HASHES_KEPT + 3; i++) {
      secrets.push(newSecret());
      record = rotated(record, secrets[i], later(i), lifetimes);
    }
    expect(record.previousHashes).toHaveLength(PREVIOUS_HASHES_KEPT);
    expect(record.previousHashes[0]).toBe(hashSecret(secrets.at(-2)!));
    expect(decideRefresh(record, secrets.at(-2)!, later(100))).toBe('reuse');
  });
});

describe('session records - stored form', () => {
  it('round-trips and refuses anything else', () => {
    const { record } = session(true);
    expect(parseSessionRecord(Buffer.from(JSON.stringify(record)))).toEqual(record);
    expect(parseSessionRecord(Buffer.from('nope'))).toBeNull();
    expect(parseSessionRecord(Buffer.from(JSON.stringify({ ...record, remember: 'yes' })))).toBeNull();
    expect(parseSessionRecord(Buffer.from(JSON.stringify({ ...record, previousHashes: [1] })))).toBeNull();
    // the id must be the user's
    expect(parseSessionRecord(Buffer.from(JSON.stringify({ ...record, userId: randomUUID() })))).toBeNull();
  });

  it('cuts the user agent and marks the current session in the view', () => {
    const userId = randomUUID();
    const r = newSessionRecord(
      { sessionId: newSessionId(userId), userId, username: 'ann', secret: newSecret(), remember: false, userAgent: '字'.repeat(300) },
      t0,
      lifetimes,
    );
    expect([...r.userAgent]).toHaveLength(200);
    expect(sessionView(r, r.sessionId).current).toBe(true);
    expect(sessionView(r, 'other').current).toBe(false);
    expect(Object.keys(sessionView(r, null)).sort()).toEqual([
      'createdAt',
      'current',
      'expiresAt',
      'lastUsedAt',
      'remember',
      'sessionId',
      'userAgent',
    ]);
  });
});
