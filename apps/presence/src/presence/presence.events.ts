import { createHash } from 'node:crypto';
import { makeEvent, type PresenceChanged } from '@chat/contracts';
import type { PresenceChange } from './presence.state';

export const PRESENCE_ACTOR = { kind: 'service', id: 'presence' } as const;

/** A short digest of the custom text (msgIds are headers: bounded, no line breaks). */
const textRef = (text: string | null) => (text === null ? '-' : createHash('sha256').update(text).digest('base64url').slice(0, 12));

/**
 * `Nats-Msg-Id` of the event for a change. Every replica derives the same id from the same
 * input, so the stream stores the change once however many replicas publish it.
 */
export const presenceMsgId = (c: PresenceChange) => `${c.userId}:${c.status}:${textRef(c.text)}:${c.causeId}`;

export function presenceChangedEvent(c: PresenceChange, newId: () => string): PresenceChanged {
  return makeEvent<PresenceChanged>(
    { now: () => new Date(c.at), newId, actor: PRESENCE_ACTOR, correlationId: c.causeId, causationId: c.causeId },
    'PresenceChanged',
    2,
    { userId: c.userId, username: c.username, status: c.status, text: c.text, lastSeen: c.at },
  );
}
