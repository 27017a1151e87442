import type { ChosenStatus, PresenceStatus } from '@chat/contracts';
import { language, t } from '../i18n/i18n';

// How statuses are said on the page, in its language (pure, unit-tested).

/** A chosen status, as the picker names it (Online, Away, Busy, Appear offline). */
export const chosenLabel = (s: ChosenStatus): string => t(`presence:chosen.${s}`);

/** A status as others see it (online, away, busy, offline). */
export const statusLabel = (s: PresenceStatus): string => t(`presence:status.${s}`);

export const CHOSEN: readonly ChosenStatus[] = ['online', 'away', 'busy', 'invisible'];

/** Custom status text as the server keeps it: trimmed, one line, at most `max` code points; empty -> null. */
export function cleanStatusText(text: string, max: number): string | null {
  const one = text.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
  if (!one) return null;
  return [...one].slice(0, max).join('').trim() || null;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;

/**
 * "last seen …" for an offline user, in the page's language: just now, N minutes ago, N hours
 * ago (today), yesterday (Intl.RelativeTimeFormat), or the date. `nowMs` and `formatDate` are
 * given so that the wording can be tested.
 */
export function lastSeenText(lastSeen: string, nowMs: number, formatDate: (d: Date) => string): string {
  const at = Date.parse(lastSeen);
  if (Number.isNaN(at)) return statusLabel('offline');
  const ago = nowMs - at;
  if (ago < MINUTE) return t('presence:lastSeen.justNow');
  const relative = new Intl.RelativeTimeFormat(language(), { numeric: 'auto' });
  if (ago < HOUR) return t('presence:lastSeen.ago', { ago: relative.format(-Math.floor(ago / MINUTE), 'minute') });
  const then = new Date(at);
  const now = new Date(nowMs);
  if (then.toDateString() === now.toDateString())
    return t('presence:lastSeen.ago', { ago: relative.format(-Math.floor(ago / HOUR), 'hour') });
  const yesterday = new Date(nowMs);
  yesterday.setDate(yesterday.getDate() - 1);
  if (then.toDateString() === yesterday.toDateString()) return t('presence:lastSeen.ago', { ago: relative.format(-1, 'day') });
  return t('presence:lastSeen.on', { date: formatDate(then) });
}
