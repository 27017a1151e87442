import {
  makeEvent,
  type ModerationEvent,
  type UserServerBanned,
  type UserServerKicked,
  type UserServerUnbanned,
  type UserWarned,
} from '@chat/contracts';
import { accessChangeOf, applyAccessChange, closeOf, closeReason, type ServerBan } from './access-changes';

const ctx = {
  now: () => new Date('2026-12-01T00:00:00.000Z'),
  newId: () => 'e1',
  actor: { kind: 'service' as const, id: 'moderation' },
  correlationId: 'c1',
};
const user = { userId: '00000000-0000-4000-8000-000000000001', username: 'bob' };
const by = { byUserId: null, byUsername: null };
const event = <E extends ModerationEvent>(type: E['type'], payload: E['payload']) => makeEvent<E>(ctx, type, 1, payload);

describe('gateway access changes (server bans and kicks)', () => {
  it('ban, kick, unban fold into the banned set; a kick leaves it as it is; other events are not access changes', () => {
    const bans = new Map<string, ServerBan>();
    const banned = accessChangeOf(
      event<UserServerBanned>('UserServerBanned', { ...user, reason: 'spam', review: true, rule: 'strikes', ...by }),
    )!;
    applyAccessChange(bans, banned);
    expect(bans.get(user.userId)).toEqual({ username: 'bob', reason: 'spam', review: true });
    applyAccessChange(bans, accessChangeOf(event<UserServerKicked>('UserServerKicked', { ...user, reason: 'calm down', ...by }))!);
    expect(bans.has(user.userId)).toBe(true);
    applyAccessChange(bans, accessChangeOf(event<UserServerUnbanned>('UserServerUnbanned', { ...user, ...by }))!);
    expect(bans.size).toBe(0);
    expect(accessChangeOf(event<UserWarned>('UserWarned', { ...user, reason: 'x', rule: null, ...by }))).toBeNull();
  });

  it('a ban closes 4412, a kick 4413 (with the reason), an unban closes nothing', () => {
    expect(closeOf({ kind: 'banned', userId: user.userId, ban: { username: 'bob', reason: 'spam', review: false } })).toEqual({
      code: 4412,
      reason: 'banned from this server: spam',
    });
    expect(closeOf({ kind: 'kicked', userId: user.userId, reason: '  ' })).toEqual({ code: 4413, reason: 'disconnected by a moderator' });
    expect(closeOf({ kind: 'unbanned', userId: user.userId })).toBeNull();
  });

  it('close reasons fit 123 bytes of UTF-8, cut at a character (Chinese, emoji)', () => {
    for (const reason of ['广告'.repeat(100), '🙂'.repeat(100), 'a'.repeat(500)]) {
      const r = closeReason('banned from this server', reason);
      expect(Buffer.byteLength(r, 'utf8')).toBeLessThanOrEqual(123);
      expect(r.endsWith('…')).toBe(true);
      expect(r).not.toContain('\uFFFD');
      expect([...r.slice(0, -1)].every((ch) => reason.includes(ch) || 'banned from this server: '.includes(ch))).toBe(true);
    }
    expect(closeReason('kicked', 'short')).toBe('kicked: short');
  });
});
