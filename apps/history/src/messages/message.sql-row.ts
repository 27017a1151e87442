import type { Mention, ReplyRef } from '@chat/contracts';
import type { MessageRecord } from './messages.plan';

/** A `messages` (or `dropped_messages`) row as a raw SQL query returns it: bigint as a string, jsonb parsed. */
export interface StoredMessageRow {
  message_id: string;
  room_id: string;
  position: string;
  sender_id: string;
  sender_name: string;
  client_msg_id: string;
  body: string;
  created_at: Date;
  reply_snapshot: ReplyRef | null;
  mentions: Mention[];
}

/** The post columns of both `messages` and `dropped_messages`, as `alias.column`. */
export const postColumns = (alias: string) =>
  ['message_id', 'room_id', 'position', 'sender_id', 'sender_name', 'client_msg_id', 'body', 'created_at', 'reply_snapshot', 'mentions']
    .map((c) => `${alias}.${c}`)
    .join(', ');

export const toMessageRecord = (r: StoredMessageRow): MessageRecord => ({
  messageId: r.message_id,
  roomId: r.room_id,
  position: Number(r.position),
  senderId: r.sender_id,
  senderName: r.sender_name,
  clientMsgId: r.client_msg_id,
  body: r.body,
  createdAt: r.created_at,
  replyTo: r.reply_snapshot ?? null,
  mentions: r.mentions ?? [],
});

/** A `messages` row with what happened to the message since it was posted. */
export interface StoredLifecycleRow extends StoredMessageRow {
  edited_at: Date | null;
  deleted_at: Date | null;
  deleted_by: string | null;
  deleted_by_name: string | null;
  delete_reason: 'author' | 'moderator' | null;
}

/** The columns a MessageView is built from, as `alias.column`. */
export const viewColumns = (alias: string) =>
  `${postColumns(alias)}, ${['edited_at', 'deleted_at', 'deleted_by', 'deleted_by_name', 'delete_reason'].map((c) => `${alias}.${c}`).join(', ')}`;

/** A message as stored now: the post, and its edit and deletion if any. */
export interface StoredMessage extends MessageRecord {
  editedAt: Date | null;
  deleted: { byUserId: string; byUsername: string; reason: 'author' | 'moderator'; time: Date } | null;
}

export const toStoredMessage = (r: StoredLifecycleRow): StoredMessage => ({
  ...toMessageRecord(r),
  editedAt: r.edited_at,
  deleted: r.deleted_at ? { byUserId: r.deleted_by!, byUsername: r.deleted_by_name!, reason: r.delete_reason!, time: r.deleted_at } : null,
});
