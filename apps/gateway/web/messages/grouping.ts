// Consecutive messages of one sender are drawn as a group: the name and avatar once, at its
// first message (pure, unit-tested; view.ts applies it to the list after every change).

/** A message written this long after the previous one of the same sender starts a new group. */
export const GROUP_GAP_MS = 5 * 60_000;

export interface Groupable {
  senderId: string;
  /** ISO time. */
  time: string;
  deleted: boolean;
}

/** Whether `next` continues the group of `prev` (the message right above it, with no separator between). */
export function continuesGroup(prev: Groupable | undefined, next: Groupable): boolean {
  if (!prev || prev.senderId !== next.senderId || prev.deleted || next.deleted) return false;
  const gap = Date.parse(next.time) - Date.parse(prev.time);
  return gap >= 0 && gap <= GROUP_GAP_MS;
}
