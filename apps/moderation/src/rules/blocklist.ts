import type { ModerationVerdict } from '@chat/contracts';
import type { ModerationRule } from './rule';
import { WordListMatcher } from './wordlist/matcher';

/**
 * First moderation rule: a configured block list. Latin-script entries match whole words
 * (so "ass" does not block "class"); entries with CJK characters match as substrings, since
 * those scripts do not separate words with spaces. Matching sees through evasions (full-width
 * forms, invisible characters, case, look-alikes, separators between single letters): see
 * `wordlist/matcher.ts` and `text/normalise.ts`. Pure: `blockListRule` makes it a registry rule.
 */
export class BlockList {
  /** The name a rejection carries (the rule's name in the registry). */
  static readonly ruleName = 'blocklist';
  private readonly matcher: WordListMatcher;

  constructor(entries: string[]) {
    this.matcher = new WordListMatcher(entries.map((word) => ({ word, action: 'block' })));
  }

  static parse(csv: string): BlockList {
    return new BlockList(csv.split(','));
  }

  get size(): number {
    return this.matcher.size;
  }

  check(body: string): ModerationVerdict {
    if (this.matcher.hits(body).length)
      return {
        verdict: 'reject',
        code: 'CONTENT_BLOCKED',
        rule: BlockList.ruleName,
        reason: 'the message contains a blocked word',
        retryAfterMs: null,
      };
    return { verdict: 'allow', body: body.normalize('NFC') };
  }
}

/** The block list as a moderation rule; `entries` is the comma-separated list (BLOCKED_WORDS). */
export function blockListRule(entries: string): ModerationRule {
  const list = BlockList.parse(entries);
  return { name: BlockList.ruleName, check: ({ body }) => list.check(body) };
}
