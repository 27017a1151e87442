/** A room as the retention cleanup sees it. */
export interface RetentionRoom {
  roomId: string;
  /** The room's own period (RoomRetentionSet); null: the deployment's default. Always null for conversations. */
  retentionDays: number | null;
  /** Deleted (or never created: the room of refused posts): only its dropped messages are left to expire. */
  deleted?: boolean;
}

const DAY_MS = 86_400_000;

/** Days a room's messages are kept: its own period, else the default; 0 keeps them forever. */
export const policyDays = (room: RetentionRoom, defaultDays: number): number => room.retentionDays ?? defaultDays;

/**
 * Per room with a finite period, the time before which its messages are expired (now minus the
 * period, to the millisecond). Rooms that keep everything are left out.
 */
export function roomCutoffs(rooms: RetentionRoom[], defaultDays: number, now: Date): Array<{ roomId: string; cutoff: Date }> {
  return rooms
    .filter((r) => policyDays(r, defaultDays) > 0)
    .map((r) => ({ roomId: r.roomId, cutoff: new Date(now.getTime() - policyDays(r, defaultDays) * DAY_MS) }));
}

/**
 * The longest period in force, in days, or null when some room keeps its messages forever
 * (then the stream is not trimmed at all). With no rooms, the default (null when it is 0).
 * Deleted rooms do not count: history keeps none of their messages.
 */
export function longestPolicyDays(rooms: RetentionRoom[], defaultDays: number): number | null {
  const live = rooms.filter((r) => !r.deleted);
  const days = live.length ? live.map((r) => policyDays(r, defaultDays)) : [defaultDays];
  return days.some((d) => d === 0) ? null : Math.max(...days);
}

/**
 * The first stream position the trim keeps: message events below it leave the stream. It is
 * the oldest message history still holds after the cleanup (everything it holds is within its
 * room's period, so within the longest one: every event older than the longest period is below
 * it, and so are only events of messages already removed or never stored), and never above what
 * the projection has applied (ack floor + 1), so no event leaves before it is in the tables.
 * null: nothing to trim.
 */
export function trimBelow(oldestKept: number | null, ackFloor: number): number | null {
  const below = Math.min(oldestKept ?? Number.POSITIVE_INFINITY, ackFloor + 1);
  return below > 1 ? below : null;
}

/**
 * Whether another delete of the room is needed: a batch looks at the room's oldest messages
 * (by position) and removes those older than the cutoff; when it removed all it looked at and
 * looked at a full batch, older ones may follow. Once a batch meets a message within the
 * period, the rest of the room is newer (positions follow time; a message a clock-skewed
 * replica stamped a few ms out of order goes on the next run).
 */
export const moreToDelete = (looked: number, removed: number, batch: number): boolean => looked === batch && removed === looked;
