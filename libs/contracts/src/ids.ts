/**
 * Ids that end up inside NATS subjects must be single subject tokens: no dots, wildcards or
 * spaces. Room ids are lower-case slugs; user ids are UUIDs.
 */
export const ROOM_ID_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
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
