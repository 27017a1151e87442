import { rollUp, statsRange, statsRefusal, statsView } from './stats.plan';

const alice = '00000000-0000-4000-8000-00000000000a';
const bob = '00000000-0000-4000-8000-00000000000b';
const at = (iso: string) => new Date(iso);

describe('stats - rollups of freshly stored messages', () => {
  it('sums per room and UTC day, per poster and per hour, one row per key', () => {
    const r = rollUp([
      { roomId: 'a', senderId: alice, senderName: 'alice', createdAt: at('2026-03-01T23:59:59Z') },
      { roomId: 'a', senderId: alice, senderName: 'alice2', createdAt: at('2026-03-01T23:10:00Z') },
      { roomId: 'a', senderId: bob, senderName: 'bob', createdAt: at('2026-03-02T00:00:00Z') },
      { roomId: 'b', senderId: bob, senderName: 'bob', createdAt: at('2026-03-01T08:00:00+02:00') },
    ]);
    expect(r.days).toEqual([
      { roomId: 'a', day: '2026-03-01', messages: 2 },
      { roomId: 'a', day: '2026-03-02', messages: 1 },
      { roomId: 'b', day: '2026-03-01', messages: 1 },
    ]);
    expect(r.users).toEqual([
      { roomId: 'a', day: '2026-03-01', userId: alice, username: 'alice2', messages: 2 },
      { roomId: 'a', day: '2026-03-02', userId: bob, username: 'bob', messages: 1 },
      { roomId: 'b', day: '2026-03-01', userId: bob, username: 'bob', messages: 1 },
    ]);
    expect(r.hours).toEqual([
      { roomId: 'a', day: '2026-03-01', hour: 23, messages: 2 },
      { roomId: 'a', day: '2026-03-02', hour: 0, messages: 1 },
      { roomId: 'b', day: '2026-03-01', hour: 6, messages: 1 },
    ]);
  });

  it('an empty batch adds nothing', () => {
    expect(rollUp([])).toEqual({ days: [], users: [], hours: [] });
  });
});

describe('stats - day ranges', () => {
  const now = at('2026-03-10T12:00:00Z');

  it('defaults to the 30 days up to today (UTC), both ends included', () => {
    const r = statsRange({}, now);
    if ('error' in r) throw new Error(r.error);
    expect([r.from, r.to, r.days.length]).toEqual(['2026-02-09', '2026-03-10', 30]);
  });

  it('lists every day of an explicit range, across a month end', () => {
    const r = statsRange({ from: '2026-02-27', to: '2026-03-02' }, now);
    expect(r).toEqual({ from: '2026-02-27', to: '2026-03-02', days: ['2026-02-27', '2026-02-28', '2026-03-01', '2026-03-02'] });
  });

  it('refuses days that do not exist, from after to, and more than 366 days', () => {
    expect(statsRange({ to: '2026-02-30' }, now)).toHaveProperty('error');
    expect(statsRange({ from: '2026-03-02', to: '2026-03-01' }, now)).toHaveProperty('error');
    expect(statsRange({ from: '2025-01-01', to: '2026-01-03' }, now)).toHaveProperty('error');
    expect(statsRange({ from: '2025-01-01', to: '2026-01-02' }, now)).not.toHaveProperty('error');
  });
});

describe('stats - the view', () => {
  it('shows days without messages as zeros, 24 hours, and the total from the days', () => {
    const v = statsView(
      'a',
      { from: '2026-03-01', to: '2026-03-03', days: ['2026-03-01', '2026-03-02', '2026-03-03'] },
      {
        days: [{ day: '2026-03-02', messages: 5, activeUsers: 2 }],
        activeUsers: 2,
        topPosters: [{ userId: alice, username: 'alice', messages: 4 }],
        hours: [{ hour: 7, messages: 5 }],
      },
    );
    expect(v.days).toEqual([
      { day: '2026-03-01', messages: 0, activeUsers: 0 },
      { day: '2026-03-02', messages: 5, activeUsers: 2 },
      { day: '2026-03-03', messages: 0, activeUsers: 0 },
    ]);
    expect(v.messages).toBe(5);
    expect(v.hours).toHaveLength(24);
    expect(v.hours[7]).toBe(5);
  });
});

describe('stats - who may read them', () => {
  const group = { kind: 'group' as const, visibility: 'public' as const, deleted: false };
  const priv = { kind: 'group' as const, visibility: 'private' as const, deleted: false };
  const dm = { kind: 'direct' as const, visibility: 'private' as const, deleted: false };
  const as = (role: 'owner' | 'admin' | 'member' | null) => ({ member: role !== null, role, position: 1 });

  it('every room: server administrators only', () => {
    expect(statsRefusal(undefined, null, null, true)).toBeNull();
    expect(statsRefusal(undefined, null, null, false)?.code).toBe('FORBIDDEN');
  });

  it('a room: owner and admins; a plain member is refused, a hidden room is not found', () => {
    expect(statsRefusal('r', group, as('owner'), false)).toBeNull();
    expect(statsRefusal('r', group, as('admin'), false)).toBeNull();
    expect(statsRefusal('r', group, as('member'), false)?.code).toBe('FORBIDDEN');
    expect(statsRefusal('r', group, null, false)?.code).toBe('FORBIDDEN');
    expect(statsRefusal('r', priv, null, false)?.code).toBe('NOT_FOUND');
    expect(statsRefusal('r', null, null, false)?.code).toBe('NOT_FOUND');
  });

  it('a conversation: its participants only (server administrators too); server administrators: any group room that exists', () => {
    expect(statsRefusal('dm-x', dm, as('member'), false)).toBeNull();
    expect(statsRefusal('dm-x', dm, as('member'), true)).toBeNull();
    expect(statsRefusal('dm-x', dm, null, true)?.code).toBe('NOT_FOUND');
    expect(statsRefusal('dm-x', dm, null, false)?.code).toBe('NOT_FOUND');
    expect(statsRefusal('r', priv, null, true)).toBeNull();
    expect(statsRefusal('r', { ...group, deleted: true }, null, true)?.code).toBe('NOT_FOUND');
  });
});
