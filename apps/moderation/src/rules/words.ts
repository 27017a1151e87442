import type { WordEntry as ConfigWordEntry } from '@chat/contracts';
import { allow, type ContentRule, type RuleOutcome } from './rule';
import { mask, WordListMatcher, type WordHit } from './wordlist/matcher';

/**
 * The word lists of one room's chain: the server's (its `words`, plus BLOCKED_WORDS as `block`
 * entries) and the room's own, each an evasion-resistant matcher (wordlist/matcher.ts). Allow-list
 * words of both scopes apply to both lists: the room's matcher is built with the server's
 * allow-list and its own; a server hit lying inside an occurrence of one of the room's allow words
 * is dropped too (found by a matcher of those words). The server's matcher is built once and
 * shared by every room, so a room with ten words does not copy a 10,000-word server list.
 */
export class ServerWords {
  readonly matcher: WordListMatcher;
  constructor(
    words: readonly ConfigWordEntry[],
    readonly allowList: readonly string[],
    extraBlocked: readonly string[] = [],
  ) {
    this.matcher = new WordListMatcher(
      [...extraBlocked.map((word) => ({ word, action: 'block' as const })), ...words.map((w) => ({ word: w.term, action: w.action }))],
      allowList,
    );
  }
}

export interface RoomWords {
  readonly matcher: WordListMatcher;
  /** The room's allow-list words as substring entries: their hits are the spans where a server hit does not count. */
  readonly allowSpans: WordListMatcher | null;
}

export function roomWords(words: readonly ConfigWordEntry[], allowList: readonly string[], server: ServerWords): RoomWords {
  return {
    matcher: new WordListMatcher(
      words.map((w) => ({ word: w.term, action: w.action })),
      [...server.allowList, ...allowList],
    ),
    allowSpans: allowList.length ? new WordListMatcher(allowList.map((word) => ({ word, action: 'mask', match: 'substring' }))) : null,
  };
}

export class WordsRule implements ContentRule {
  static readonly ruleName = 'words';
  readonly name = WordsRule.ruleName;

  constructor(
    private readonly server: ServerWords,
    private readonly room: RoomWords | null,
  ) {}

  /** Hits of both lists, allow-listed ones removed (see `mask` for how they are masked). */
  hits(body: string): WordHit[] {
    let hits = this.server.matcher.hits(body);
    if (this.room) {
      const allowed = this.room.allowSpans?.hits(body) ?? [];
      if (allowed.length) hits = hits.filter((h) => !allowed.some((a) => a.start <= h.start && h.end <= a.end));
      hits = hits.concat(this.room.matcher.hits(body));
    }
    return hits;
  }

  check(body: string): RuleOutcome {
    const hits = this.hits(body);
    if (!hits.length) return allow(body);
    if (hits.some((h) => h.action === 'block')) return { action: 'block', reason: 'the message contains a blocked word' };
    return allow(mask(body, hits));
  }
}
