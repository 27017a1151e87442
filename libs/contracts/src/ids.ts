import { createHash } from 'node:crypto';

/**
 * Ids that end up inside NATS subjects must be single subject tokens: no dots, wildcards or
 * spaces. Room ids are lower-case slugs; user ids are UUIDs.
 */
export const ROOM_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** Ids a client may choose for a group room: any room id not in the conversations' `dm-` range. */
export const GROUP_ROOM_ID_PATTERN = /^(?!dm-)[a-z0-9][a-z0-9_-]{0,63}$/;
export const USER_ID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
/** Namespaces prefix every subject and stream; they must be valid in both. */
export const NAMESPACE_PATTERN = /^[a-z][a-z0-9_]{0,31}$/;

export const DEFAULT_ROOM_ID = 'general';

export function isRoomId(v: unknown): v is string {
  return typeof v === 'string' && ROOM_ID_PATTERN.test(v);
}
export function isUserId(v: unknown): v is string {
  return typeof v === 'string' && USER_ID_PATTERN.test(v);
}

/** Ids of one-to-one conversations start with this; group room ids may not. */
export const DIRECT_ROOM_PREFIX = 'dm-';

/**
 * The id of the one-to-one conversation between two users: the same whichever of them asks
 * (so two first messages racing open one conversation, decided by the room's optimistic
 * concurrency), a single subject token, and not guessable into anything else: a hash of both ids.
 */
export function directRoomId(userA: string, userB: string): string {
  const [a, b] = [userA, userB].sort();
  return DIRECT_ROOM_PREFIX + createHash('sha256').update(`${a}\u0000${b}`, 'utf8').digest('hex').slice(0, 40);
}

export const isDirectRoomId = (roomId: string): boolean => roomId.startsWith(DIRECT_ROOM_PREFIX);
