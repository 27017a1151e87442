import type { Session } from './session';

/**
 * The rooms the sessions of this gateway follow. Kept by fan-out (LiveFanout implements it),
 * used by operations (auth registers a session and merges its room list; joins and leaves): a
 * port in the layer both may import, so neither imports the other.
 */
export interface SessionRooms {
  /** A session that is authenticating, before its user's room list is fetched. */
  register(session: Session, userId: string): Promise<void>;
  /** Merges the user's room list; resolves once every new room subscription is in place. */
  applyRoomList(session: Session, roomIds: string[]): Promise<void>;
  unregister(session: Session): void;
  /** Whether the session's user follows the room here (is a member, as far as this gateway knows). */
  isFollowing(session: Session, roomId: string): boolean;
  /**
   * The user's connections follow the room from stream position `since` on (the join's own
   * position, so the join reaches them too): events stored from there are delivered even if
   * stored before the subscription. Without it, only live events from now on.
   */
  joined(userId: string, roomId: string, since?: number): Promise<void>;
  /** The user's connections stop following the room at once. */
  left(userId: string, roomId: string): void;
}
export const SESSION_ROOMS = Symbol('SESSION_ROOMS');
