import type { PatternEntry } from '@chat/contracts';
import safeRegex from 'safe-regex2';
import { allow, type ContentRule, type RuleOutcome } from './rule';
import { mask, type WordHit } from './wordlist/matcher';
import { originalSpan, plainText } from './text/plain';

/**
 * Why a pattern source cannot be used, or null when it can: it must compile as a JavaScript
 * regular expression with the flags `iu`, and must not risk catastrophic backtracking. The
 * backtracking check is safe-regex2's (a star-height test: nested quantifiers such as `(a+)+`
 * are refused); it is a heuristic, so every pattern also runs only on one message of bounded
 * length (Limits.messageMaxChars), never on a stream of text.
 */
export function patternProblem(source: string): string | null {
  try {
    new RegExp(source, 'iu');
  } catch (err) {
    return `pattern does not compile: ${(err as Error).message}`;
  }
  if (!safeRegex(new RegExp(source, 'u'))) return 'pattern may backtrack catastrophically (nested quantifiers such as (a+)+); rewrite it';
  // A pattern that matches nothing would mask nothing and could loop; refuse it to keep the rule simple.
  if (new RegExp(`^(?:${source})$`, 'iu').test('')) return 'pattern matches the empty text';
  return null;
}

interface CompiledPattern {
  readonly name: string;
  readonly re: RegExp;
  readonly action: PatternEntry['action'];
}

/**
 * Configured regular expressions (server's first, then the room's), matched case-insensitively
 * against the message folded by `plainText` (NFKC, invisible characters removed), so
 * full-width letters and zero-width spaces do not get around a pattern. A `block` match refuses
 * the message at once; a `hold` match holds it unless a later pattern blocks it; `mask` matches
 * are replaced by `***` where they were typed. Patterns are validated when set (patternProblem);
 * a stored one that no longer compiles is left out rather than stopping the chain.
 */
export class PatternsRule implements ContentRule {
  static readonly ruleName = 'patterns';
  readonly name = PatternsRule.ruleName;
  private readonly patterns: CompiledPattern[] = [];

  constructor(entries: readonly PatternEntry[]) {
    for (const p of entries) {
      try {
        this.patterns.push({ name: p.name, re: new RegExp(p.pattern, 'giu'), action: p.action });
      } catch {
        // Validated on set; nothing to do with a pattern that does not compile here.
      }
    }
  }

  get size(): number {
    return this.patterns.length;
  }

  check(body: string): RuleOutcome {
    if (!this.patterns.length) return allow(body);
    const plain = plainText(body);
    let held: RuleOutcome | null = null;
    const masks: WordHit[] = [];
    for (const p of this.patterns) {
      p.re.lastIndex = 0;
      if (p.action !== 'mask') {
        if (!p.re.test(plain.text)) continue;
        if (p.action === 'block')
          return { action: 'block', reason: `the message matches the pattern "${p.name}"`, rule: `pattern:${p.name}` };
        held ??= { action: 'hold', reason: `the message matches the pattern "${p.name}"`, rule: `pattern:${p.name}` };
        continue;
      }
      if (!p.re.test(plain.text)) continue;
      p.re.lastIndex = 0;
      for (const m of plain.text.matchAll(p.re)) {
        if (!m[0].length) continue;
        const [start, end] = originalSpan(plain, m.index, m.index + m[0].length);
        masks.push({ word: p.name, action: 'mask', start, end });
      }
    }
    if (held) return held;
    return allow(masks.length ? mask(body, masks) : body);
  }
}
