import type { Mention } from '@chat/contracts';

// Where the mentions of a message are in its text. The server decides who is mentioned (the
// message's `mentions`); this finds those users' `@name`s in the body by the server's own rule
// (docs/protocol.md, message.send; apps/rooms/src/messages/mentions.ts): names compared as at
// login (NFKC, case folding), the longest listed name wins, a name ends at a character that
// cannot continue a word, and Chinese, Japanese or Korean text on either side needs no space
// (`@小明你好` names 小明). An `@` right after a Latin letter or digit is an address, not a mention.

export interface MentionRange {
  /** Index in the body (UTF-16 code units, as String.slice takes it) of the `@`. */
  start: number;
  /** Index just after the name. */
  end: number;
  mention: Mention;
}

const fold = (text: string) => text.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');
const isMentionSign = (c: string) => c === '@' || c === '\uFF20';
const isSpace = (c: string) => /\s/u.test(c);
const isWordChar = (c: string) => /[\p{L}\p{N}\p{M}_]/u.test(c);
const isCjk = (c: string) => /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Hangul}]/u.test(c);
const mayStart = (before: string | undefined) => before === undefined || !/[\p{L}\p{N}]/u.test(before) || isCjk(before);
const endsName = (last: string, next: string | undefined) => next === undefined || !isWordChar(next) || isCjk(next) || isCjk(last);

/** The `@username` occurrences of the listed users in `body`, in text order. */
export function mentionRanges(body: string, mentions: readonly Mention[] | null | undefined): MentionRange[] {
  if (!mentions?.length || !/[@\uFF20]/.test(body)) return [];
  const byName = new Map<string, Mention>();
  let longest = 0;
  for (const m of mentions) {
    const key = fold(m.username).trim();
    if (!key) continue;
    byName.set(key, m);
    longest = Math.max(longest, key.length);
  }
  const chars = Array.from(body);
  // UTF-16 offset of each code point, and of the end.
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
    let text = '';
    for (let end = start + 1; end <= chars.length; end++) {
      text += chars[end - 1];
      const key = fold(text);
      if (key.length > longest + 4) break;
      const mention = byName.get(key);
      if (mention && !isSpace(chars[end - 1]) && endsName(chars[end - 1], chars[end])) best = { mention, end };
    }
    if (!best) continue;
    ranges.push({ start: offsets[i], end: offsets[best.end], mention: best.mention });
    i = best.end - 1;
  }
  return ranges;
}
