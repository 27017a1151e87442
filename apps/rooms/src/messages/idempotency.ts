import { createHash } from 'node:crypto';

/**
 * A message's idempotency key: the same (room, sender, clientMsgId) always maps to the same
 * key, message id and JetStream `Nats-Msg-Id`, so a retried send can never create a second
 * message — within the stream's duplicate window JetStream drops it, and beyond it the
 * message-id KV bucket answers with the original.
 */
export function idempotencyKey(roomId: string, senderId: string, clientMsgId: string): string {
  return createHash('sha256').update(`${roomId}\u0000${senderId}\u0000${clientMsgId}`, 'utf8').digest('hex');
}

/** A UUID (version 8: custom, RFC 9562) derived from the key, so retries get the same id. */
export function messageIdFor(key: string): string {
  const h = key.slice(0, 32).split('');
  h[12] = '8';
  h[16] = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  const x = h.join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20, 32)}`;
}

/** What the KV bucket remembers about an accepted message. */
export interface AcceptedMessage {
  messageId: string;
  position: number;
  time: string;
}
