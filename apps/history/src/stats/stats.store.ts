import type { EntityManager } from 'typeorm';
import type { HistoryStore } from '../store/history.store';
import { rollUp, type StatsRows } from './stats.plan';

/** A message that has just entered or left `messages` (its INSERT or DELETE happened in this transaction). */
export interface PostedMessage {
  roomId: string;
  senderId: string;
  senderName: string;
  createdAt: Date;
}

/**
 * Adds freshly stored messages to the statistics tables inside the batch transaction. The
 * statistics describe the messages history holds (docs/protocol.md, room.stats): every row
 * inserted into `messages` is added (a new post, or a dropped post a late room event lets
 * stand), and `uncountPosts` subtracts every row that leaves it (dropped by a late room event,
 * removed by retention). Callers pass exactly the rows their INSERT … RETURNING (DELETE …
 * RETURNING) reported, so a redelivered event (its INSERT does nothing) is never counted twice;
 * the sums are commutative, so batches committing out of order add up to the same totals, and
 * a rebuild to the live ones. Three upserts, one row per key (rolled up first), whatever the
 * batch size.
 */
export async function countPosts(em: EntityManager, schema: string, messages: PostedMessage[]): Promise<void> {
  if (!messages.length) return;
  const r = rollUp(messages);
  await em.query(
    `INSERT INTO ${schema}.stats_room_days (room_id, day, messages)
     SELECT * FROM unnest($1::text[], $2::date[], $3::bigint[])
     ON CONFLICT (room_id, day) DO UPDATE SET messages = stats_room_days.messages + EXCLUDED.messages`,
    [r.days.map((d) => d.roomId), r.days.map((d) => d.day), r.days.map((d) => d.messages)],
  );
  await em.query(
    `INSERT INTO ${schema}.stats_room_day_users (room_id, day, user_id, username, messages)
     SELECT * FROM unnest($1::text[], $2::date[], $3::uuid[], $4::text[], $5::bigint[])
     ON CONFLICT (room_id, day, user_id) DO UPDATE
        SET messages = stats_room_day_users.messages + EXCLUDED.messages, username = EXCLUDED.username`,
    [
      r.users.map((u) => u.roomId),
      r.users.map((u) => u.day),
      r.users.map((u) => u.userId),
      r.users.map((u) => u.username),
      r.users.map((u) => u.messages),
    ],
  );
  await em.query(
    `INSERT INTO ${schema}.stats_room_day_hours (room_id, day, hour, messages)
     SELECT * FROM unnest($1::text[], $2::date[], $3::smallint[], $4::bigint[])
     ON CONFLICT (room_id, day, hour) DO UPDATE SET messages = stats_room_day_hours.messages + EXCLUDED.messages`,
    [r.hours.map((h) => h.roomId), r.hours.map((h) => h.day), r.hours.map((h) => h.hour), r.hours.map((h) => h.messages)],
  );
}

/**
 * Subtracts messages that have just left `messages` (DELETE … RETURNING in this transaction);
 * a key that falls to zero is removed, so a poster with no message left is no longer active
 * that day. Every removed row was added when it was inserted (or by the StatsBackfill
 * migration), so no count goes below zero.
 */
export async function uncountPosts(em: EntityManager, schema: string, messages: PostedMessage[]): Promise<void> {
  if (!messages.length) return;
  const r = rollUp(messages);
  const days = [r.days.map((d) => d.roomId), r.days.map((d) => d.day), r.days.map((d) => d.messages)];
  await em.query(
    `UPDATE ${schema}.stats_room_days t SET messages = t.messages - k.messages
       FROM unnest($1::text[], $2::date[], $3::bigint[]) AS k(room_id, day, messages)
      WHERE t.room_id = k.room_id AND t.day = k.day`,
    days,
  );
  await em.query(
    `DELETE FROM ${schema}.stats_room_days t USING unnest($1::text[], $2::date[]) AS k(room_id, day)
      WHERE t.room_id = k.room_id AND t.day = k.day AND t.messages <= 0`,
    days.slice(0, 2),
  );
  const users = [r.users.map((u) => u.roomId), r.users.map((u) => u.day), r.users.map((u) => u.userId), r.users.map((u) => u.messages)];
  await em.query(
    `UPDATE ${schema}.stats_room_day_users t SET messages = t.messages - k.messages
       FROM unnest($1::text[], $2::date[], $3::uuid[], $4::bigint[]) AS k(room_id, day, user_id, messages)
      WHERE t.room_id = k.room_id AND t.day = k.day AND t.user_id = k.user_id`,
    users,
  );
  await em.query(
    `DELETE FROM ${schema}.stats_room_day_users t USING unnest($1::text[], $2::date[], $3::uuid[]) AS k(room_id, day, user_id)
      WHERE t.room_id = k.room_id AND t.day = k.day AND t.user_id = k.user_id AND t.messages <= 0`,
    users.slice(0, 3),
  );
  const hours = [r.hours.map((h) => h.roomId), r.hours.map((h) => h.day), r.hours.map((h) => h.hour), r.hours.map((h) => h.messages)];
  await em.query(
    `UPDATE ${schema}.stats_room_day_hours t SET messages = t.messages - k.messages
       FROM unnest($1::text[], $2::date[], $3::smallint[], $4::bigint[]) AS k(room_id, day, hour, messages)
      WHERE t.room_id = k.room_id AND t.day = k.day AND t.hour = k.hour`,
    hours,
  );
  await em.query(
    `DELETE FROM ${schema}.stats_room_day_hours t USING unnest($1::text[], $2::date[], $3::smallint[]) AS k(room_id, day, hour)
      WHERE t.room_id = k.room_id AND t.day = k.day AND t.hour = k.hour AND t.messages <= 0`,
    hours.slice(0, 3),
  );
}

/**
 * Reads of the statistics tables only (never `messages`): a room's range is a primary-key range
 * scan of each table; every room's (roomId null) the `day` indexes. A room's year is at most 366
 * day rows, 366 × 24 hour rows and one row per poster and day.
 */
export class StatsQueries {
  constructor(private readonly store: HistoryStore) {}

  async rows(roomId: string | null, from: string, to: string): Promise<StatsRows> {
    const s = this.store.schema;
    const room = roomId === null ? '' : 'AND room_id = $3';
    const params = roomId === null ? [from, to] : [from, to, roomId];
    return this.store.read(async (qr) => {
      const days: Array<{ day: string; messages: string; active: string }> = await qr.query(
        `SELECT to_char(d.day, 'YYYY-MM-DD') AS day, d.messages,
                (SELECT count(DISTINCT u.user_id) FROM ${s}.stats_room_day_users u WHERE u.day = d.day ${room.replace('room_id', 'u.room_id')}) AS active
           FROM (SELECT day, sum(messages) AS messages FROM ${s}.stats_room_days
                  WHERE day BETWEEN $1 AND $2 ${room} GROUP BY day) d`,
        params,
      );
      const [{ active }]: Array<{ active: string }> = await qr.query(
        `SELECT count(DISTINCT user_id) AS active FROM ${s}.stats_room_day_users WHERE day BETWEEN $1 AND $2 ${room}`,
        params,
      );
      // The name a poster had on the last day they posted in the range.
      const top: Array<{ user_id: string; username: string; messages: string }> = await qr.query(
        `SELECT user_id, (array_agg(username ORDER BY day DESC))[1] AS username, sum(messages) AS messages
           FROM ${s}.stats_room_day_users WHERE day BETWEEN $1 AND $2 ${room}
          GROUP BY user_id ORDER BY sum(messages) DESC, user_id LIMIT 10`,
        params,
      );
      const hours: Array<{ hour: number; messages: string }> = await qr.query(
        `SELECT hour, sum(messages) AS messages FROM ${s}.stats_room_day_hours WHERE day BETWEEN $1 AND $2 ${room} GROUP BY hour`,
        params,
      );
      return {
        days: days.map((d) => ({ day: d.day, messages: Number(d.messages), activeUsers: Number(d.active) })),
        activeUsers: Number(active),
        topPosters: top.map((t) => ({ userId: t.user_id, username: t.username, messages: Number(t.messages) })),
        hours: hours.map((h) => ({ hour: Number(h.hour), messages: Number(h.messages) })),
      };
    });
  }
}
