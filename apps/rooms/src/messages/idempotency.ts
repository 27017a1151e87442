import { createHash } from 'node:crypto';
import { decodeChatEvent } from '@chat/contracts';

/**
 * A send's idempotency key: the same (room, sender, clientMsgId) always maps to the same key,
 * which is both the JetStream `Nats-Msg-Id` of the append and the message-id KV key. Within the
 * stream's duplicate window JetStream drops a retried append and acks the original position;
 * beyond it the KV record answers with the original. Once the record has expired
 * (MESSAGE_ID_TTL_HOURS) the same key may be accepted again as a new message, so the key is
 * never the message's identity: every accepted message gets its own random id.
 */
export function idempotencyKey(roomId: string, senderId: string, clientMsgId: string): string {
  return createHash('sha256').update(`${roomId}\u0000${senderId}\u0000${clientMsgId}`, 'utf8').digest('hex');
}

/** What the KV bucket remembers about an accepted message. */
export interface AcceptedMessage {
  messageId: string;
  position: number;
  time: string;
}

/**
 * The accepted message as stored at `position` (a parsed `MessagePosted`), or null when what is
 * stored there cannot be read as one; then its id is unknown and must not be guessed.
 */
export function acceptedFrom(stored: unknown, position: number): AcceptedMessage | null {
  const decoded = decodeChatEvent(stored);
  if (!decoded.ok || decoded.event.type !== 'MessagePosted') return null;
  return { messageId: decoded.event.payload.messageId, position, time: decoded.event.time };
}
