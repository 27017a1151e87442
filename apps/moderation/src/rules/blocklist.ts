import type { ModerationVerdict } from '@chat/contracts';
import type { ModerationRule } from './rule';

const CJK = '\\p{Script=Han}\\p{Script=Hiragana}\\p{Script=Katakana}\\p{Script=Hangul}';
const cjkChar = new RegExp(`[${CJK}]`, 'u');
const spaceBetweenCjk = new RegExp(`(?<=[${CJK}]) (?=[${CJK}])`, 'gu');

/**
 * Folds text the same way for the list and for messages, so that what looks the same matches
 * the same: NFKC (full-width and compatibility forms), invisible characters removed (zero-width
 * spaces and joiners, soft hyphens, variation selectors: Unicode's default-ignorable code
 * points, which render as nothing), case folded (upper then lower, and ß as ss, so STRASSE,
 * Straße and STRAẞE agree), whitespace runs as one space, and no space at all between two CJK
 * characters (those scripts do not separate words, so "违 禁" is "违禁").
 */
export function fold(text: string): string {
  return text
    .normalize('NFKC')
    .replace(/\p{Default_Ignorable_Code_Point}/gu, '')
    .toUpperCase()
    .toLowerCase()
    .replace(/ß/gu, 'ss')
    .replace(/\s+/gu, ' ')
    .replace(spaceBetweenCjk, '');
}

const isCjk = (s: string) => cjkChar.test(s);

/**
 * First moderation rule: a configured block list. Latin-script entries match whole words
 * (so "ass" does not block "class"); entries with CJK characters match as substrings, since
 * those scripts do not separate words with spaces. Pure: `blockListRule` makes it a registry rule.
 */
export class BlockList {
  /** The name a rejection carries (the rule's name in the registry). */
  static readonly ruleName = 'blocklist';
  private readonly wordRe: RegExp | null;
  private readonly cjk: string[];

  constructor(entries: string[]) {
    const cleaned = [
      ...new Set(
        entries
          .map(fold)
          .map((e) => e.trim())
          .filter(Boolean),
      ),
    ];
    this.cjk = cleaned.filter(isCjk);
    const words = cleaned.filter((e) => !isCjk(e)).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    // A word boundary is any character that is not a letter or digit, or a CJK one: Chinese
    // text does not put spaces around a Latin word ("这是spam广告").
    const wordChar = `(?![${CJK}])[\\p{L}\\p{N}]`;
    this.wordRe = words.length ? new RegExp(`(?<!${wordChar})(?:${words.join('|')})(?!${wordChar})`, 'u') : null;
  }

  static parse(csv: string): BlockList {
    return new BlockList(csv.split(','));
  }

  get size(): number {
    return this.cjk.length + (this.wordRe ? this.wordRe.source.split('|').length : 0);
  }

  check(body: string): ModerationVerdict {
    const text = fold(body);
    const hit = this.cjk.find((w) => text.includes(w)) ?? text.match(this.wordRe ?? /$^/u)?.[0];
    if (hit !== undefined) return { verdict: 'reject', rule: BlockList.ruleName, reason: 'the message contains a blocked word' };
    return { verdict: 'allow', body: body.normalize('NFC') };
  }
}

/** The block list as a moderation rule; `entries` is the comma-separated list (BLOCKED_WORDS). */
export function blockListRule(entries: string): ModerationRule {
  const list = BlockList.parse(entries);
  return { name: BlockList.ruleName, check: ({ body }) => list.check(body) };
}
