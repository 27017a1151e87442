// The search's date filters (pure, unit-tested): days picked in the reader's calendar become the
// `from` / `to` times of message.search (`to` is exclusive, so the last day is included whole).

/** `YYYY-MM-DD` (an `<input type=date>` value) as local midnight, or null when empty or invalid. */
function localDay(value: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  if (!m) return null;
  const d = new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return Number.isNaN(d.getTime()) ? null : d;
}

export interface TimeRange {
  from?: string;
  to?: string;
}

/**
 * The times of a range of days, `on or after` the first and `on or before` the last; either may
 * be empty. Null when the first day is after the last.
 */
export function timeRange(firstDay: string, lastDay: string): TimeRange | null {
  const first = localDay(firstDay);
  const last = localDay(lastDay);
  if (first && last && first > last) return null;
  const range: TimeRange = {};
  if (first) range.from = first.toISOString();
  if (last) range.to = new Date(last.getFullYear(), last.getMonth(), last.getDate() + 1).toISOString();
  return range;
}
