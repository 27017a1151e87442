import { makeEvent, type MessagePosted, type UserRegistered } from '@chat/contracts';
import { encodeJson, type Delivered } from '@chat/messaging';
import { randomUUID } from 'node:crypto';

/** A MessagePosted as the rooms service stores it, at `time`. */
export function posted(
  p: { roomId?: string; senderId: string; senderName?: string; body: string; messageId?: string },
  time = new Date(),
): MessagePosted {
  return makeEvent<MessagePosted>(
    { now: () => time, newId: randomUUID, actor: { kind: 'user', id: p.senderId }, correlationId: randomUUID() },
    'MessagePosted',
    2,
    {
      messageId: p.messageId ?? randomUUID(),
      roomId: p.roomId ?? 'general',
      senderId: p.senderId,
      senderName: p.senderName ?? 'ann',
      clientMsgId: randomUUID(),
      body: p.body,
      replyTo: null,
      mentions: [],
    },
  );
}

/** A UserRegistered as the gateway's registration stores it, at `time`. */
export function registered(user: { userId: string; username: string }, time = new Date()): UserRegistered {
  return makeEvent<UserRegistered>(
    { now: () => time, newId: randomUUID, actor: { kind: 'user', id: user.userId }, correlationId: randomUUID() },
    'UserRegistered',
    1,
    user,
  );
}

/** A consumer delivery of a stored event. */
export function delivered(event: unknown, seq: number, deliveryCount = 1, subject = 'chat.chat.room.general.msg'): Delivered {
  return { subject, seq, data: event, raw: encodeJson(event), redelivered: deliveryCount > 1, deliveryCount, pending: 0 };
}
