import 'reflect-metadata';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { positionColumn } from '../db/entities';

/** Rooms as created (RoomCreated): visibility is kept for read rules that depend on it. */
@Entity({ name: 'rooms' })
export class RoomRow {
  @PrimaryColumn({ name: 'room_id', type: 'text' })
  roomId: string;
  @Column({ name: 'visibility', type: 'text' })
  visibility: string;
  @Column({ name: 'created_position', type: 'bigint', transformer: positionColumn })
  createdPosition: number;
}

/**
 * A user's membership of a room as of the newest room event about them (`position`). A leave
 * keeps the row with `member = false`: it must still win against an older join redelivered later.
 */
@Entity({ name: 'room_members' })
export class RoomMemberRow {
  @PrimaryColumn({ name: 'room_id', type: 'text' })
  roomId: string;
  @PrimaryColumn({ name: 'user_id', type: 'uuid' })
  userId: string;
  @Column({ name: 'member', type: 'boolean' })
  member: boolean;
  @Column({ name: 'role', type: 'text', nullable: true })
  role: string | null;
  @Column({ name: 'position', type: 'bigint', transformer: positionColumn })
  position: number;
}
