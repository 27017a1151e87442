import type { SessionRevocation } from '@chat/contracts';
import { RecentRevocations } from './recent-revocations';

describe('RecentRevocations - revocations an auth awaiting its session check must still see', () => {
  const ann = '00000000-0000-4000-8000-00000000000a';
  const bob = '00000000-0000-4000-8000-00000000000b';
  const rev = (r: Partial<SessionRevocation>): SessionRevocation => ({
    userId: ann,
    sessionIds: [],
    exceptSessionId: null,
    reason: 'logout',
    ...r,
  });

  it('a revocation handled after the mark ends the listed session of that user only', () => {
    const recent = new RecentRevocations();
    const before = recent.mark();
    recent.note(rev({ sessionIds: ['s1'] }));
    expect(recent.revoked(ann, 's1', before)).toMatchObject({ reason: 'logout' });
    expect(recent.revoked(ann, 's2', before)).toBeNull();
    expect(recent.revoked(bob, 's1', before)).toBeNull();
    // An auth that began after it did its KV check after the session was gone: not concerned.
    expect(recent.revoked(ann, 's1', recent.mark())).toBeNull();
  });

  it("'all' ends every session of the user but the excepted one", () => {
    const recent = new RecentRevocations();
    const before = recent.mark();
    recent.note(rev({ sessionIds: 'all', exceptSessionId: 'keep', reason: 'password_changed' }));
    expect(recent.revoked(ann, 'other', before)).toMatchObject({ reason: 'password_changed' });
    expect(recent.revoked(ann, 'keep', before)).toBeNull();
  });

  it('an auth that waited longer than the memory is answered revoked (fail closed); memory is bounded in time and count', () => {
    let now = 0;
    const recent = new RecentRevocations(60_000, 3, () => now);
    const before = recent.mark();
    recent.note(rev({ userId: bob, sessionIds: ['x'] }));
    now = 61_000;
    expect(recent.revoked(ann, 's1', before)).toMatchObject({ sessionIds: ['s1'] });
    const later = recent.mark();
    for (let i = 0; i < 4; i++) recent.note(rev({ userId: bob, sessionIds: [`y${i}`] }));
    expect(recent.revoked(ann, 's1', later)).not.toBeNull();
    const last = recent.mark();
    recent.note(rev({ userId: bob, sessionIds: ['z'] }));
    expect(recent.revoked(ann, 's1', last)).toBeNull();
  });
});
