import type { Session } from './session';

/**
 * The rooms the sessions of this gateway follow. Kept by fan-out (LiveFanout implements it),
 * used by operations (auth registers a session and merges its room list; joins, leaves and the
 * history membership check): a port in the layer both may import, so neither imports the other.
 */
export interface SessionRooms {
  /** A session that is authenticating, before its user's room list is fetched. */
  register(session: Session, userId: string): Promise<void>;
  /** Merges the user's room list; resolves once every new room subscription is in place. */
  applyRoomList(session: Session, roomIds: string[]): Promise<void>;
  unregister(session: Session): void;
  /** The user joined a room; with its position, messages after it are delivered even if stored before the subscription. */
  joined(userId: string, roomId: string, position?: number): Promise<void>;
  left(userId: string, roomId: string): void;
  isMember(userId: string, roomId: string): boolean;
}
export const SESSION_ROOMS = Symbol('SESSION_ROOMS');
