import { Limits, type DailyStats, type PosterStats, type StatsView } from '@chat/contracts';
import { readRefusal, roomNotFound, type RoomAccess, type Standing } from '../membership';
import type { ReadRefusal } from '../membership/membership.plan';
import type { PostedMessage } from './stats.store';

/** What a batch of freshly stored messages adds to each statistics table (one row per key, so one upsert each). */
export interface StatsRollup {
  days: Array<{ roomId: string; day: string; messages: number }>;
  users: Array<{ roomId: string; day: string; userId: string; username: string; messages: number }>;
  hours: Array<{ roomId: string; day: string; hour: number; messages: number }>;
}

/** YYYY-MM-DD of a time, in UTC. */
export const utcDay = (t: Date): string => t.toISOString().slice(0, 10);

/**
 * Sums the messages per (room, day), (room, day, poster) and (room, day, hour), days and hours
 * in UTC. A key appears once: Postgres refuses an upsert that touches one row twice. A poster's
 * name is the one of their last message in the batch (statistics show the newest name).
 */
export function rollUp(messages: PostedMessage[]): StatsRollup {
  const days = new Map<string, StatsRollup['days'][number]>();
  const users = new Map<string, StatsRollup['users'][number]>();
  const hours = new Map<string, StatsRollup['hours'][number]>();
  for (const m of messages) {
    const day = utcDay(m.createdAt);
    const hour = m.createdAt.getUTCHours();
    const d = days.get(`${m.roomId}\u0000${day}`) ?? { roomId: m.roomId, day, messages: 0 };
    d.messages++;
    days.set(`${m.roomId}\u0000${day}`, d);
    const uk = `${m.roomId}\u0000${day}\u0000${m.senderId}`;
    const u = users.get(uk) ?? { roomId: m.roomId, day, userId: m.senderId, username: m.senderName, messages: 0 };
    u.messages++;
    u.username = m.senderName;
    users.set(uk, u);
    const hk = `${m.roomId}\u0000${day}\u0000${hour}`;
    const h = hours.get(hk) ?? { roomId: m.roomId, day, hour, messages: 0 };
    h.messages++;
    hours.set(hk, h);
  }
  return { days: [...days.values()], users: [...users.values()], hours: [...hours.values()] };
}

export type StatsRange = { from: string; to: string; days: string[] } | { error: string };

const DAY_MS = 86_400_000;
const parseDay = (day: string): number | null => {
  const t = Date.parse(`${day}T00:00:00Z`);
  // Date.parse rolls 2026-02-30 over to March: only a day that prints back the same is real.
  return Number.isNaN(t) || new Date(t).toISOString().slice(0, 10) !== day ? null : t;
};

/**
 * The range of days a stats request covers (docs/protocol.md, room.stats): `to` defaults to
 * today (UTC), `from` to 29 days before `to`; both inclusive, at most Limits.statsRangeMaxDays
 * days apart. Every day of the range is listed, so days without messages show as zeros.
 */
export function statsRange(req: { from?: string; to?: string }, now: Date): StatsRange {
  const to = req.to === undefined ? parseDay(utcDay(now)) : parseDay(req.to);
  if (to === null) return { error: `to "${req.to}" is not a day (YYYY-MM-DD)` };
  const from = req.from === undefined ? to - 29 * DAY_MS : parseDay(req.from);
  if (from === null) return { error: `from "${req.from}" is not a day (YYYY-MM-DD)` };
  if (from > to) return { error: 'from is after to' };
  const span = Math.round((to - from) / DAY_MS);
  if (span > Limits.statsRangeMaxDays) return { error: `the range spans more than ${Limits.statsRangeMaxDays} days` };
  const days: string[] = [];
  for (let t = from; t <= to; t += DAY_MS) days.push(utcDay(new Date(t)));
  return { from: days[0], to: days[days.length - 1], days };
}

/** What the stats tables answer for a range (rows only for days, hours and posters that had messages). */
export interface StatsRows {
  days: Array<{ day: string; messages: number; activeUsers: number }>;
  activeUsers: number;
  topPosters: PosterStats[];
  hours: Array<{ hour: number; messages: number }>;
}

/** The StatsView of a range: every day listed (zeros included), 24 hours, totals summed from the days. */
export function statsView(roomId: string | null, range: { from: string; to: string; days: string[] }, rows: StatsRows): StatsView {
  const byDay = new Map(rows.days.map((d) => [d.day, d]));
  const days: DailyStats[] = range.days.map((day) => ({
    day,
    messages: byDay.get(day)?.messages ?? 0,
    activeUsers: byDay.get(day)?.activeUsers ?? 0,
  }));
  const hours = Array.from({ length: 24 }, () => 0);
  for (const h of rows.hours) hours[h.hour] += h.messages;
  return {
    roomId,
    from: range.from,
    to: range.to,
    messages: days.reduce((n, d) => n + d.messages, 0),
    activeUsers: rows.activeUsers,
    days,
    topPosters: rows.topPosters.slice(0, 10),
    hours,
  };
}

/**
 * Who may read statistics (docs/protocol.md, room.stats): every room's, server administrators
 * only; a room's, its owner and admins and server administrators; a conversation's, its
 * participants only (a server administrator too only when a participant: who writes to whom,
 * how often and at what hours is theirs). A room the caller may not even see answers NOT_FOUND
 * as history.page does (server administrators see every group room that exists); a member
 * without the rights, FORBIDDEN.
 */
export function statsRefusal(
  roomId: string | undefined,
  room: RoomAccess | null,
  standing: Standing,
  serverAdmin: boolean,
): ReadRefusal | null {
  if (roomId === undefined)
    return serverAdmin ? null : { code: 'FORBIDDEN', message: 'statistics of every room are for server administrators' };
  if (serverAdmin && room?.kind !== 'direct') return !room || room.deleted ? roomNotFound(roomId) : null;
  const refusal = readRefusal(roomId, room, standing);
  if (refusal) return refusal;
  if (room?.kind === 'direct') return null;
  if (standing?.role === 'owner' || standing?.role === 'admin') return null;
  return { code: 'FORBIDDEN', message: `statistics of room "${roomId}" are for its owner and admins` };
}
