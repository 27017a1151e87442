import { ChatError, type EventContext, type ModerationEvent, type UserView } from '@chat/contracts';
import { AppendOutcomeUnknown, AppendRefused, type AppendResult } from '@chat/messaging';
import { randomUUID } from 'node:crypto';
import type { ModerationLog } from '../log/moderation-log';

/** The moderation service itself as an event's actor (expiries, escalations, rules' verdicts). */
export const MODERATION_ACTOR = { kind: 'service', id: 'moderation' } as const;

/** Metadata for events a command appends: by `by` (a user), or by the service itself when null. */
export function eventContext(by: UserView | null, correlationId: string = randomUUID()): EventContext {
  return {
    now: () => new Date(),
    newId: randomUUID,
    actor: by ? { kind: 'user', id: by.userId } : MODERATION_ACTOR,
    correlationId,
  };
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
