import type { PatternEntry } from '@chat/contracts';
import safeRegex from 'safe-regex2';
import { allow, type ContentRule, type RuleOutcome } from './rule';
import { mask, type WordHit } from './wordlist/matcher';
import { patternSandbox } from './pattern-sandbox';
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

/**
 * Configured regular expressions (server's first, then the room's), matched case-insensitively
 * against the message folded by `plainText` (NFKC, invisible characters removed), so
 * full-width letters and zero-width spaces do not get around a pattern. A `block` match refuses
 * the message at once; a `hold` match holds it unless a later pattern blocks it; `mask` matches
 * are replaced by `***` where they were typed. Patterns are validated when set (patternProblem);
 * a stored one that no longer compiles is left out rather than stopping the chain. They run in
 * a worker thread with a time limit (see pattern-sandbox.ts): a message on which they take too
 * long is held for a moderator rather than stalling the service.
 */
export class PatternsRule implements ContentRule {
  static readonly ruleName = 'patterns';
  readonly name = PatternsRule.ruleName;
  private readonly patterns: readonly PatternEntry[];
  private readonly setId: number | null;

  /** `entries`: the server's patterns, then the room's; the first `serverCount` are the server's. */
  constructor(
    entries: readonly PatternEntry[],
    private readonly serverCount = entries.length,
  ) {
    this.patterns = entries;
    this.setId = entries.length
      ? patternSandbox.define(
          this,
          entries.map((p) => ({ source: p.pattern, action: p.action })),
        )
      : null;
  }

  get size(): number {
    return this.patterns.length;
  }

  check(body: string): RuleOutcome {
    if (this.setId === null) return allow(body);
    const plain = plainText(body);
    const r = patternSandbox.run(this.setId, plain.text);
    switch (r.kind) {
      case 'timeout':
        return { action: 'hold', reason: 'the filter patterns took too long on this message', rule: 'pattern-time-limit' };
      case 'block':
      case 'hold': {
        const name = this.patterns[r.index]?.name ?? '?';
        const scope = r.index >= this.serverCount ? { scope: 'room' as const } : {};
        return { action: r.kind, reason: `the message matches the pattern "${name}"`, rule: `pattern:${name}`, ...scope };
      }
      case 'masks': {
        if (!r.spans.length) return allow(body);
        const masks: WordHit[] = r.spans.map(([from, to]) => {
          const [start, end] = originalSpan(plain, from, to);
          return { word: 'pattern', action: 'mask', start, end };
        });
        return allow(mask(body, masks));
      }
    }
  }
}
