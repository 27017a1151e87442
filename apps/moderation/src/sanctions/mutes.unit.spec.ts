import { makeEvent, type UserMuted, type UserUnmuted } from '@chat/contracts';
import { randomUUID } from 'node:crypto';
import { activeMute, emptyMutes, evolveMutes, expiryDue, mutesIn, mutesOf } from './mutes';

const T0 = Date.parse('2026-01-01T00:00:00Z');
const at = (ms: number) => new Date(T0 + ms);
const ctx = (ms = 0) => ({
  now: () => at(ms),
  newId: randomUUID,
  actor: { kind: 'service' as const, id: 'moderation' },
  correlationId: 'c',
});
const ann = { userId: randomUUID(), username: 'ann' };
const muted = (roomId: string | null, untilMs: number, muteId = randomUUID()) =>
  makeEvent<UserMuted>(ctx(), 'UserMuted', 1, {
    muteId,
    ...ann,
    roomId,
    until: at(untilMs).toISOString(),
    reason: 'spam',
    rule: null,
    byUserId: null,
    byUsername: null,
  });
const unmuted = (muteId: string, roomId: string | null) =>
  makeEvent<UserUnmuted>(ctx(), 'UserUnmuted', 1, { muteId, ...ann, roomId, reason: 'expired', byUserId: null, byUsername: null });

describe('mutes - fold, active mute and expiry decisions', () => {
  it('a room mute applies in its room only; a server mute everywhere; the later-ending one wins', () => {
    const mutes = emptyMutes();
    evolveMutes(mutes, muted('general', 60_000));
    expect(activeMute(mutes, ann.userId, 'general', T0)?.roomId).toBe('general');
    expect(activeMute(mutes, ann.userId, 'other', T0)).toBeNull();
    evolveMutes(mutes, muted(null, 30_000));
    expect(activeMute(mutes, ann.userId, 'other', T0)?.roomId).toBeNull();
    expect(activeMute(mutes, ann.userId, 'general', T0)?.roomId).toBe('general');
    expect(activeMute(mutes, randomUUID(), 'general', T0)).toBeNull();
  });

  it('a passed mute silences nobody even before its expiry event is stored', () => {
    const mutes = emptyMutes();
    evolveMutes(mutes, muted(null, 1000));
    expect(activeMute(mutes, ann.userId, 'general', T0 + 1000)).toBeNull();
    expect(mutesOf(mutes, ann.userId, T0 + 1000)).toEqual([]);
    expect(mutesIn(mutes, undefined, T0)).toHaveLength(1);
  });

  it('a new mute of the same scope replaces the old one; an unmute removes it; replay is idempotent', () => {
    const first = muted(null, 10_000);
    const second = muted(null, 20_000);
    const end = unmuted(second.payload.muteId, null);
    const once = emptyMutes();
    for (const e of [first, second]) evolveMutes(once, e);
    expect([...once.byId.keys()]).toEqual([second.payload.muteId]);
    expect([...once.byUser.get(ann.userId)!.keys()]).toEqual([second.payload.muteId]);
    evolveMutes(once, end);
    expect(once).toEqual(emptyMutes());
    const twice = emptyMutes();
    for (const e of [first, second, end, first, second, end]) evolveMutes(twice, e);
    expect(twice).toEqual(emptyMutes());
  });

  it('expiry: mutes whose time has passed are due; the next timer is the soonest still ahead', () => {
    const mutes = emptyMutes();
    const a = muted('a', 1000);
    const b = muted('b', 5000);
    const c = muted(null, 3000);
    for (const e of [a, b, c]) evolveMutes(mutes, e);
    expect(expiryDue(mutes, T0)).toEqual({ due: [], nextAt: T0 + 1000 });
    const later = expiryDue(mutes, T0 + 3000);
    expect(later.due.map((m) => m.muteId).sort()).toEqual([a.payload.muteId, c.payload.muteId].sort());
    expect(later.nextAt).toBe(T0 + 5000);
    expect(expiryDue(emptyMutes(), T0)).toEqual({ due: [], nextAt: null });
  });
});
