import { isCjkUnit, skeleton, type Skeleton } from '../text/normalise';

/** What a hit on an entry does: `mask` rewrites the span as `***`, `block` refuses the message. */
export type WordAction = 'mask' | 'block';

/**
 * One list entry. `match: 'word'` (the default) hits only a whole word, or whole words for a
 * phrase ("ass" does not hit "class"); `'substring'` hits inside longer words too ("fuck" in
 * "fuckface"), which is where the allow-list earns its keep. At a CJK end of an entry there is
 * no word boundary to check (those scripts do not separate words): a Chinese entry is always
 * found inside longer text.
 */
export interface WordEntry {
  readonly word: string;
  readonly action: WordAction;
  readonly match?: 'word' | 'substring';
}

/** A hit, as a span of the ORIGINAL text (UTF-16 offsets, never inside a surrogate pair or before a combining mark). */
export interface WordHit {
  readonly word: string;
  readonly action: WordAction;
  readonly start: number;
  readonly end: number;
}

export type FilterResult =
  { readonly verdict: 'block'; readonly hits: WordHit[] } | { readonly verdict: 'allow'; readonly text: string; readonly hits: WordHit[] };

/** What replaces each masked span: always three asterisks, whatever the span's length (it does not tell the length). */
export const MASK = '***';

interface Pattern {
  readonly word: string;
  readonly action: WordAction | 'allow';
  readonly length: number;
  /** Word starts inside the pattern (index 0 unused): a hit must have exactly these. */
  readonly bounds: Uint8Array;
  /** Each character's count in a row (see `Skeleton.run`). */
  readonly runs: Uint16Array;
  readonly wholeStart: boolean;
  readonly wholeEnd: boolean;
}

/**
 * An evasion-resistant word-list matcher. Entries, allow-list words and messages are all folded
 * to the same skeleton (see `text/normalise.ts`); entries are found in one pass over the
 * message by an Aho-Corasick automaton, so the cost per message grows with the message, not
 * with the list (10,000 entries cost about what 10 do, once built). A hit lying inside an
 * occurrence of an allow-listed word ("ass" inside "class" or "assistant", "cunt" inside
 * "Scunthorpe") is not a hit.
 */
export class WordListMatcher {
  private readonly patterns: Pattern[] = [];
  // The automaton: per node its transitions, failure link, the patterns ending there, and the
  // next node on its failure chain that has patterns (-1: none).
  private readonly next: Array<Map<number, number>> = [new Map()];
  private readonly out: number[][] = [[]];
  private fail: Int32Array = new Int32Array(1);
  private dict: Int32Array = new Int32Array(1).fill(-1);
  // The root's transitions as a table by code unit (0: none), the one node every character
  // of a message may come back to.
  private readonly root = new Int32Array(0x10000);
  private entries = 0;

  constructor(entries: readonly WordEntry[], allow: readonly string[] = []) {
    const seen = new Map<string, number>();
    const add = (word: string, action: Pattern['action'], wholeWords: boolean) => {
      const sk = skeleton(word);
      if (!sk.text) return;
      const key = `${wholeWords ? 'w' : 's'}:${action === 'allow' ? 'a' : 'e'}:${sk.text}:${Array.from(sk.wordStart).join('')}:${Array.from(sk.run).join(',')}`;
      const known = seen.get(key);
      if (known !== undefined) {
        // The same entry twice: block wins over mask.
        const p = this.patterns[known];
        if (p.action === 'mask' && action === 'block') this.patterns[known] = { ...p, action };
        return;
      }
      seen.set(key, this.patterns.length);
      if (action !== 'allow') this.entries++;
      this.insert(sk, this.patterns.length);
      const last = sk.text.length - 1;
      this.patterns.push({
        word,
        action,
        length: sk.text.length,
        bounds: sk.wordStart,
        runs: sk.run,
        wholeStart: wholeWords && !isCjkUnit(sk.text.charCodeAt(0)),
        wholeEnd: wholeWords && !endsCjk(sk.text),
      });
    };
    for (const e of entries) add(e.word, e.action, (e.match ?? 'word') === 'word');
    for (const w of allow) add(w, 'allow', false);
    this.link();
  }

  /** The number of distinct entries (allow-list words not counted). */
  get size(): number {
    return this.entries;
  }

  /** Every hit in `text`, allow-listed ones removed, in order of their end. */
  hits(text: string): WordHit[] {
    if (this.entries === 0) return [];
    const sk = skeleton(text);
    const found: Array<[Pattern, number, number]> = [];
    const allowed: Array<[number, number]> = [];
    const s = sk.text;
    const root = this.root;
    let state = 0;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      for (;;) {
        if (state === 0) {
          state = root[c];
          break;
        }
        const to = this.next[state].get(c);
        if (to !== undefined) {
          state = to;
          break;
        }
        state = this.fail[state];
      }
      for (let n = this.out[state].length ? state : this.dict[state]; n !== -1; n = this.dict[n]) {
        for (const id of this.out[n]) {
          const p = this.patterns[id];
          const from = i - p.length + 1;
          if (!fits(sk, p, from, i + 1)) continue;
          if (p.action === 'allow') allowed.push([from, i + 1]);
          else found.push([p, from, i + 1]);
        }
      }
    }
    const hits: WordHit[] = [];
    for (const [p, from, to] of found) {
      if (allowed.some(([a, b]) => a <= from && to <= b)) continue;
      hits.push({ word: p.word, action: p.action as WordAction, start: sk.start[from], end: sk.end[to - 1] });
    }
    return hits;
  }

  /**
   * The verdict on `text`: refused if any `block` entry hits; otherwise allowed, with each
   * span covered by `mask` hits (overlapping or touching spans joined) replaced by `***` in
   * the original text. What lies between the letters of a hit (the dots of "f.u.c.k") is part
   * of its span; what is around it is kept.
   */
  apply(text: string): FilterResult {
    const hits = this.hits(text);
    if (hits.some((h) => h.action === 'block')) return { verdict: 'block', hits };
    return { verdict: 'allow', text: mask(text, hits), hits };
  }

  private insert(sk: Skeleton, id: number): void {
    let node = 0;
    for (let i = 0; i < sk.text.length; i++) {
      const c = sk.text.charCodeAt(i);
      let to = this.next[node].get(c);
      if (to === undefined) {
        to = this.next.length;
        this.next.push(new Map());
        this.out.push([]);
        this.next[node].set(c, to);
      }
      node = to;
    }
    this.out[node].push(id);
  }

  /** Failure and dictionary links, breadth first. */
  private link(): void {
    const n = this.next.length;
    this.fail = new Int32Array(n);
    this.dict = new Int32Array(n).fill(-1);
    const queue: number[] = [];
    for (const [c, child] of this.next[0]) {
      this.root[c] = child;
      queue.push(child);
    }
    for (let q = 0; q < queue.length; q++) {
      const node = queue[q];
      for (const [c, child] of this.next[node]) {
        let f = this.fail[node];
        let to = this.next[f].get(c);
        while (to === undefined && f !== 0) {
          f = this.fail[f];
          to = this.next[f].get(c);
        }
        this.fail[child] = to !== undefined && to !== child ? to : 0;
        const fc = this.fail[child];
        this.dict[child] = this.out[fc].length ? fc : this.dict[fc];
        queue.push(child);
      }
    }
  }
}

/** The last character is CJK (an astral Han character ends with its low surrogate). */
function endsCjk(s: string): boolean {
  const last = s.charCodeAt(s.length - 1);
  return isCjkUnit(last) || (last >= 0xdc00 && last <= 0xdfff && isCjkUnit(s.charCodeAt(s.length - 2)));
}

/** Does pattern p, found at [from, to) of the skeleton, respect its word boundaries? */
function fits(sk: Skeleton, p: Pattern, from: number, to: number): boolean {
  for (let k = 1; k < p.length; k++) if (sk.wordStart[from + k] !== p.bounds[k]) return false;
  if (p.wholeStart && sk.wordStart[from] !== 1) return false;
  if (p.wholeEnd && to < sk.text.length && sk.wordStart[to] !== 1) return false;
  const last = p.length - 1;
  for (let k = 0; k <= last; k++) {
    const edge = (k === 0 && !p.wholeStart) || (k === last && !p.wholeEnd);
    if (!runsFit(sk.run[from + k], p.runs[k], edge)) return false;
  }
  return true;
}

/**
 * Does a letter written `t` times in a row in the message stand for the same letter written `p`
 * times in the entry? Once or twice are kept apart ("good" is not "god", "as" is not "ass");
 * 3 or more times is a stretched letter and stands for any count up to it ("fuuuck" is
 * "fuck", "asss" is "ass"). At an end of a substring entry the run may go on past the entry
 * ("as" is inside "pass").
 */
export function runsFit(t: number, p: number, edge: boolean): boolean {
  return t === p || (t > p && (t >= 3 || edge));
}

/** `text` with the spans of its mask hits (joined where they overlap or touch) replaced by `***`. */
export function mask(text: string, hits: readonly WordHit[]): string {
  const spans = hits
    .filter((h) => h.action === 'mask')
    .map((h) => [h.start, h.end] as [number, number])
    .sort((a, b) => a[0] - b[0]);
  if (!spans.length) return text;
  let out = '';
  let at = 0;
  let [s, e] = spans[0];
  for (const [a, b] of spans.slice(1)) {
    if (a <= e) {
      e = Math.max(e, b);
      continue;
    }
    out += text.slice(at, s) + MASK;
    at = e;
    [s, e] = [a, b];
  }
  return out + text.slice(at, s) + MASK + text.slice(e);
}
