import type { MemberRole } from '@chat/contracts';
import { language, t } from '../i18n/i18n';

// How rooms are said on the page, in its language (pure: no DOM; unit-tested).

/** A member role as a word: 所有者 / 管理员 / 成员 on a Chinese page. */
export const roleName = (role: MemberRole): string => t(`rooms:role.${role}`);

/** A slow-mode interval (seconds) in the largest whole unit: "30 seconds", "5 minutes", "2 hours" (30秒, 5分钟, 2小时). */
export function slowModeText(seconds: number): string {
  const [value, unit] =
    seconds % 3600 === 0 ? [seconds / 3600, 'hour'] : seconds % 60 === 0 ? [seconds / 60, 'minute'] : [seconds, 'second'];
  return new Intl.NumberFormat(language(), { style: 'unit', unit, unitDisplay: 'long' }).format(value);
}

const hh = (n: number) => String(n).padStart(2, '0');

/** An offset from UTC (minutes, east positive) as `UTC+8`, `UTC−3:30`; `UTC` for none. */
export function zoneName(offsetMinutes: number): string {
  if (!offsetMinutes) return 'UTC';
  const abs = Math.abs(offsetMinutes);
  return `UTC${offsetMinutes > 0 ? '+' : '−'}${Math.floor(abs / 60)}${abs % 60 ? `:${hh(abs % 60)}` : ''}`;
}

/** The local time (HH:MM) a UTC hour starts at, at an offset from UTC in minutes. */
export function localStart(utcHour: number, offsetMinutes: number): string {
  const m = (((utcHour * 60 + offsetMinutes) % 1440) + 1440) % 1440;
  return `${hh(Math.floor(m / 60))}:${hh(m % 60)}`;
}

/** A UTC day (`YYYY-MM-DD`) as the page's language writes a short date (12月1日, Dec 1), or with the year. */
export function dayText(day: string, withYear = false): string {
  const d = new Date(`${day}T00:00:00Z`);
  if (Number.isNaN(d.getTime())) return day;
  return new Intl.DateTimeFormat(language(), {
    timeZone: 'UTC',
    month: 'short',
    day: 'numeric',
    ...(withYear ? { year: 'numeric' } : {}),
  }).format(d);
}

/** A number as the page's language writes it (1,234). */
export const numberText = (n: number): string => new Intl.NumberFormat(language()).format(n);
