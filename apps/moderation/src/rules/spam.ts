import { allow, type ContentRule, type RuleOutcome } from './rule';
import { CONFUSABLES } from './text/normalise';
import { plainText } from './text/plain';

// Look-alike letters of other scripts (Cyrillic "о" for Latin "o"), from the word list's
// table; its digits and symbols ("0" for "o", "l" for "i") are left out: "1000000" and
// "Illinois" are not runs of one letter.
const LOOKALIKE: ReadonlyMap<string, string> = new Map(Object.entries(CONFUSABLES).filter(([k]) => k.charCodeAt(0) > 0x7f));
const space = /\s/u;

// A character as a run compares it: marks dropped, lower case, look-alikes folded (cached:
// messages reuse a small set of characters).
const keys = new Map<string, string>();
function runKey(ch: string): string {
  let k = keys.get(ch);
  if (k === undefined) {
    const base = ch.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
    k = LOOKALIKE.get(base) ?? base;
    if (keys.size >= 20_000) keys.clear();
    keys.set(ch, k);
  }
  return k;
}

/**
 * The longest run of one character in `body`, white space not counted. Seen through: case
 * ("sOoOoO"), full-width and compatibility forms, invisible characters between the letters
 * ("so\u200Boo"), combining marks ("öoö"), and Cyrillic/Greek look-alikes mixed in. Chinese
 * counts like any script ("哈哈哈哈哈").
 */
export function longestRun(body: string): number {
  let best = 0;
  let run = 0;
  let prev = '';
  for (const ch of plainText(body).text) {
    if (space.test(ch)) {
      prev = '';
      run = 0;
      continue;
    }
    const c = runKey(ch);
    if (!c) continue; // a lone combining mark: part of the letter before it
    run = c === prev ? run + 1 : 1;
    prev = c;
    if (run > best) best = run;
  }
  return best;
}

/** Repeated-character spam: a run of one character longer than `max` ("soooooooo") is refused. */
export class RepeatedCharsRule implements ContentRule {
  static readonly ruleName = 'repeated-chars';
  readonly name = RepeatedCharsRule.ruleName;
  constructor(private readonly max: number) {}

  check(body: string): RuleOutcome {
    if (this.max > 0 && longestRun(body) > this.max)
      return { action: 'block', reason: `the message repeats one character more than ${this.max} times in a row` };
    return allow(body);
  }
}

/**
 * Letters with case in `body` and how many of them are capitals, after NFKC (full-width and
 * mathematical capitals count as capitals). Scripts without case (Chinese, Japanese) count for
 * nothing, so a Chinese message with "OK" in it is not shouting.
 */
export function caseCounts(body: string): { cased: number; upper: number } {
  const text = plainText(body).text;
  const upper = text.match(/[\p{Lu}\p{Lt}]/gu)?.length ?? 0;
  return { cased: upper + (text.match(/\p{Ll}/gu)?.length ?? 0), upper };
}

/** All-caps spam: at least `minLetters` letters with case, and more than `percentMax` % of them capitals, is refused. */
export class CapsRule implements ContentRule {
  static readonly ruleName = 'caps';
  readonly name = CapsRule.ruleName;
  constructor(
    private readonly percentMax: number,
    private readonly minLetters: number,
  ) {}

  check(body: string): RuleOutcome {
    if (this.percentMax <= 0) return allow(body);
    const { cased, upper } = caseCounts(body);
    if (cased >= this.minLetters && upper * 100 > this.percentMax * cased)
      return { action: 'block', reason: `too many capital letters (more than ${this.percentMax}% of the letters)` };
    return allow(body);
  }
}
