import type { WordEntry as ConfigWordEntry } from '@chat/contracts';
import { allow, type ContentRule, type RuleOutcome } from './rule';
import { mask, WordListMatcher, type WordHit } from './wordlist/matcher';

/**
 * The word lists of one room's chain: the server's (its `words`, plus BLOCKED_WORDS as `block`
 * entries) and the room's own, each an evasion-resistant matcher (wordlist/matcher.ts). A room's
 * configuration can only add to the server's: the server's allow-list spares words of both
 * lists, the room's allow-list only the room's own words (never the server's nor BLOCKED_WORDS,
 * so a room's owner cannot switch a server block off in their room). The server's matcher is
 * built once and shared by every room, so a room with ten words does not copy a 10,000-word
 * server list.
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

/** The room's own words, spared by both allow-lists. null: the room lists no words (its allow-list alone changes nothing). */
export function roomWords(words: readonly ConfigWordEntry[], allowList: readonly string[], server: ServerWords): WordListMatcher | null {
  if (!words.length) return null;
  return new WordListMatcher(
    words.map((w) => ({ word: w.term, action: w.action })),
    [...server.allowList, ...allowList],
  );
}

export class WordsRule implements ContentRule {
  static readonly ruleName = 'words';
  readonly name = WordsRule.ruleName;

  constructor(
    private readonly server: ServerWords,
    private readonly room: WordListMatcher | null,
  ) {}

  /** Hits of both lists, allow-listed ones removed (see `mask` for how they are masked). */
  hits(body: string): WordHit[] {
    const hits = this.server.matcher.hits(body);
    return this.room ? hits.concat(this.room.hits(body)) : hits;
  }

  check(body: string): RuleOutcome {
    const server = this.server.matcher.hits(body);
    const room = this.room?.hits(body) ?? [];
    if (!server.length && !room.length) return allow(body);
    const reason = 'the message contains a blocked word';
    if (server.some((h) => h.action === 'block')) return { action: 'block', reason };
    if (room.some((h) => h.action === 'block')) return { action: 'block', reason, scope: 'room' };
    return allow(mask(body, server.concat(room)));
  }
}
