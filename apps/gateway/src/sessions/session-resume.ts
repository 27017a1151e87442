import type { ResumeResult } from '@chat/contracts';
import type { Session } from './session';

/** A resume read from the stream, ready to be sent (see SessionResume.prepare). */
export interface PreparedResume {
  readonly result: ResumeResult;
  /**
   * Sends the replayed frames, paced to what the client reads (never past half the send buffer
   * limit). Before the session is authenticated: live frames keep waiting meanwhile.
   */
  replay(): Promise<void>;
  /** Right after the session is authenticated: sends the live frames held meanwhile, and ends holding. */
  finish(): void;
}

/**
 * Resume on `auth` (docs/protocol.md "Resuming"), kept by fan-out (fanout/resumer.ts), used by
 * the auth handler: a port in the layer both may import, like SessionRooms.
 */
export interface SessionResume {
  /** Before the session's room subscriptions are made: its live event frames wait from now on. */
  hold(session: Session): void;
  /** The auth failed: nothing held is sent, holding ends. */
  abandon(session: Session): void;
  /**
   * Once the session's room subscriptions are live: reads what the user missed after
   * `resumeFrom`. Then `replay()`, authenticate the session, `finish()`, and reply.
   */
  prepare(session: Session, userId: string, resumeFrom: number, currentRooms: string[]): Promise<PreparedResume>;
}
export const SESSION_RESUME = Symbol('SESSION_RESUME');
