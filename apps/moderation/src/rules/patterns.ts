import type { PatternEntry } from '@chat/contracts';
import { RegExpParser, visitRegExpAST, type AST } from '@eslint-community/regexpp';
import { getFirstConsumedChar, isPotentiallyEmpty } from 'regexp-ast-analysis';
import safeRegex from 'safe-regex2';
import { allow, type ContentRule, type RuleOutcome } from './rule';
import { mask, type WordHit } from './wordlist/matcher';
import { patternSandbox } from './pattern-sandbox';
import { originalSpan, plainText } from './text/plain';

/**
 * Why a pattern source cannot be used, or null when it can: it must compile as a JavaScript
 * regular expression with the flags `iu`, must not match the empty text, and must not risk
 * catastrophic (exponential) backtracking, which two checks look for:
 *  - nested quantifiers such as `(a+)+` (safe-regex2's star-height test; it also refuses
 *    look-behinds, which it cannot read);
 *  - an alternation inside a repeat whose alternatives can start with the same character, or
 *    can match nothing: `(a|a)*`, `(a|aa)*`, `(\w|\d)*`, `(?:x|)+`. Each repeat of such a group
 *    can be matched in several ways, so a text that fails to match is tried in 2^n ways. The
 *    check is structural (the pattern is parsed with regexpp, the first characters of each
 *    alternative are worked out with regexp-ast-analysis, case-insensitively as the pattern
 *    runs), so it is fast and refuses the same pattern every time; it is conservative:
 *    `(?:foo|far)+` is refused too (write `f(?:oo|ar)`).
 * Patterns that backtrack polynomially (`\w*\w*x`, `a.*b.*c`) pass; on a long crafted message
 * they meet the time limit of the pattern sandbox (pattern-sandbox.ts).
 */
export function patternProblem(source: string): string | null {
  try {
    new RegExp(source, 'iu');
  } catch (err) {
    return `pattern does not compile: ${(err as Error).message}`;
  }
  if (!safeRegex(new RegExp(source, 'u'))) return 'pattern may backtrack catastrophically (nested quantifiers such as (a+)+); rewrite it';
  const ambiguous = ambiguousRepeat(source);
  if (ambiguous !== null)
    return `pattern may backtrack catastrophically: the alternatives of ${ambiguous} under a repeat can start with the same character or match nothing (as in (a|aa)*); give them different first characters`;
  // A pattern that matches nothing would mask nothing and could loop; refuse it to keep the rule simple.
  if (new RegExp(`^(?:${source})$`, 'iu').test('')) return 'pattern matches the empty text';
  return null;
}

/** The first group (its source) with ambiguous alternatives inside a repeat (a quantifier of more than one), or null. */
function ambiguousRepeat(source: string): string | null {
  const parser = new RegExpParser({ ecmaVersion: 2025 });
  const pattern = parser.parsePattern(source, 0, source.length, { unicode: true });
  const flags = parser.parseFlags('iu');
  const repeated = (node: AST.Node): boolean => {
    for (let n = node.parent; n; n = n.parent) if (n.type === 'Quantifier' && n.max > 1) return true;
    return false;
  };
  let found: string | null = null;
  const check = (node: AST.Group | AST.CapturingGroup): void => {
    if (found !== null || node.alternatives.length < 2 || !repeated(node)) return;
    const firsts: Array<ReturnType<typeof getFirstConsumedChar>['char']> = [];
    for (const alternative of node.alternatives) {
      const first = getFirstConsumedChar(alternative, 'ltr', flags);
      if (isPotentiallyEmpty(alternative, flags) || first.empty || firsts.some((f) => !f.isDisjointWith(first.char))) {
        found = node.raw;
        return;
      }
      firsts.push(first.char);
    }
  };
  visitRegExpAST(pattern, { onGroupEnter: check, onCapturingGroupEnter: check });
  return found;
}

/**
 * Configured regular expressions (server's first, then the room's), matched case-insensitively
 * against the message folded by `plainText` (NFKC, invisible characters removed), so
 * full-width letters and zero-width spaces do not get around a pattern. A `block` match refuses
 * the message at once; a `hold` match holds it unless a later pattern blocks it; `mask` matches
 * are replaced by `***` where they were typed. Patterns are validated when set (patternProblem);
 * a stored one that no longer compiles is left out rather than stopping the chain. They run in
 * a worker thread with a time limit (see pattern-sandbox.ts), so the rule answers with a
 * promise (`run`): a message on which they take too long is held for a moderator rather than
 * stalling the service.
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

  /** Without patterns: allows at once. With patterns the answer comes from the worker: use `run`. */
  check(body: string): RuleOutcome {
    if (this.setId === null) return allow(body);
    throw new Error('patterns run in a worker thread: use PatternsRule.run (FilterChain.run)');
  }

  async run(body: string): Promise<RuleOutcome> {
    if (this.setId === null) return allow(body);
    const plain = plainText(body);
    const r = await patternSandbox.run(this.setId, plain.text);
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
