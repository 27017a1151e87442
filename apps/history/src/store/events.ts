/** One stored event of the CHAT stream as the projector sees it. */
export interface StreamEvent {
  subject: string;
  /** Stream sequence. */
  position: number;
  /** Parsed JSON; undefined when the payload was not JSON. */
  data: unknown;
  /** The stored bytes, kept in dead letters. */
  raw?: Uint8Array;
}

/** An event that could not be projected, kept verbatim with the reason. */
export interface DeadLetter {
  position: number;
  subject: string;
  raw: string;
  error: string;
}

/** Where each room's events are appended (subjects.chat.roomMessages / roomMeta). */
export interface RoomSubjects {
  roomMessages(roomId: string): string;
  roomMeta(roomId: string): string;
}

/** A read model's verdict that an event of its type cannot be projected: it becomes a dead letter. */
export interface Rejected {
  rejected: string;
}
export const reject = (reason: string): Rejected => ({ rejected: reason });
export const isRejected = (v: unknown): v is Rejected => isObject(v) && typeof v.rejected === 'string';

const decoder = new TextDecoder('utf-8', { fatal: false });

/**
 * Postgres text cannot hold U+0000 and would fail the whole batch (blocking the stream), so
 * it becomes U+FFFD; every other character is stored as sent.
 */
export const storable = (s: string) => s.replace(/\u0000/g, '\uFFFD');

export const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function rawText(e: StreamEvent): string {
  if (e.raw) return storable(decoder.decode(e.raw));
  return e.data === undefined ? '' : storable(JSON.stringify(e.data));
}

export const letterOf = (e: StreamEvent, error: string): DeadLetter => ({
  position: e.position,
  subject: e.subject,
  raw: rawText(e),
  error,
});

/** A MessagePosted that is not (or no longer) a message: refused by the posting rules, or gone with its room. */
export interface DroppedMessage {
  position: number;
  roomId: string;
  senderId: string;
  reason: string;
}
