/**
 * A lighter fold than the word-list skeleton (normalise.ts), for rules that read the text as
 * written rather than as words: patterns and links. Each code point (with the combining marks
 * that follow it) is put through NFKC, so full-width and compatibility forms become plain ones
 * ("ｅｘａｍｐｌｅ．ｃｏｍ" -> "example.com", "𝐒𝐏𝐀𝐌" -> "SPAM"), and default-ignorable code
 * points (zero-width spaces and joiners, soft hyphens, variation selectors) are dropped, since
 * they render as nothing. Case and look-alikes are kept (patterns are matched with the `i` flag;
 * a pattern may mean a Cyrillic letter). `start`/`end` map each UTF-16 unit of `text` back to
 * the span of the original it came from, so a pattern's match can be masked where it was typed.
 */
export interface PlainText {
  readonly text: string;
  readonly start: Int32Array;
  readonly end: Int32Array;
}

const ignorable = /\p{Default_Ignorable_Code_Point}/gu;
const mark = /\p{M}/u;
// Nothing to fold: printable ASCII and the usual white space map to themselves.
const plainAscii = /^[\x20-\x7e\t\n\r]*$/;

const CACHE_MAX = 20_000;
const cache = new Map<string, string>();
function foldUnit(unit: string): string {
  let f = cache.get(unit);
  if (f === undefined) {
    if (cache.size >= CACHE_MAX) cache.clear();
    f = unit.normalize('NFKC').replace(ignorable, '');
    cache.set(unit, f);
  }
  return f;
}

// The rules of one chain fold the same body one after the other: the last fold is kept.
let last: { original: string; folded: PlainText } | null = null;

export function plainText(original: string): PlainText {
  if (last?.original !== original) last = { original, folded: fold(original) };
  return last.folded;
}

function fold(original: string): PlainText {
  if (plainAscii.test(original)) {
    const n = original.length;
    const start = new Int32Array(n);
    const end = new Int32Array(n);
    for (let i = 0; i < n; i++) {
      start[i] = i;
      end[i] = i + 1;
    }
    return { text: original, start, end };
  }
  let text = '';
  const starts: number[] = [];
  const ends: number[] = [];
  let i = 0;
  const n = original.length;
  while (i < n) {
    const c = original.charCodeAt(i);
    let j = i + (c >= 0xd800 && c <= 0xdbff && i + 1 < n ? 2 : 1);
    // A unit is a code point with the combining marks after it (NFKC composes them).
    for (let m = j < n ? markAt(original, j) : 0; m > 0; m = j < n ? markAt(original, j) : 0) j += m;
    const folded = j > i + 1 ? foldUnit(original.slice(i, j)) : c < 0x80 ? original[i] : (bmpFold[c] ??= foldUnit(original[i]));
    for (let k = 0; k < folded.length; k++) {
      starts.push(i);
      ends.push(j);
    }
    text += folded;
    i = j;
  }
  return { text, start: Int32Array.from(starts), end: Int32Array.from(ends) };
}

// The folded form of a lone BMP code unit (no marks after it): the common case, by index.
const bmpFold: Array<string | undefined> = new Array<string | undefined>(0x10000);

// What each BMP code unit is, learnt on first sight: 0 not yet known, 1 a combining mark, 2 not.
const markOf = new Uint8Array(0x10000);
/** The length (1 or 2) of the combining mark at s[i], or 0 if there is none. Marks start at U+0300. */
function markAt(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (c < 0x300) return 0;
  if (c >= 0xd800 && c <= 0xdbff) {
    const cp = s.codePointAt(i) as number;
    return cp > 0xffff && mark.test(String.fromCodePoint(cp)) ? 2 : 0;
  }
  if (markOf[c] === 0) markOf[c] = mark.test(String.fromCharCode(c)) ? 1 : 2;
  return markOf[c] === 1 ? 1 : 0;
}

/** The span of the original that the plain-text span [from, to) came from (to > from). */
export function originalSpan(p: PlainText, from: number, to: number): [number, number] {
  return [p.start[from], p.end[to - 1]];
}
