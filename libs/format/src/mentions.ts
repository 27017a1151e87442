import type { Mention } from '@chat/contracts';

// Where a message's mentions are in a piece of its text. The rooms service decides who is
// mentioned (the message's `mentions`, apps/rooms/src/messages/mentions.ts); this finds those
// users' `@name`s by the same rule: names compared as at login (NFKC, case folding), the longest
// listed name wins, a name ends at a character that cannot continue a word, Chinese, Japanese
// or Korean text on either side needs no space (`@小明你好`), and an `@` right after a Latin
// letter or digit is an address (`bob@alice.com`), not a mention. The full-width `＠` counts.

export interface MentionRange {
  /** UTF-16 index of the `@` in the text. */
  start: number;
  /** UTF-16 index just after the name. */
  end: number;
  mention: Mention;
}

/** The listed users by folded name, and the longest folded name (where looking further stops). */
export interface MentionNames {
  byName: ReadonlyMap<string, Mention>;
  longest: number;
}

const fold = (text: string) => text.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
const isMentionSign = (c: string) => c === '@' || c === '\uFF20';
const isSpace = (c: string) => /\s/u.test(c);
const isWordChar = (c: string) => /[\p{L}\p{N}\p{M}_]/u.test(c);
const isCjk = (c: string) => /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Hangul}]/u.test(c);
const mayStart = (before: string | undefined) => before === undefined || !/[\p{L}\p{N}]/u.test(before) || isCjk(before);
const endsName = (last: string, next: string | undefined) => next === undefined || !isWordChar(next) || isCjk(next) || isCjk(last);

export function mentionNames(mentions: readonly Mention[]): MentionNames {
  const byName = new Map<string, Mention>();
  let longest = 0;
  for (const m of mentions) {
    const key = fold(m.username).trim();
    if (!key || byName.has(key)) continue;
    byName.set(key, m);
    longest = Math.max(longest, key.length);
  }
  return { byName, longest };
}

/**
 * The `@username` occurrences of the listed users in `text`, in text order. The text is taken
 * on its own: its start counts as a place where a mention may begin and its end as a boundary
 * (in a formatted message a text run starts or ends next to markup such as `**`, which is
 * punctuation to the rule as well).
 */
export function mentionRanges(text: string, names: MentionNames): MentionRange[] {
  if (names.byName.size === 0 || !/[@\uFF20]/.test(text)) return [];
  const chars = Array.from(text);
  const offsets: number[] = [];
  let o = 0;
  for (const c of chars) {
    offsets.push(o);
    o += c.length;
  }
  offsets.push(o);

  const ranges: MentionRange[] = [];
  for (let i = 0; i < chars.length; i++) {
    if (!isMentionSign(chars[i]) || !mayStart(chars[i - 1])) continue;
    const start = i + 1;
    if (start >= chars.length || isSpace(chars[start])) continue;
    let best: { mention: Mention; end: number } | null = null;
    let candidate = '';
    for (let end = start + 1; end <= chars.length; end++) {
      candidate += chars[end - 1];
      const key = fold(candidate);
      // Folding changes lengths only a little: a few code points past the longest name is enough.
      if (key.length > names.longest + 4) break;
      const mention = names.byName.get(key);
      if (mention && !isSpace(chars[end - 1]) && endsName(chars[end - 1], chars[end])) best = { mention, end };
    }
    if (!best) continue;
    ranges.push({ start: offsets[i], end: offsets[best.end], mention: best.mention });
    i = best.end - 1;
  }
  return ranges;
}
