import 'reflect-metadata';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { positionColumn } from '../db/entities';

/**
 * A room as of the newest room-level event projected (recomputed from `room_changes`): what
 * authorisation and listings need. Conversations are `direct` (and private).
 */
@Entity({ name: 'rooms' })
export class RoomRow {
  @PrimaryColumn({ name: 'room_id', type: 'text' })
  roomId: string;
  @Column({ name: 'kind', type: 'text' })
  kind: string;
  /** null for conversations (they have no name) and rooms projected before names were kept. */
  @Column({ name: 'name', type: 'text', nullable: true })
  name: string | null;
  @Column({ name: 'visibility', type: 'text' })
  visibility: string;
  @Column({ name: 'post_policy', type: 'text' })
  postPolicy: string;
  /** Days the room's messages are kept (RoomRetentionSet); null: the deployment's default (RETENTION_DEFAULT_DAYS). */
  @Column({ name: 'retention_days', type: 'integer', nullable: true })
  retentionDays: number | null;
  @Column({ name: 'deleted', type: 'boolean' })
  deleted: boolean;
  /** The member whose role is owner; null for the default room and an emptied public room. */
  @Column({ name: 'owner_id', type: 'uuid', nullable: true })
  ownerId: string | null;
  @Column({ name: 'created_position', type: 'bigint', transformer: positionColumn })
  createdPosition: number;
  /** The newest room-level event applied. */
  @Column({ name: 'position', type: 'bigint', transformer: positionColumn })
  position: number;
}

/**
 * A user's membership of a room as of the newest room event about them (`position`),
 * recomputed from `member_changes`. A leave, kick or ban keeps the row with `member = false`.
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
  @Column({ name: 'username', type: 'text', nullable: true })
  username: string | null;
  @Column({ name: 'position', type: 'bigint', transformer: positionColumn })
  position: number;
  /** Where and when the current membership started (null when not a member). */
  @Column({ name: 'joined_position', type: 'bigint', nullable: true, transformer: positionColumn })
  joinedPosition: number | null;
  @Column({ name: 'joined_at', type: 'timestamptz', nullable: true })
  joinedAt: Date | null;
}
