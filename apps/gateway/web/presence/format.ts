import type { ChosenStatus, PresenceStatus } from '@chat/contracts';

// How statuses are said on the page (pure, unit-tested).

/** The chosen statuses, as the picker names them. */
export const CHOSEN_LABELS: Record<ChosenStatus, string> = {
  online: 'Online',
  away: 'Away',
  busy: 'Busy',
  invisible: 'Appear offline',
};

export const STATUS_LABELS: Record<PresenceStatus, string> = { online: 'online', away: 'away', busy: 'busy', offline: 'offline' };

/** Custom status text as the server keeps it: trimmed, one line, at most `max` code points; empty -> null. */
export function cleanStatusText(text: string, max: number): string | null {
  const one = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  if (!one) return null;
  return [...one].slice(0, max).join('').trim() || null;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * "last seen …" for an offline user: just now, N min ago, N h ago (today), yesterday, or the
 * date. `nowMs` and `format` are given so that the wording can be tested.
 */
export function lastSeenText(lastSeen: string, nowMs: number, formatDate: (d: Date) => string): string {
  const t = Date.parse(lastSeen);
  if (Number.isNaN(t)) return 'offline';
  const ago = nowMs - t;
  if (ago < MINUTE) return 'last seen just now';
  if (ago < HOUR) return `last seen ${Math.floor(ago / MINUTE)} min ago`;
  const then = new Date(t);
  const now = new Date(nowMs);
  const sameDay = then.toDateString() === now.toDateString();
  if (sameDay) return `last seen ${Math.floor(ago / HOUR)} h ago`;
  const yesterday = new Date(nowMs);
  yesterday.setDate(yesterday.getDate() - 1);
  if (then.toDateString() === yesterday.toDateString()) return 'last seen yesterday';
  return `last seen ${formatDate(then)}`;
}
