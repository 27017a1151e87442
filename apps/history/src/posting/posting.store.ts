import type { EntityManager } from 'typeorm';
import type { MemberRole, PostPolicy } from '@chat/contracts';
import type { MessageRecord } from '../messages/messages.plan';
import { postColumns, toMessageRecord, type StoredMessageRow } from '../messages/message.sql-row';
import { afterInsert, afterRemoval, searchOf } from '../messages/lifecycle.store';
import type { DeadLetter, DroppedMessage } from '../store/events';
import { postRefusal, type PostRefusal, type PostRights } from './posting';
import type { Recheck } from '../membership/membership.plan';
import { countPosts, uncountPosts } from '../stats/stats.store';
import type { Retention } from '../store/read-model';

/**
 * Where the posting rule meets the tables: the membership read model's change logs answer "what
 * were the sender's rights at this position" (each answer a few backward index steps on the logs'
 * primary keys), and every MessagePosted ends in `messages` or in `dropped_messages`, never both.
 * Run inside the batch transaction, after the batch's room events are in the logs, so a kick and
 * a post in one batch are judged in stream order.
 */

type Post = Pick<MessageRecord, 'roomId' | 'senderId' | 'position' | 'createdAt'>;

const DAY_MS = 86_400_000;

/**
 * The rights of each post's sender at the post's position, by position, and whether the post is
 * past its room's retention period (the room's current policy, else the default) at `retention.now`.
 */
export async function rightsAt(em: EntityManager, schema: string, posts: Post[], retention: Retention): Promise<Map<number, PostRights>> {
  if (!posts.length) return new Map();
  const rows: Array<{
    position: string;
    room_created: boolean;
    room_deleted: boolean;
    post_policy: PostPolicy | null;
    member: boolean | null;
    role: MemberRole | null;
    blocked: boolean;
    retention_days: number | null;
  }> = await em.query(
    `SELECT c.position,
            (SELECT r.retention_days FROM ${schema}.rooms r WHERE r.room_id = c.room_id) AS retention_days,
            EXISTS (SELECT 1 FROM ${schema}.room_changes k
                     WHERE k.room_id = c.room_id AND k.created AND k.position < c.position) AS room_created,
            EXISTS (SELECT 1 FROM ${schema}.room_changes d WHERE d.room_id = c.room_id AND d.deleted) AS room_deleted,
            (SELECT p.post_policy FROM ${schema}.room_changes p
              WHERE p.room_id = c.room_id AND p.post_policy IS NOT NULL AND p.position < c.position
              ORDER BY p.position DESC LIMIT 1) AS post_policy,
            mem.member, mem.role,
            EXISTS (SELECT 1 FROM (SELECT DISTINCT ON (b.blocker_id) b.blocked FROM ${schema}.block_changes b
                                    WHERE b.room_id = c.room_id AND b.position < c.position
                                    ORDER BY b.blocker_id, b.position DESC) newest
                     WHERE newest.blocked) AS blocked
       FROM unnest($1::text[], $2::uuid[], $3::bigint[]) AS c(room_id, sender_id, position)
       LEFT JOIN LATERAL (SELECT m.member, m.role FROM ${schema}.member_changes m
                           WHERE m.room_id = c.room_id AND m.user_id = c.sender_id AND m.position < c.position
                           ORDER BY m.position DESC LIMIT 1) mem ON true`,
    [posts.map((p) => p.roomId), posts.map((p) => p.senderId), posts.map((p) => p.position)],
  );
  const createdAt = new Map(posts.map((p) => [p.position, p.createdAt]));
  const expired = (days: number | null, position: number) => {
    const d = days ?? retention.defaultDays;
    return d > 0 && createdAt.get(position)!.getTime() < retention.now.getTime() - d * DAY_MS;
  };
  return new Map(
    rows.map((r) => [
      Number(r.position),
      {
        roomCreated: r.room_created,
        roomDeleted: r.room_deleted,
        postPolicy: r.post_policy,
        member: r.member === true,
        role: r.role,
        blocked: r.blocked,
        expired: expired(r.retention_days, Number(r.position)),
      },
    ]),
  );
}

export interface Settled {
  /** Messages whose id or position another stored event holds: dead letters (only when their events are at hand). */
  conflicts: DeadLetter[];
  /** Newly written to dropped_messages by this call. */
  dropped: DroppedMessage[];
  /** Inserted into `messages` by this call (INSERT … RETURNING): new posts, or dropped ones standing again. */
  inserted: MessageRecord[];
}

/** Nothing to settle. */
const none = (): Settled => ({ conflicts: [], dropped: [], inserted: [] });

/**
 * Judges each record at its position and puts it where it belongs: a message that stands is
 * inserted into `messages` (and leaves `dropped_messages` if a late room event made it stand), a
 * refused one is removed from `messages` (if an earlier judgement stored it) and kept in
 * `dropped_messages` with the reason. Idempotent. `resolveConflicts` turns messages the insert
 * skipped into dead letters (the batch path, which has their events); without it (a recheck of
 * stored rows) a message that cannot be inserted stays where it was. The statistics follow
 * `messages`: every row inserted here is counted, every row removed here is subtracted.
 */
export async function settle(
  em: EntityManager,
  schema: string,
  records: MessageRecord[],
  resolveConflicts: ((skipped: MessageRecord[]) => Promise<DeadLetter[]>) | null,
  retention: Retention,
): Promise<Settled> {
  if (!records.length) return none();
  const rights = await rightsAt(em, schema, records, retention);
  const stand: MessageRecord[] = [];
  const refused: Array<MessageRecord & { reason: PostRefusal }> = [];
  for (const r of records) {
    const reason = postRefusal(rights.get(r.position)!);
    if (reason) refused.push({ ...r, reason });
    else stand.push(r);
  }
  let conflicts: DeadLetter[] = [];
  let inserted: MessageRecord[] = [];
  if (stand.length) {
    const written: Array<{ position: string }> = await em.query(
      `INSERT INTO ${schema}.messages (message_id, room_id, position, sender_id, sender_name, client_msg_id, body, created_at,
                                       reply_to, reply_snapshot, mentions, search)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::timestamptz[],
                            $9::uuid[], $10::jsonb[], $11::jsonb[], $12::tsvector[])
       ON CONFLICT DO NOTHING RETURNING position`,
      [...columns(stand), stand.map((m) => searchOf(m.body))],
    );
    const insertedAt = new Set(written.map((w) => Number(w.position)));
    inserted = stand.filter((m) => insertedAt.has(m.position));
    await countPosts(em, schema, inserted);
    // Its mentions, and any change that reached history before it (out-of-order batches).
    await afterInsert(em, schema, inserted);
    const skipped = stand.filter((m) => !insertedAt.has(m.position));
    if (skipped.length && resolveConflicts) conflicts = await resolveConflicts(skipped);
    await em.query(
      `DELETE FROM ${schema}.dropped_messages d USING ${schema}.messages m
        WHERE d.position = ANY($1::bigint[]) AND m.position = d.position AND m.message_id = d.message_id`,
      [stand.map((m) => m.position)],
    );
  }
  const dropped: DroppedMessage[] = [];
  if (refused.length) {
    // TypeORM answers a DELETE … RETURNING with [rows, count].
    const [removed]: [
      Array<{ message_id: string; room_id: string; position: string; sender_id: string; sender_name: string; created_at: Date }>,
      number,
    ] = await em.query(
      `DELETE FROM ${schema}.messages m USING unnest($1::bigint[], $2::uuid[]) AS r(position, message_id)
        WHERE m.position = r.position AND m.message_id = r.message_id
       RETURNING m.message_id, m.room_id, m.position, m.sender_id, m.sender_name, m.created_at`,
      [refused.map((m) => m.position), refused.map((m) => m.messageId)],
    );
    await uncountPosts(
      em,
      schema,
      removed.map((r) => ({ roomId: r.room_id, senderId: r.sender_id, senderName: r.sender_name, createdAt: r.created_at })),
    );
    await afterRemoval(
      em,
      schema,
      removed.map((r) => ({ messageId: r.message_id, roomId: r.room_id, position: Number(r.position) })),
    );
    const written: Array<{ position: string }> = await em.query(
      `INSERT INTO ${schema}.dropped_messages (message_id, room_id, position, sender_id, sender_name, client_msg_id, body, created_at,
                                               reply_to, reply_snapshot, mentions, reason)
       SELECT * FROM unnest($1::uuid[], $2::text[], $3::bigint[], $4::uuid[], $5::text[], $6::text[], $7::text[], $8::timestamptz[],
                            $9::uuid[], $10::jsonb[], $11::jsonb[], $12::text[])
       ON CONFLICT (position) DO NOTHING RETURNING position`,
      [...columns(refused), refused.map((m) => m.reason)],
    );
    const fresh = new Set(written.map((w) => Number(w.position)));
    for (const m of refused)
      if (fresh.has(m.position)) dropped.push({ position: m.position, roomId: m.roomId, senderId: m.senderId, reason: m.reason });
  }
  return { conflicts, dropped, inserted };
}

/**
 * Judges again the stored messages (kept or dropped) that late room events may have changed:
 * for each recheck, the room's (or one sender's) rows after its position. In stream order there
 * are none (nothing after a new event is stored yet), so this costs one empty index range scan
 * per recheck; after a redelivered or out-of-order batch it moves what the newly known events
 * decide otherwise.
 */
export async function recheck(em: EntityManager, schema: string, rechecks: Recheck[], retention: Retention): Promise<Settled> {
  if (!rechecks.length) return none();
  const params = [rechecks.map((r) => r.roomId), rechecks.map((r) => r.from), rechecks.map((r) => r.userId)];
  const scope = (table: string) =>
    `SELECT ${postColumns('t')}
       FROM unnest($1::text[], $2::bigint[], $3::uuid[]) AS r(room_id, from_position, user_id)
       JOIN ${schema}.${table} t ON t.room_id = r.room_id AND t.position > r.from_position
                                AND (r.user_id IS NULL OR t.sender_id = r.user_id)`;
  const rows: StoredMessageRow[] = await em.query(`${scope('messages')} UNION ${scope('dropped_messages')}`, params);
  const byPosition = new Map(rows.map((r) => [Number(r.position), toMessageRecord(r)]));
  return settle(
    em,
    schema,
    [...byPosition.values()].sort((a, b) => a.position - b.position),
    null,
    retention,
  );
}

const columns = (ms: MessageRecord[]) => [
  ms.map((m) => m.messageId),
  ms.map((m) => m.roomId),
  ms.map((m) => m.position),
  ms.map((m) => m.senderId),
  ms.map((m) => m.senderName),
  ms.map((m) => m.clientMsgId),
  ms.map((m) => m.body),
  ms.map((m) => m.createdAt),
  ms.map((m) => m.replyTo?.messageId ?? null),
  ms.map((m) => (m.replyTo ? JSON.stringify(m.replyTo) : null)),
  ms.map((m) => JSON.stringify(m.mentions)),
];
