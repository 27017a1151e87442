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

/**
 * Whether a stored message's record may be written over what the bucket holds for its key.
 * Records are derived from the stream, and the stream may hand an old message out again
 * (redelivery after a crash, a replayed consumer) after a newer message with the same key was
 * accepted (the older one's record had expired): the record must stay the newer one's, since a
 * retry means the latest send. Same position: already written, nothing to do.
 */
export function supersedes(existing: AcceptedMessage | null, incoming: AcceptedMessage): boolean {
  return existing === null || existing.position < incoming.position;
}

/** How the message-id records keep up with the stream, derived from its duplicate window. */
export interface RecorderTiming {
  /** The recorder's ack wait: a batch taken by a replica that died is handed out again after it. */
  ackWaitMs: number;
  /** Sends are refused while the oldest unrecorded message is older than this. */
  maxLagMs: number;
  /** Re-publishes of an unanswered append start within this time of the first publish. */
  republishWindowMs: number;
  /** How often the recorder's progress is read. */
  pollMs: number;
}

/**
 * A retry that comes after the duplicate window is recognised only by its record, so a send must
 * not be appended while a message older than the window may still be unrecorded. Sends check the
 * recorder's lag as it was before their record lookup, and their (re-)publishes follow within
 * `republishWindowMs`: with maxLag (1/2) + republish (<= 1/4) there is still a quarter of the
 * window for publish latency, poll staleness and clocks. The ack wait (a quarter, 1-30 s) bounds
 * how long a crashed replica's batch stays unrecorded, so a single crash does not refuse sends.
 */
export function recorderTiming(duplicateWindowMs: number): RecorderTiming {
  const quarter = Math.floor(duplicateWindowMs / 4);
  return {
    ackWaitMs: Math.min(30_000, Math.max(1000, quarter)),
    maxLagMs: Math.floor(duplicateWindowMs / 2),
    republishWindowMs: Math.min(10_000, quarter),
    pollMs: Math.min(1000, Math.max(100, Math.floor(duplicateWindowMs / 20))),
  };
}
