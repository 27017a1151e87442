import type { SessionRevocation } from '@chat/contracts';
import { isRevoked } from './revocations';

describe('session revocations - which connections a revocation ends', () => {
  const conn = (userId: string, sessionId: string | null, closed = false) => ({ user: { userId, username: 'u' }, sessionId, closed });
  const rev = (r: Partial<SessionRevocation>): SessionRevocation => ({
    userId: 'u1',
    sessionIds: ['s1'],
    exceptSessionId: null,
    reason: 'logout',
    ...r,
  });

  it('listed sessions of the user only', () => {
    expect(isRevoked(conn('u1', 's1'), rev({}))).toBe(true);
    expect(isRevoked(conn('u1', 's2'), rev({}))).toBe(false);
    expect(isRevoked(conn('u2', 's1'), rev({}))).toBe(false);
    expect(isRevoked(conn('u1', null), rev({}))).toBe(false);
    expect(isRevoked(conn('u1', 's1', true), rev({}))).toBe(false);
    expect(isRevoked({ user: null, sessionId: 's1', closed: false }, rev({}))).toBe(false);
  });

  it("'all' spares the excepted session", () => {
    const all = rev({ sessionIds: 'all', exceptSessionId: 's2', reason: 'password_changed' });
    expect(isRevoked(conn('u1', 's1'), all)).toBe(true);
    expect(isRevoked(conn('u1', 's2'), all)).toBe(false);
    expect(isRevoked(conn('u2', 's1'), all)).toBe(false);
  });
});
