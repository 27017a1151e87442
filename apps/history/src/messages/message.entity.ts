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
}
