/**
 * How message text becomes search tokens, shared by the index (`searchVector`, written into
 * messages.search on insert and edit), the query parser (query.ts) and the highlighter
 * (snippet.ts), so that all three cut text the same way.
 *
 * Text is read in segments: a base character with the combining marks (and variation
 * selectors, joiners, conjoining Hangul vowels/finals) that follow it. Each segment is
 * normalised on its own (NFKC, lower case, final sigma folded), so every normalised character
 * knows the [start, end) UTF-16 range of the original text it came from; NFKC can turn one
 * character into several (`㍿` -> `株式会社`, `½` -> `1⁄2`) and several into one, and the
 * highlighter must point into the original text. Index and query use the same segmentation, so
 * they always agree with each other.
 *
 * Normalised characters are then:
 * - CJK (Han incl. every extension block, Hiragana, Katakana, Hangul, and the marks used inside
 *   such words: 々 〆 〇 ー): runs of them carry no spaces, so a run is indexed as overlapping
 *   character bigrams, as Elasticsearch's `cjk` analyzer does, and each character alone
 *   (`lexemes` below);
 * - word characters (letters, digits and their marks in any other script): runs are words;
 * - anything else (spaces, punctuation, symbols, emoji): separators, never indexed.
 */

/** A normalised unit of text: a word, or one CJK character (with any marks attached). */
export interface Unit {
  kind: 'word' | 'cjk';
  text: string;
  /** [start, end) UTF-16 offsets in the original text. */
  start: number;
  end: number;
  /** A separator (or the start of the text) comes right before it: two CJK characters are one run only without a gap. */
  gapBefore: boolean;
}

const CJK = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}\u3005\u3006\u3007\u30FC]/u;
const WORD = /[\p{L}\p{N}\p{Mn}\p{Mc}]/u;
const MARK = /[\p{Mn}\p{Mc}]/u;
/** Characters that belong to the segment before them (see the file comment). */
const CONTINUES = /[\p{M}\u200C\u200D\uFE00-\uFE0F\u1160-\u11FF\u{E0100}-\u{E01EF}]/u;
/** Invisible characters dropped after normalisation (joiners, variation selectors, BOM). */
const IGNORED = /[\u200B-\u200D\u2060\uFEFF\uFE00-\uFE0F\u{E0100}-\u{E01EF}]/u;

/** The normalised form of a string as index and queries see it (segment by segment). */
export function normalize(text: string): string {
  return normalizedChars(text)
    .map((c) => c.ch)
    .join('');
}

interface NormalizedChar {
  ch: string;
  start: number;
  end: number;
}

function normalizedChars(text: string): NormalizedChar[] {
  const out: NormalizedChar[] = [];
  let i = 0;
  while (i < text.length) {
    const start = i;
    const code = text.charCodeAt(i);
    i += codePointLength(text, i);
    // Fast path (the projection calls this for every message): a character that NFKC leaves
    // as it is and that nothing after it attaches to.
    if (i >= text.length || !mayContinue(text.charCodeAt(i))) {
      if (code < 0x80) {
        out.push({ ch: code >= 0x41 && code <= 0x5a ? String.fromCharCode(code + 32) : text[start], start, end: i });
        continue;
      }
      if (isStableCjk(code)) {
        out.push({ ch: text[start], start, end: i });
        continue;
      }
    }
    while (i < text.length && mayContinue(text.charCodeAt(i)) && CONTINUES.test(String.fromCodePoint(text.codePointAt(i) as number)))
      i += codePointLength(text, i);
    const norm = text.slice(start, i).normalize('NFKC').toLowerCase().replace(/ς/g, 'σ');
    for (const ch of norm) if (!IGNORED.test(ch)) out.push({ ch, start, end: i });
  }
  return out;
}

/** Below U+0300 (the first combining mark) nothing attaches to the character before. */
const mayContinue = (code: number) => code >= 0x300;
/** Kana, CJK unified ideographs (BMP) and Hangul syllables: NFKC and lower case leave them as they are. */
const isStableCjk = (code: number) =>
  (code >= 0x3041 && code <= 0x3096) ||
  (code >= 0x30a1 && code <= 0x30fa) ||
  (code >= 0x3400 && code <= 0x4dbf) ||
  (code >= 0x4e00 && code <= 0x9fff) ||
  (code >= 0xac00 && code <= 0xd7a3);

const codePointLength = (text: string, i: number) => ((text.codePointAt(i) as number) > 0xffff ? 2 : 1);

/**
 * The units of a text in order: words, and each CJK character on its own (a mark after a CJK
 * character stays with it). Separators only split.
 */
export function units(text: string): Unit[] {
  const out: Unit[] = [];
  let word: Unit | null = null;
  let gap = true;
  for (const c of normalizedChars(text)) {
    if (CJK.test(c.ch)) {
      word = null;
      out.push({ kind: 'cjk', text: c.ch, start: c.start, end: c.end, gapBefore: gap });
      gap = false;
    } else if (MARK.test(c.ch) && !word && out.length && !gap && out[out.length - 1].kind === 'cjk') {
      const last = out[out.length - 1];
      last.text += c.ch;
      last.end = Math.max(last.end, c.end);
    } else if (WORD.test(c.ch)) {
      if (word) {
        word.text += c.ch;
        word.end = Math.max(word.end, c.end);
      } else {
        word = { kind: 'word', text: c.ch, start: c.start, end: c.end, gapBefore: gap };
        out.push(word);
      }
      gap = false;
    } else {
      word = null;
      gap = true;
    }
  }
  return out;
}

/** A lexeme with the (1-based) position it takes in the tsvector. */
export interface Lexeme {
  text: string;
  position: number;
}

/**
 * The lexemes of a text with their positions: each word one position; a CJK run of n
 * characters takes n positions, one per character: at position p+i the character alone and,
 * but for the last character, the bigram it starts (`明天开会吗` -> 明天:1 明:1 天开:2 天:2 …
 * 会吗:4 会:4 吗:5). So
 * - a two-character query is one bigram lexeme (found with the GIN index, unlike trigrams);
 * - a longer run is the phrase of its bigrams (`<->`, consecutive positions);
 * - a single character is its own lexeme: an exact GIN lookup with its own statistics (a
 *   prefix `x:*` over the bigrams would do too, but the planner cannot estimate prefixes and
 *   then walks the whole table by position);
 * - phrases work across a CJK/Latin boundary, through the characters at the run's edges
 *   (`微信pay` = `微信 <-> 信 <-> pay`: the word follows the run's last character, so the
 *   phrase cannot match a run that goes on after 信, as in `微信息pay`).
 */
export function lexemes(text: string): Lexeme[] {
  const out: Lexeme[] = [];
  let position = 0;
  let run: string[] = [];
  const flush = () => {
    run.forEach((ch, i) => {
      position++;
      if (i + 1 < run.length) out.push({ text: ch + run[i + 1], position });
      out.push({ text: ch, position });
    });
    run = [];
  };
  for (const u of units(text)) {
    if (u.kind === 'cjk') {
      if (u.gapBefore) flush();
      run.push(u.text);
    } else {
      flush();
      out.push({ text: u.text, position: ++position });
    }
  }
  flush();
  return out;
}

/**
 * Postgres refuses a lexeme over 2047 bytes ("word is too long"); such a "word" is noise
 * (a pasted blob), and one bad word must not make the message unstorable, so it is left out.
 */
export const MAX_LEXEME_BYTES = 2047;
/** Postgres keeps positions 1..16383 (larger ones are stored as 16383). */
const MAX_POSITION = 16383;

/** A lexeme quoted for a tsvector or tsquery literal: in quotes, with ' doubled and \ escaped. */
export const quoteLexeme = (text: string) =>
  NEEDS_ESCAPE.test(text) ? `'${text.replace(/\\/g, '\\\\').replace(/'/g, "''")}'` : `'${text}'`;
const NEEDS_ESCAPE = /['\\]/;

/**
 * The `tsvector` literal indexed for a message body (`searchVector(body)::tsvector`, stock
 * Postgres, no text search configuration involved: the literal is stored as it is). Every
 * lexeme with all its positions, e.g. `'明天':1 '明':1 '天开':2 …`.
 */
export function searchVector(text: string): string {
  const positions = new Map<string, number[]>();
  for (const l of lexemes(text)) {
    // A UTF-8 character is at most 3 bytes per UTF-16 unit: only long lexemes need counting.
    if (l.text.length * 3 > MAX_LEXEME_BYTES && Buffer.byteLength(l.text, 'utf8') > MAX_LEXEME_BYTES) continue;
    const position = Math.min(l.position, MAX_POSITION);
    const list = positions.get(l.text);
    if (!list) positions.set(l.text, [position]);
    else if (list[list.length - 1] !== position) list.push(position);
  }
  let out = '';
  for (const [text, list] of positions) out += `${out ? ' ' : ''}${quoteLexeme(text)}:${list.join(',')}`;
  return out;
}
