// Days in the timeline, in the reader's own time zone: the key of a message's day (to put a
// separator where the day changes) and how a day is named ("Today", "Yesterday", or a date),
// in the page's language (Intl: 今天, 昨天, 12月1日星期二).

/** The local calendar day of a time, as YYYY-MM-DD (empty for an invalid time). */
export function dayKey(time: string | Date): string {
  const d = typeof time === 'string' ? new Date(time) : time;
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Local midnight of a YYYY-MM-DD day. */
const midnight = (key: string) => new Date(`${key}T00:00:00`);

/** "today" / "yesterday" in the locale (今天 / 昨天), or null for another day. */
function relativeDay(key: string, now: Date, locale?: string): string | null {
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  const offset = key === dayKey(now) ? 0 : key === dayKey(yesterday) ? -1 : null;
  return offset === null ? null : new Intl.RelativeTimeFormat(locale, { numeric: 'auto' }).format(offset, 'day');
}

/** A day as a separator names it: "Today", "Yesterday", else its date (with the year when not this year's). */
export function dayLabel(key: string, now: Date = new Date(), locale?: string): string {
  const relative = relativeDay(key, now, locale);
  if (relative) return relative.charAt(0).toLocaleUpperCase(locale) + relative.slice(1);
  const day = midnight(key);
  if (Number.isNaN(day.getTime())) return key;
  const sameYear = day.getFullYear() === now.getFullYear();
  return new Intl.DateTimeFormat(locale, {
    weekday: 'long',
    day: 'numeric',
    month: 'long',
    ...(sameYear ? {} : { year: 'numeric' }),
  }).format(day);
}

/** A day in a sentence ("today", "yesterday", or its date). */
export function dayInText(key: string, now: Date = new Date(), locale?: string): string {
  return relativeDay(key, now, locale) ?? dayLabel(key, now, locale);
}
