// Days in the timeline, in the reader's own time zone: the key of a message's day (to put a
// separator where the day changes) and how a day is named ("Today", "Yesterday", or a date).

/** The local calendar day of a time, as YYYY-MM-DD (empty for an invalid time). */
export function dayKey(time: string | Date): string {
  const d = typeof time === 'string' ? new Date(time) : time;
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

/** Local midnight of a YYYY-MM-DD day. */
const midnight = (key: string) => new Date(`${key}T00:00:00`);

/** A day as a separator names it: "Today", "Yesterday", else its date (with the year when not this year's). */
export function dayLabel(key: string, now: Date = new Date(), locale?: string): string {
  const today = dayKey(now);
  if (key === today) return 'Today';
  const yesterday = new Date(now);
  yesterday.setDate(now.getDate() - 1);
  if (key === dayKey(yesterday)) return 'Yesterday';
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
  const label = dayLabel(key, now, locale);
  return label === 'Today' || label === 'Yesterday' ? label.toLowerCase() : label;
}
