// The emoji picker's choices (pure, unit-tested): about forty common emoji in four categories,
// and a "frequently used" row made from how often this browser reacted with each one (kept in
// localStorage as `{ emoji: count }`).

export type PickerCategory = 'smileys' | 'gestures' | 'hearts' | 'things';

export const PICKER_CATEGORIES: readonly { id: PickerCategory; emoji: readonly string[] }[] = [
  { id: 'smileys', emoji: ['😀', '😂', '🤣', '😊', '😍', '🤔', '😮', '😢', '😡', '😴'] },
  { id: 'gestures', emoji: ['👍', '👎', '👏', '🙌', '🙏', '👀', '💪', '👋', '🤝', '✌️'] },
  { id: 'hearts', emoji: ['❤️', '🧡', '💛', '💚', '💙', '💜', '💔', '✅', '❌', '⭐'] },
  { id: 'things', emoji: ['🎉', '🔥', '🚀', '💯', '☕', '🍕', '🎂', '💡', '📌', '⏰'] },
];

/** The frequently-used row: this many at most. */
export const FREQUENT_MAX = 8;
/** Before anything was picked, the row offers these. */
export const FREQUENT_DEFAULT = ['👍', '❤️', '😂', '🎉', '😮', '😢', '👀', '🙏'];

export type Usage = Record<string, number>;

/** Reads the stored counts; anything malformed counts as nothing. */
export function parseUsage(stored: string | null): Usage {
  try {
    const value: unknown = JSON.parse(stored ?? '{}');
    if (!value || typeof value !== 'object' || Array.isArray(value)) return {};
    const usage: Usage = {};
    for (const [emoji, n] of Object.entries(value)) if (typeof n === 'number' && n > 0 && emoji.length <= 16) usage[emoji] = n;
    return usage;
  } catch {
    return {};
  }
}

/** One more use of `emoji`; only the most used ones are kept, so the stored object stays small. */
export function recordUse(usage: Usage, emoji: string, keep = 32): Usage {
  const next = { ...usage, [emoji]: (usage[emoji] ?? 0) + 1 };
  const kept = Object.entries(next)
    .sort((a, b) => b[1] - a[1])
    .slice(0, keep);
  return Object.fromEntries(kept);
}

/** The row: the most used first (ties in the order they were first used), filled up with the defaults. */
export function frequentEmoji(usage: Usage, max = FREQUENT_MAX): string[] {
  const used = Object.entries(usage)
    .sort((a, b) => b[1] - a[1])
    .map(([emoji]) => emoji);
  const row = used.slice(0, max);
  for (const emoji of FREQUENT_DEFAULT) if (row.length < max && !row.includes(emoji)) row.push(emoji);
  return row;
}
