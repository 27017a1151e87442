import type { MessageRecord } from './messages.plan';

/** A `messages` (or `dropped_messages`) row as a raw SQL query returns it: bigint as a string. */
export interface StoredMessageRow {
  message_id: string;
  room_id: string;
  position: string;
  sender_id: string;
  sender_name: string;
  client_msg_id: string;
  body: string;
  created_at: Date;
}

export const toMessageRecord = (r: StoredMessageRow): MessageRecord => ({
  messageId: r.message_id,
  roomId: r.room_id,
  position: Number(r.position),
  senderId: r.sender_id,
  senderName: r.sender_name,
  clientMsgId: r.client_msg_id,
  body: r.body,
  createdAt: r.created_at,
});
