import { ChatError, type EventContext, type ModerationEvent, type UserView } from '@chat/contracts';
import { AppendOutcomeUnknown, AppendRefused, type AppendResult } from '@chat/messaging';
import { createHash, randomUUID } from 'node:crypto';
import type { ModerationLog } from '../log/moderation-log';

/** The moderation service itself as an event's actor (expiries, escalations, rules' verdicts). */
export const MODERATION_ACTOR = { kind: 'service', id: 'moderation' } as const;

/**
 * Metadata for events a command appends: by `by` (a user), or by the service itself when null.
 * With `idsFrom` (the append's msgId), the ids it makes (the event's, a mute's, a report's)
 * are derived from it in order (derivedId), so every replica making the same append names it
 * the same: a duplicate then names what was stored.
 */
export function eventContext(
  by: UserView | null,
  correlationId: string = randomUUID(),
  idsFrom?: string,
  causationId: string | null = null,
): EventContext {
  let n = 0;
  return {
    now: () => new Date(),
    newId: idsFrom === undefined ? randomUUID : () => derivedId(`${idsFrom}#${n++}`),
    actor: by ? { kind: 'user', id: by.userId } : MODERATION_ACTOR,
    correlationId,
    causationId,
  };
}

/** A UUID (shaped as version 5) derived from `key` by SHA-256: the same key gives the same id on every replica. */
export function derivedId(key: string): string {
  const h = createHash('sha256').update(key, 'utf8').digest('hex');
  const variant = ((parseInt(h[16], 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** `byUserId`/`byUsername` of an event: the user, or null for the service. */
export const byFields = (by: UserView | null) => ({ byUserId: by?.userId ?? null, byUsername: by?.username ?? null });

/**
 * Appends and waits for this replica's fold, turning the stream's refusals into the errors a
 * client acts on: the subject moved on since the decision (CONFLICT: retry), or the outcome is
 * unknown (UNAVAILABLE: retry; a retry with the same msgId is stored once).
 */
export async function store(
  log: ModerationLog,
  subject: string,
  event: ModerationEvent,
  msgId: string = event.id,
  expectLastSubjectSequence?: number,
): Promise<AppendResult> {
  try {
    return await log.appendAndApply(subject, event, msgId, expectLastSubjectSequence);
  } catch (err) {
    if (err instanceof AppendRefused && err.reason === 'wrong-last-sequence')
      throw new ChatError('CONFLICT', 'changed concurrently by another moderator; reload and try again');
    if (err instanceof AppendOutcomeUnknown || err instanceof AppendRefused)
      throw new ChatError('UNAVAILABLE', 'the moderation stream did not answer; try again');
    throw err;
  }
}
