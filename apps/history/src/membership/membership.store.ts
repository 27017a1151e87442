import type { EntityManager } from 'typeorm';
import type { DeadLetter } from '../store/events';
import type { HistoryStore } from '../store/history.store';
import type { ApplyContext } from '../store/read-model';
import { RoomMemberRow, RoomRow } from './membership.entity';
import type { MembershipPart, Standing } from './membership.plan';

/**
 * Writes the membership part of a plan. Rooms: INSERT … ON CONFLICT DO NOTHING. Members: one
 * multi-row upsert that only replaces a row set by an older position, so a redelivered older
 * join cannot undo a newer leave, and applying the part twice changes nothing.
 */
export async function applyMembership(em: EntityManager, part: MembershipPart, ctx: ApplyContext): Promise<DeadLetter[]> {
  if (part.rooms.length) {
    await em
      .createQueryBuilder()
      .insert()
      .into(RoomRow)
      .values(part.rooms.map((r) => ({ ...r })))
      .orIgnore()
      .execute();
  }
  if (part.members.length) {
    const m = part.members;
    await em.query(
      `INSERT INTO ${ctx.schema}.room_members (room_id, user_id, member, role, position)
       SELECT * FROM unnest($1::text[], $2::uuid[], $3::boolean[], $4::text[], $5::bigint[])
       ON CONFLICT (room_id, user_id) DO UPDATE
          SET member = EXCLUDED.member, role = EXCLUDED.role, position = EXCLUDED.position
        WHERE room_members.position < EXCLUDED.position`,
      [m.map((r) => r.roomId), m.map((r) => r.userId), m.map((r) => r.member), m.map((r) => r.role), m.map((r) => r.position)],
    );
  }
  return [];
}

/** Reads of the membership read model. */
export class MembershipQueries {
  constructor(private readonly store: HistoryStore) {}

  /** The user's row for the room (null: no room event about them projected). */
  async standing(roomId: string, userId: string): Promise<Standing> {
    const row = await this.store.read((qr) => qr.manager.getRepository(RoomMemberRow).findOneBy({ roomId, userId }));
    return row ? { member: row.member, role: row.role as Exclude<Standing, null>['role'], position: row.position } : null;
  }
}
