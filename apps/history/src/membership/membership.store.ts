import type { EntityManager } from 'typeorm';
import { toStoredMessage, viewColumns, type StoredLifecycleRow, type StoredMessage } from '../messages/message.sql-row';
import { recheck } from '../posting/posting.store';
import type { DeadLetter } from '../store/events';
import type { HistoryStore } from '../store/history.store';
import type { ApplyContext } from '../store/read-model';
import { RoomMemberRow, RoomRow } from './membership.entity';
import type { MembershipPart, RoomAccess, Standing } from './membership.plan';

/**
 * Writes the membership part of a plan, in three steps that are each safe to repeat and to run
 * out of order with other batches:
 * 1. the log rows, INSERT … ON CONFLICT DO NOTHING on their (…, position) keys;
 * 2. the newest state of every touched room and (room, user), recomputed from the logs (so the
 *    order in which batches commit never matters), and each touched room's owner from its members;
 * 3. the rechecks: stored messages after a late room event judged again (posting/).
 */
export async function applyMembership(em: EntityManager, part: MembershipPart, ctx: ApplyContext): Promise<DeadLetter[]> {
  const s = ctx.schema;
  if (part.rooms.length) {
    const r = part.rooms;
    await em.query(
      `INSERT INTO ${s}.room_changes (room_id, position, created, deleted, kind, name, visibility, post_policy, retention_set, retention_days)
       SELECT * FROM unnest($1::text[], $2::bigint[], $3::boolean[], $4::boolean[], $5::text[], $6::text[], $7::text[], $8::text[],
                            $9::boolean[], $10::integer[])
       ON CONFLICT DO NOTHING`,
      [
        r.map((c) => c.roomId),
        r.map((c) => c.position),
        r.map((c) => c.created),
        r.map((c) => c.deleted),
        r.map((c) => c.kind ?? null),
        r.map((c) => c.name ?? null),
        r.map((c) => c.visibility ?? null),
        r.map((c) => c.postPolicy ?? null),
        r.map((c) => c.retention !== undefined),
        r.map((c) => c.retention?.days ?? null),
      ],
    );
  }
  if (part.members.length) {
    const m = part.members;
    await em.query(
      `INSERT INTO ${s}.member_changes (room_id, user_id, position, member, role, username, time)
       SELECT * FROM unnest($1::text[], $2::uuid[], $3::bigint[], $4::boolean[], $5::text[], $6::text[], $7::timestamptz[])
       ON CONFLICT DO NOTHING`,
      [
        m.map((c) => c.roomId),
        m.map((c) => c.userId),
        m.map((c) => c.position),
        m.map((c) => c.member),
        m.map((c) => c.role),
        m.map((c) => c.username),
        m.map((c) => c.time),
      ],
    );
  }
  if (part.blocks.length) {
    const b = part.blocks;
    await em.query(
      `INSERT INTO ${s}.block_changes (room_id, blocker_id, position, blocked_id, blocked)
       SELECT * FROM unnest($1::text[], $2::uuid[], $3::bigint[], $4::uuid[], $5::boolean[])
       ON CONFLICT DO NOTHING`,
      [b.map((c) => c.roomId), b.map((c) => c.blockerId), b.map((c) => c.position), b.map((c) => c.blockedId), b.map((c) => c.blocked)],
    );
  }
  if (part.touchedMembers.length) {
    const t = part.touchedMembers;
    // The newest change per (room, user); a membership starts at the first change after the
    // newest one that ended a membership (joined_position / joined_at).
    await em.query(
      `INSERT INTO ${s}.room_members (room_id, user_id, member, role, username, position, joined_position, joined_at)
       SELECT t.room_id, t.user_id, l.member, l.role, l.username, l.position, j.position, j.time
         FROM unnest($1::text[], $2::uuid[]) AS t(room_id, user_id)
         JOIN LATERAL (SELECT c.member, c.role, c.username, c.position FROM ${s}.member_changes c
                        WHERE c.room_id = t.room_id AND c.user_id = t.user_id
                        ORDER BY c.position DESC LIMIT 1) l ON true
         LEFT JOIN LATERAL (SELECT c.position, c.time FROM ${s}.member_changes c
                             WHERE l.member AND c.room_id = t.room_id AND c.user_id = t.user_id
                               AND c.position > COALESCE((SELECT max(e.position) FROM ${s}.member_changes e
                                                           WHERE e.room_id = t.room_id AND e.user_id = t.user_id AND NOT e.member), 0)
                             ORDER BY c.position LIMIT 1) j ON true
       ON CONFLICT (room_id, user_id) DO UPDATE
          SET member = EXCLUDED.member, role = EXCLUDED.role, username = EXCLUDED.username, position = EXCLUDED.position,
              joined_position = EXCLUDED.joined_position, joined_at = EXCLUDED.joined_at`,
      [t.map((k) => k.roomId), t.map((k) => k.userId)],
    );
  }
  if (part.touchedRooms.length) {
    // A room exists from its first creation event; each setting is the newest one set.
    const newest = (column: string) =>
      `(SELECT c.${column} FROM ${s}.room_changes c WHERE c.room_id = t.room_id AND c.${column} IS NOT NULL ORDER BY c.position DESC LIMIT 1)`;
    // The retention period is the newest RoomRetentionSet's, null (the default) included.
    const retention = `(SELECT c.retention_days FROM ${s}.room_changes c WHERE c.room_id = t.room_id AND c.retention_set ORDER BY c.position DESC LIMIT 1)`;
    await em.query(
      `INSERT INTO ${s}.rooms (room_id, kind, name, visibility, post_policy, retention_days, deleted, created_position, position)
       SELECT t.room_id, k.kind, ${newest('name')}, ${newest('visibility')}, ${newest('post_policy')}, ${retention},
              EXISTS (SELECT 1 FROM ${s}.room_changes d WHERE d.room_id = t.room_id AND d.deleted),
              k.position,
              (SELECT max(c.position) FROM ${s}.room_changes c WHERE c.room_id = t.room_id)
         FROM unnest($1::text[]) AS t(room_id)
         JOIN LATERAL (SELECT c.kind, c.position FROM ${s}.room_changes c
                        WHERE c.room_id = t.room_id AND c.created ORDER BY c.position LIMIT 1) k ON true
       ON CONFLICT (room_id) DO UPDATE
          SET kind = EXCLUDED.kind, name = EXCLUDED.name, visibility = EXCLUDED.visibility, post_policy = EXCLUDED.post_policy,
              retention_days = EXCLUDED.retention_days, deleted = EXCLUDED.deleted, created_position = EXCLUDED.created_position, position = EXCLUDED.position`,
      [part.touchedRooms],
    );
    await em.query(
      `UPDATE ${s}.rooms r
          SET owner_id = (SELECT m.user_id FROM ${s}.room_members m
                           WHERE m.room_id = r.room_id AND m.member AND m.role = 'owner' ORDER BY m.position DESC LIMIT 1)
        WHERE r.room_id = ANY($1::text[])`,
      [part.touchedRooms],
    );
  }
  if (ctx.recheck && part.rechecks.length) {
    const { dropped } = await recheck(em, s, part.rechecks, ctx.retention);
    ctx.dropped.push(...dropped);
  }
  return [];
}

/** A conversation of the caller's that has a message: the other participant and the newest message. */
export interface ConversationRecord {
  roomId: string;
  peerId: string;
  peerName: string;
  lastMessage: StoredMessage;
}

/** Reads of the membership read model. */
export class MembershipQueries {
  constructor(private readonly store: HistoryStore) {}

  /** The user's row for the room (null: no room event about them projected). */
  async standing(roomId: string, userId: string): Promise<Standing> {
    const row = await this.store.read((qr) => qr.manager.getRepository(RoomMemberRow).findOneBy({ roomId, userId }));
    return row ? { member: row.member, role: row.role as Exclude<Standing, null>['role'], position: row.position } : null;
  }

  /** The room as authorisation sees it, and the newest room-level position applied to it (null: not created, as far as projected). */
  async room(roomId: string): Promise<(RoomAccess & { position: number }) | null> {
    const row = await this.store.read((qr) => qr.manager.getRepository(RoomRow).findOneBy({ roomId }));
    if (!row) return null;
    return {
      kind: row.kind as RoomAccess['kind'],
      visibility: row.visibility as RoomAccess['visibility'],
      deleted: row.deleted,
      position: row.position,
    };
  }

  /**
   * The user's conversations that have a stored message, newest message first. Served by the
   * partial index room_members (user_id, room_id) WHERE member for the user's rooms, the rooms
   * and room_members primary keys for the kind and the peer, and one backward step on messages
   * (room_id, position DESC) per conversation for its newest message.
   */
  async conversations(userId: string): Promise<ConversationRecord[]> {
    const s = this.store.schema;
    const rows: Array<StoredLifecycleRow & { peer_id: string; peer_name: string }> = await this.store.read((qr) =>
      qr.query(
        `SELECT me.room_id, peer.user_id AS peer_id, peer.username AS peer_name,
                ${viewColumns('m')}
           FROM ${s}.room_members me
           JOIN ${s}.rooms r ON r.room_id = me.room_id AND r.kind = 'direct' AND NOT r.deleted
           JOIN ${s}.room_members peer ON peer.room_id = me.room_id AND peer.user_id <> me.user_id
           CROSS JOIN LATERAL (SELECT * FROM ${s}.messages x WHERE x.room_id = me.room_id ORDER BY x.position DESC LIMIT 1) m
          WHERE me.user_id = $1 AND me.member
          ORDER BY m.position DESC`,
        [userId],
      ),
    );
    return rows.map((r) => ({
      roomId: r.room_id,
      peerId: r.peer_id,
      peerName: r.peer_name,
      lastMessage: toStoredMessage(r),
    }));
  }
}
