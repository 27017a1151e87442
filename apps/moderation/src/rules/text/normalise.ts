/**
 * Folds a message into the "skeleton" a word list is matched against, keeping for every
 * skeleton character the span of the original text it came from, so that a hit can be masked
 * in the text the sender typed.
 *
 * The original is read one unit at a time: a code point with the combining marks that follow
 * it (so a surrogate pair or "e" + U+0301 is never split). Each unit is folded:
 *  1. NFKC: full-width and compatibility forms become plain ones ("ｄａｒｎ" -> "darn", "ﬁ" -> "fi");
 *  2. default-ignorable code points (zero-width spaces and joiners, soft hyphen, variation
 *     selectors, the combining grapheme joiner) are dropped: they render as nothing;
 *  3. case: upper then lower case, and ß as ss (STRASSE, Straße and STRAẞE agree);
 *  4. combining marks are dropped ("spàm" -> "spam", a stray mark after a
 *     space or on a Han character is nothing), except on letters of other scripts than Latin,
 *     Greek, Cyrillic and Han (a Japanese dakuten changes the word);
 *  5. look-alikes, from the small table `CONFUSABLES` below;
 *  6. what is then neither a letter, a digit nor a kept mark is a separator.
 * Separators are not in the skeleton; they only mark where words start (`wordStart`). Between
 * two CJK characters (Han, Kana, Hangul) there is never a word start: those scripts do not
 * separate words, so "违 禁" and "违\u3000禁" are "违禁". A change between CJK and other letters
 * is a word start ("这是spam广告" holds the word "spam"). Single letters split by separators
 * are one word ("f.u.c.k", "f u c k", "f-u-c-k" are the word "fuck"; "sp am" stays two words);
 * a run of single letters is one word however long, so "f u c k f u c k" is one word of eight
 * letters (a whole-word entry "fuck" misses it, a substring entry hits it).
 * A run of one letter repeated inside a word is one skeleton character with its count (`run`),
 * so that a matcher can tell "fuuuck" (3 or more: a stretched letter) from "ass" and "good"
 * (2: a letter the word has twice); see `runsFit` in wordlist/matcher.ts.
 */

/**
 * Look-alikes, folded to one Latin letter after case folding. Kept small on purpose (Unicode's
 * confusables.txt has thousands of entries, most irrelevant to chat): Cyrillic and Greek
 * letters drawn like Latin ones, and the digits and symbols people write for letters.
 * `1`, `l`, `|` and `!` all fold to `i` (the skeleton does not tell them apart), so both list
 * entries and messages meet in the middle: "k1ll", "kiII" and "kill" are one skeleton.
 * `!` and `|` are letters only where an ASCII letter or digit follows them (`BEFORE_LETTER`):
 * "sh!t" is "shit", but the "!" of "darn!" ends a sentence.
 */
// prettier-ignore
export const CONFUSABLES: Readonly<Record<string, string>> = {
  // Cyrillic (lower case: the text is case-folded first)
  а: 'a', в: 'b', е: 'e', ё: 'e', к: 'k', м: 'm', н: 'h', о: 'o', р: 'p', с: 'c', т: 't', у: 'y', х: 'x',
  і: 'i', ї: 'i', ј: 'j', ѕ: 's', ԁ: 'd', ԛ: 'q', ԝ: 'w',
  // Greek
  α: 'a', β: 'b', ε: 'e', η: 'n', ι: 'i', κ: 'k', μ: 'u', ν: 'v', ο: 'o', ρ: 'p', τ: 't', υ: 'u', χ: 'x',
  // digits and symbols written for letters
  '0': 'o', '1': 'i', '3': 'e', '4': 'a', '5': 's', '7': 't', '8': 'b', '@': 'a', $: 's',
  // l looks like 1, | and I: one skeleton letter for all of them
  l: 'i',
};

/** Look-alikes that are letters only before an ASCII letter or digit. */
export const BEFORE_LETTER: Readonly<Record<string, string>> = { '!': 'i', '|': 'i' };
const asciiAlnum = (c: number) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);

/** A message folded for matching. Index i of `text` came from `original.slice(start[i], end[i])`. */
export interface Skeleton {
  readonly text: string;
  readonly start: Int32Array;
  readonly end: Int32Array;
  /** 1 where a word starts at i (the end of the text also ends a word). */
  readonly wordStart: Uint8Array;
  /** How many times the character at i stands there in a row ("fuuuck": u 3 times); runs never cross a word start. */
  readonly run: Uint16Array;
}

const SEP = ' ';
const wordChar = /[\p{L}\p{N}\p{M}]/u;
const letter = /^\p{L}/u;
const marksDropped = /^[\p{Script=Latin}\p{Script=Greek}\p{Script=Cyrillic}\p{Script=Han}]/u;
const ignorable = /\p{Default_Ignorable_Code_Point}/gu;

/** Han, Kana and Hangul, by UTF-16 code unit (a surrogate of an astral Han character counts). */
export function isCjkUnit(c: number): boolean {
  return (
    (c >= 0x3040 && c <= 0x30ff) || // Hiragana, Katakana
    (c >= 0x3130 && c <= 0x318f) || // Hangul compatibility jamo
    (c >= 0x31f0 && c <= 0x31ff) || // Katakana extensions
    (c >= 0x3400 && c <= 0x4dbf) || // Han extension A
    (c >= 0x4e00 && c <= 0x9fff) || // Han
    (c >= 0xac00 && c <= 0xd7af) || // Hangul syllables
    (c >= 0x1100 && c <= 0x11ff) || // Hangul jamo
    (c >= 0xf900 && c <= 0xfaff) || // Han compatibility
    (c >= 0xd840 && c <= 0xd8bf) // high surrogates of planes 2-3 (Han extensions B-H)
  );
}

/**
 * A folded unit: `text` is letters, or ' ' for a separator; `keys` is as long, and holds each
 * letter as it was before the look-alike table, which is what a run of one letter compares
 * (so the "l" and "i" of "jevili", both "i" in `text`, are not a stretched "i").
 */
export interface Folded {
  readonly text: string;
  readonly keys: string;
}

function foldUncached(unit: string): Folded {
  let s = unit.normalize('NFKC').replace(ignorable, '').toUpperCase().toLowerCase().replace(/ß/gu, 'ss');
  // Marks are kept only on letters of scripts where they change the word (Japanese dakuten,
  // Indic vowel signs); elsewhere, and on no letter at all (a mark after a space), they are
  // dropped, so a stray combining mark cannot split a word. (A unit holds its marks, and the
  // half-width dakuten too, so "ｶﾞ" folds as one unit, like "ガ".)
  s = s.normalize('NFD');
  if (!letter.test(s) || marksDropped.test(s)) s = s.replace(/\p{M}/gu, '');
  // Composed again: a Hangul syllable stays one character (as jamo, "가" would be found inside "각").
  s = s.normalize('NFC');
  let text = '';
  let keys = '';
  for (const ch of s) {
    const c = CONFUSABLES[ch] ?? ch;
    const w = wordChar.test(c);
    text += w ? c : SEP;
    keys += w ? (c === ch || ch.length !== 1 ? c : ch) : SEP;
  }
  return { text, keys };
}

// Folding a unit costs several normalisations; messages reuse a small set of characters, so the
// folded form of each unit is kept (a bounded cache: it is emptied when full).
const CACHE_MAX = 20_000;
const cache = new Map<string, Folded>();

/** The folded form of one unit (a code point and its combining marks): letters, or ' ' for a separator. */
export function foldUnit(unit: string): Folded {
  let f = cache.get(unit);
  if (f === undefined) {
    if (cache.size >= CACHE_MAX) cache.clear();
    f = foldUncached(unit);
    cache.set(unit, f);
  }
  return f;
}

// What each BMP code unit is, learnt on first sight: 0 not yet known, 1 a combining mark, 2 not.
const markOf = new Uint8Array(0x10000);
const markRe = /\p{M}/u;
/** The length (1 or 2) of the combining mark at s[i], or 0 if there is none. Marks start at U+0300. */
function isMarkAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 0x300) return 0;
  if (c === 0xff9e || c === 0xff9f) return 1; // half-width (semi-)voiced sound marks: letters (Lm), but they combine
  if (c >= 0xd800 && c <= 0xdbff) {
    const cp = s.codePointAt(i) as number;
    return cp > 0xffff && markRe.test(String.fromCodePoint(cp)) ? 2 : 0;
  }
  if (markOf[c] === 0) markOf[c] = markRe.test(String.fromCharCode(c)) ? 1 : 2;
  return markOf[c] === 1 ? 1 : 0;
}

// The folded form of a lone BMP code unit (no marks after it): the common case, by index.
const bmpFold: Array<Folded | undefined> = new Array<Folded | undefined>(0x10000);
const beforeLetter: Readonly<Record<string, Folded>> = Object.fromEntries(
  Object.entries(BEFORE_LETTER).map(([ch, text]) => [ch, { text, keys: ch }]),
);

// Several matchers fold the same message one after the other (the server's list, the room's, the
// room's allow-list; the flood key): the last skeleton is kept. Callers only read it.
let last: { original: string; skeleton: Skeleton } | null = null;

/** The skeleton of `original`, with its index map back to `original`. */
export function skeleton(original: string): Skeleton {
  if (last?.original !== original) last = { original, skeleton: fold(original) };
  return last.skeleton;
}

function fold(original: string): Skeleton {
  const n = original.length;
  // Work in buffers kept between calls (a message rarely folds longer than 2 characters per
  // code unit; they grow if one does), and copy out what the skeleton needs.
  if (scratch.start.length < n * 2 + 8) scratch = buffers(n * 2 + 8);
  let { codes, keys, start, end, wordStart } = scratch;
  let len = 0;
  let sepSince = true; // a separator since the last skeleton character (the start counts)
  let prevCjk = false;
  let i = 0;
  while (i < n) {
    const c = original.charCodeAt(i);
    let j = i + (c >= 0xd800 && c <= 0xdbff && i + 1 < n ? 2 : 1);
    for (let m = j < n ? isMarkAt(original, j) : 0; m > 0; m = j < n ? isMarkAt(original, j) : 0) j += m;
    let folded: Folded;
    if (j === i + 1 && !(c >= 0xd800 && c <= 0xdfff)) {
      if ((c === 0x21 || c === 0x7c) && j < n && asciiAlnum(original.charCodeAt(j))) folded = beforeLetter[original[i]];
      else folded = bmpFold[c] ??= foldUnit(original[i]);
    } else {
      folded = foldUnit(original.slice(i, j));
    }
    for (let k = 0; k < folded.text.length; k++) {
      const ch = folded.text.charCodeAt(k);
      if (ch === 0x20) {
        sepSince = true;
        continue;
      }
      if (len === start.length) {
        scratch = buffers(len * 2, scratch);
        ({ codes, keys, start, end, wordStart } = scratch);
      }
      const cjk: boolean = isCjkUnit(ch) || (ch >= 0xdc00 && ch <= 0xdfff && prevCjk && k > 0);
      wordStart[len] = len === 0 || cjk !== prevCjk || (sepSince && !(cjk && prevCjk)) ? 1 : 0;
      start[len] = i;
      end[len] = j;
      codes[len] = ch;
      keys[len] = folded.keys.charCodeAt(k);
      len++;
      sepSince = false;
      prevCjk = cjk;
    }
    i = j;
  }
  joinSingleLetters(codes, wordStart, len);
  // Runs of one letter inside a word become one character with its count.
  const run = new Uint16Array(len);
  let w = 0;
  for (let r = 0; r < len;) {
    let e = r + 1;
    while (e < len && keys[e] === keys[r] && codes[e] === codes[r] && wordStart[e] === 0) e++;
    codes[w] = codes[r];
    start[w] = start[r];
    end[w] = end[e - 1];
    wordStart[w] = wordStart[r];
    run[w] = Math.min(e - r, 0xffff);
    w++;
    r = e;
  }
  let text = '';
  for (let k = 0; k < w; k += 4096)
    text += String.fromCharCode.apply(null, codes.subarray(k, Math.min(w, k + 4096)) as unknown as number[]);
  return { text, start: start.slice(0, w), end: end.slice(0, w), wordStart: wordStart.slice(0, w), run: run.subarray(0, w) };
}

interface Buffers {
  codes: Uint16Array;
  keys: Uint16Array;
  start: Int32Array;
  end: Int32Array;
  wordStart: Uint8Array;
}
/** Buffers of `size`, holding the content of `from` if given. */
function buffers(size: number, from?: Buffers): Buffers {
  const b = {
    codes: new Uint16Array(size),
    keys: new Uint16Array(size),
    start: new Int32Array(size),
    end: new Int32Array(size),
    wordStart: new Uint8Array(size),
  };
  if (from) {
    b.codes.set(from.codes);
    b.keys.set(from.keys);
    b.start.set(from.start);
    b.end.set(from.end);
    b.wordStart.set(from.wordStart);
  }
  return b;
}
let scratch = buffers(1024);

/** Single letters split by separators are one word: "f.u.c.k" -> "fuck". */
function joinSingleLetters(codes: Uint16Array, wordStart: Uint8Array, len: number): void {
  // A one-character word at i: a word starts at i and at i+1 (or the text ends there).
  const single = (i: number) => wordStart[i] === 1 && (i + 1 === len || wordStart[i + 1] === 1) && !isCjkUnit(codes[i]);
  let prevSingle = false;
  for (let i = 0; i < len; i++) {
    if (wordStart[i] !== 1) {
      prevSingle = false;
      continue;
    }
    const s = single(i);
    if (s && prevSingle) wordStart[i] = 0;
    prevSingle = s;
  }
}
