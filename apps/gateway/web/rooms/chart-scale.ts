// The arithmetic of the statistics charts (pure, unit-tested): a value axis with round ticks,
// which columns get a label when there is no room for all, and the busiest entries.

/**
 * Round ticks from 0 covering `max`: steps of 1, 2 or 5 × 10^k (never below 1: the charts count
 * messages), about `wanted` of them. The last tick is the axis' top (≥ max; 1 when max is 0).
 */
export function niceTicks(max: number, wanted = 4): number[] {
  const top = Math.max(1, Math.ceil(max));
  const rough = top / Math.max(1, wanted);
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = Math.max(1, [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power);
  const ticks: number[] = [];
  for (let v = 0; v < top + step; v += step) {
    ticks.push(v);
    if (v >= top) break;
  }
  return ticks;
}

/**
 * Which of `n` columns get a label when at most `room` fit: evenly spaced, always the first and
 * the last (the range's ends), never two next to each other's place.
 */
export function labelledIndexes(n: number, room: number): number[] {
  if (n <= 0) return [];
  if (n <= room) return Array.from({ length: n }, (_, i) => i);
  const every = Math.ceil((n - 1) / Math.max(1, room - 1));
  const picked: number[] = [];
  for (let i = 0; i < n; i += every) picked.push(i);
  // The last column is labelled; a label too close before it makes way.
  if (picked[picked.length - 1] !== n - 1) {
    if (n - 1 - picked[picked.length - 1] < every * 0.75) picked.pop();
    picked.push(n - 1);
  }
  return picked;
}

/** The indexes of the `count` largest non-zero values, largest first (earlier first on a tie). */
export function busiest(values: readonly number[], count: number): number[] {
  return values
    .map((v, i) => [v, i] as const)
    .filter(([v]) => v > 0)
    .sort((a, b) => b[0] - a[0] || a[1] - b[1])
    .slice(0, count)
    .map(([, i]) => i);
}
