import { allow, type ContentRule, type RuleOutcome } from './rule';
import { CONFUSABLES } from './text/normalise';
import { plainText } from './text/plain';

// Look-alike letters of other scripts (Cyrillic "о" for Latin "o"), from the word list's
// table; its digits and symbols ("0" for "o", "l" for "i") are left out: "1000000" and
// "Illinois" are not runs of one letter.
const LOOKALIKE: ReadonlyMap<string, string> = new Map(Object.entries(CONFUSABLES).filter(([k]) => k.charCodeAt(0) > 0x7f));
const space = /\s/u;

// A character as a run compares it: marks dropped, lower case, look-alikes folded. Learnt on
// first sight: by code unit for the BMP (most text), in a map for the rest; white space is ''.
const bmpKey: Array<string | undefined> = new Array<string | undefined>(0x10000);
const astralKey = new Map<string, string>();
function keyOf(ch: string): string {
  if (space.test(ch)) return '';
  const base = ch.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  return LOOKALIKE.get(base) ?? (base || '\u0000');
}
function runKey(text: string, i: number): string {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdbff && i + 1 < text.length) {
    const ch = text.slice(i, i + 2);
    let k = astralKey.get(ch);
    if (k === undefined) {
      if (astralKey.size >= 20_000) astralKey.clear();
      astralKey.set(ch, (k = keyOf(ch)));
    }
    return k;
  }
  return (bmpKey[c] ??= keyOf(text[i]));
}

/**
 * The longest run of one character in `body`, white space not counted. Seen through: case
 * ("sOoOoO"), full-width and compatibility forms, invisible characters between the letters
 * ("so\u200Boo"), combining marks ("öoö"), and Cyrillic/Greek look-alikes mixed in. Chinese
 * counts like any script ("哈哈哈哈哈").
 */
export function longestRun(body: string): number {
  const text = plainText(body).text;
  let best = 0;
  let run = 0;
  let prev = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xdc00 && c <= 0xdfff && i > 0) continue; // the low half of a pair read with its high half
    const k = runKey(text, i);
    if (k === '') {
      prev = '';
      run = 0;
      continue;
    }
    if (k === '\u0000') continue; // a lone combining mark: part of the character before it
    run = k === prev ? run + 1 : 1;
    prev = k;
    if (run > best) best = run;
  }
  return best;
}

/**
 * Repeated-character spam: a run of one character longer than `max` ("soooooooo") is refused
 * (0: off). A room's own limit (`roomMax`) can only be stricter: the lower of the two applies.
 */
export class RepeatedCharsRule implements ContentRule {
  static readonly ruleName = 'repeated-chars';
  readonly name = RepeatedCharsRule.ruleName;
  constructor(
    private readonly max: number,
    private readonly roomMax: number = 0,
  ) {}

  check(body: string): RuleOutcome {
    if (this.max <= 0 && this.roomMax <= 0) return allow(body);
    const run = longestRun(body);
    const reason = (max: number) => `the message repeats one character more than ${max} times in a row`;
    if (this.max > 0 && run > this.max) return { action: 'block', reason: reason(this.max) };
    if (this.roomMax > 0 && run > this.roomMax) return { action: 'block', reason: reason(this.roomMax), scope: 'room' };
    return allow(body);
  }
}

// What each BMP code unit is for capitals: 0 not yet known, 1 upper or title case, 2 lower case, 3 neither.
const caseOf = new Uint8Array(0x10000);
function caseAt(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c >= 0xd800 && c <= 0xdfff) {
    if (c >= 0xdc00) return 3; // read with its high half
    const ch = String.fromCodePoint(text.codePointAt(i) as number);
    return /[\p{Lu}\p{Lt}]/u.test(ch) ? 1 : /\p{Ll}/u.test(ch) ? 2 : 3;
  }
  if (caseOf[c] === 0) {
    const ch = String.fromCharCode(c);
    caseOf[c] = /[\p{Lu}\p{Lt}]/u.test(ch) ? 1 : /\p{Ll}/u.test(ch) ? 2 : 3;
  }
  return caseOf[c];
}

/**
 * Letters with case in `body` and how many of them are capitals, after NFKC (full-width and
 * mathematical capitals count as capitals). Scripts without case (Chinese, Japanese) count for
 * nothing, so a Chinese message with "OK" in it is not shouting.
 */
export function caseCounts(body: string): { cased: number; upper: number } {
  const text = plainText(body).text;
  let cased = 0;
  let upper = 0;
  for (let i = 0; i < text.length; i++) {
    const k = caseAt(text, i);
    if (k === 1) upper++;
    if (k !== 3) cased++;
  }
  return { cased, upper };
}

/** Thresholds of all-caps spam: `percentMax` 0 is off. */
export interface CapsLimit {
  readonly percentMax: number;
  readonly minLetters: number;
}

/**
 * All-caps spam: at least `minLetters` letters with case, and more than `percentMax` % of them
 * capitals, is refused. A room's own thresholds (`room`) apply besides the server's, never
 * instead: a text either refuses is refused.
 */
export class CapsRule implements ContentRule {
  static readonly ruleName = 'caps';
  readonly name = CapsRule.ruleName;
  constructor(
    readonly percentMax: number,
    readonly minLetters: number,
    private readonly room: CapsLimit | null = null,
  ) {}

  check(body: string): RuleOutcome {
    const roomOn = this.room !== null && this.room.percentMax > 0;
    if (this.percentMax <= 0 && !roomOn) return allow(body);
    const { cased, upper } = caseCounts(body);
    const over = (l: CapsLimit) => l.percentMax > 0 && cased >= l.minLetters && upper * 100 > l.percentMax * cased;
    const reason = (l: CapsLimit) => `too many capital letters (more than ${l.percentMax}% of the letters)`;
    if (over(this)) return { action: 'block', reason: reason(this) };
    if (this.room && over(this.room)) return { action: 'block', reason: reason(this.room), scope: 'room' };
    return allow(body);
  }
}
