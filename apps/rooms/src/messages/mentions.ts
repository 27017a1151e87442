import { Limits, canonicalUsername, type Mention, type UserView } from '@chat/contracts';
import type { Room } from '../room/room';

/**
 * The `@name` mentions of a message body, resolved against the people who may be mentioned (the
 * room's current members). Usernames may hold spaces, punctuation and any script (only control
 * and format characters are excluded), so the end of a name cannot be found by a character class
 * alone: at each `@` the candidates are the members' names, compared as at login (NFKC, case
 * folding: `canonicalUsername`), and the longest one that matches and is followed by a boundary
 * wins. A boundary is the end of the text or a character that cannot continue a word: anything
 * but a letter, digit, combining mark or `_`; a Chinese, Japanese or Korean character on either
 * side is a boundary too, since those texts put no spaces around a name (`@张三你好`,
 * `@alice你好`). So `@ann` in `@anna` mentions nobody (unless `anna` is a member), `@alice,`
 * and `(@alice)` mention alice.
 *
 * An `@` right after a letter or digit (other than a Chinese, Japanese or Korean one) is not a
 * mention: `bob@alice.com` is an address. The full-width `＠` counts as `@` (Chinese and
 * Japanese input methods type it).
 *
 * Each user is listed once, in order of first mention, at most Limits.mentionsPerMessageMax.
 * Pure: the same body and members always give the same mentions.
 */
export function findMentions(body: string, members: Iterable<UserView> | MentionIndex): Mention[] {
  if (!MENTION_SIGN.test(body)) return [];
  const { byName, longest } = members instanceof MentionIndex ? members : new MentionIndex(members);
  if (byName.size === 0) return [];

  const found = new Map<string, Mention>();
  const chars = Array.from(body);
  for (let i = 0; i < chars.length && found.size < Limits.mentionsPerMessageMax; i++) {
    if (!isMentionSign(chars[i]) || !mayStartMention(chars[i - 1])) continue;
    const hit = longestNameAt(chars, i + 1, byName, longest);
    if (!hit) continue;
    if (!found.has(hit.user.userId)) found.set(hit.user.userId, { userId: hit.user.userId, username: hit.user.username });
    i = hit.end - 1;
  }
  return [...found.values()];
}

/** The people who may be mentioned, by folded name. */
export class MentionIndex {
  readonly byName = new Map<string, UserView>();
  /** Length of the longest folded name: where looking for a longer match stops. */
  readonly longest: number = 0;

  constructor(members: Iterable<UserView>) {
    for (const m of members) {
      const key = canonicalUsername(m.username);
      if (!key) continue;
      this.byName.set(key, m);
      this.longest = Math.max(this.longest, key.length);
    }
  }
}

/**
 * Folding every member's name costs about 1.4 ms per thousand members: far too much to do for
 * every post in a room of 100,000. A room's index is kept until the room changes (any room
 * event moves its version; messages do not), so a busy room folds its names once per
 * membership change, and only when a message with an `@` follows it.
 */
const indexes = new WeakMap<Room, { version: number; index: MentionIndex }>();

export function mentionIndexOf(room: Room): MentionIndex {
  const cached = indexes.get(room);
  if (cached && cached.version === room.version) return cached.index;
  const index = new MentionIndex(room.members.values());
  indexes.set(room, { version: room.version, index });
  return index;
}

/** The longest member name starting at `start` and followed by a boundary, with the index after it. */
function longestNameAt(
  chars: readonly string[],
  start: number,
  byName: ReadonlyMap<string, UserView>,
  longestKey: number,
): { user: UserView; end: number } | null {
  let best: { user: UserView; end: number } | null = null;
  // A name is never blank at either end, so a candidate may neither start nor end with a space.
  if (start >= chars.length || isSpace(chars[start])) return null;
  let text = '';
  for (let end = start + 1; end <= chars.length; end++) {
    text += chars[end - 1];
    const key = fold(text);
    // Folding can lengthen text (ß -> ss) and shorten it (compatibility sequences), but never by
    // much: a few code points of slack past the longest name is enough to stop looking.
    if (key.length > longestKey + 4) break;
    const user = byName.get(key);
    if (user && !isSpace(chars[end - 1]) && endsName(chars[end - 1], chars[end])) best = { user, end };
  }
  return best;
}

/** canonicalUsername without its trim: a candidate with spaces at its ends is not a name. */
const fold = (text: string) => text.normalize('NFKC').toUpperCase().toLowerCase().normalize('NFKC');

const MENTION_SIGN = /[@\uFF20]/;
const isMentionSign = (c: string) => c === '@' || c === '\uFF20';
const isSpace = (c: string) => /\s/u.test(c);
const isWordChar = (c: string) => /[\p{L}\p{N}\p{M}_]/u.test(c);
const isCjk = (c: string) => /[\p{sc=Han}\p{sc=Hiragana}\p{sc=Katakana}\p{sc=Hangul}]/u.test(c);

/** Whether an `@` after `before` (undefined: start of text) may begin a mention. */
function mayStartMention(before: string | undefined): boolean {
  return before === undefined || !/[\p{L}\p{N}]/u.test(before) || isCjk(before);
}

/** Whether a name whose last character is `last` ends before `next` (undefined: end of text). */
function endsName(last: string, next: string | undefined): boolean {
  return next === undefined || !isWordChar(next) || isCjk(next) || isCjk(last);
}
