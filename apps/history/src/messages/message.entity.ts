import 'reflect-metadata';
import { Column, Entity, PrimaryColumn } from 'typeorm';
import { positionColumn } from '../db/entities';

/** The messages of every room, keyset-paged by (room_id, position DESC). */
@Entity({ name: 'messages' })
export class MessageRow {
  @PrimaryColumn({ name: 'message_id', type: 'uuid' })
  messageId: string;
  @Column({ name: 'room_id', type: 'text' })
  roomId: string;
  @Column({ name: 'position', type: 'bigint', unique: true, transformer: positionColumn })
  position: number;
  @Column({ name: 'sender_id', type: 'uuid' })
  senderId: string;
  @Column({ name: 'sender_name', type: 'text' })
  senderName: string;
  @Column({ name: 'client_msg_id', type: 'text' })
  clientMsgId: string;
  @Column({ name: 'body', type: 'text' })
  body: string;
  @Column({ name: 'created_at', type: 'timestamptz' })
  createdAt: Date;
  /** The lifecycle (migration MessageLifecycle): written with raw SQL by lifecycle.store.ts, read through message.sql-row.ts. */
  @Column({ name: 'reply_to', type: 'uuid', nullable: true })
  replyTo: string | null;
  @Column({ name: 'reply_snapshot', type: 'jsonb', nullable: true })
  replySnapshot: unknown;
  @Column({ name: 'mentions', type: 'jsonb' })
  mentions: unknown;
  @Column({ name: 'edited_at', type: 'timestamptz', nullable: true })
  editedAt: Date | null;
  @Column({ name: 'edit_position', type: 'bigint', nullable: true, transformer: positionColumn })
  editPosition: number | null;
  @Column({ name: 'deleted_at', type: 'timestamptz', nullable: true })
  deletedAt: Date | null;
  @Column({ name: 'deleted_by', type: 'uuid', nullable: true })
  deletedBy: string | null;
  @Column({ name: 'deleted_by_name', type: 'text', nullable: true })
  deletedByName: string | null;
  @Column({ name: 'delete_reason', type: 'text', nullable: true })
  deleteReason: string | null;
  @Column({ name: 'delete_position', type: 'bigint', nullable: true, transformer: positionColumn })
  deletePosition: number | null;
}
