import type { ModerationVerdict } from '@chat/contracts';

/** Folds text the same way for the list and for messages: NFKC, case-folded, whitespace collapsed. */
export function fold(text: string): string {
  return text.normalize('NFKC').toUpperCase().toLowerCase().replace(/\s+/gu, ' ');
}

const isCjk = (s: string) => /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Hangul}]/u.test(s);

/**
 * First moderation rule: a configured block list. Latin-script entries match whole words
 * (so "ass" does not block "class"); entries with CJK characters match as substrings, since
 * those scripts do not separate words with spaces. Pure: the service wraps it.
 */
export class BlockList {
  private readonly wordRe: RegExp | null;
  private readonly cjk: string[];

  constructor(entries: string[]) {
    const cleaned = [...new Set(entries.map(fold).map((e) => e.trim()).filter(Boolean))];
    this.cjk = cleaned.filter(isCjk);
    const words = cleaned.filter((e) => !isCjk(e)).map((w) => w.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'));
    this.wordRe = words.length ? new RegExp(`(?<![\\p{L}\\p{N}])(?:${words.join('|')})(?![\\p{L}\\p{N}])`, 'u') : null;
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
    if (hit !== undefined) return { verdict: 'reject', rule: 'blocklist', reason: 'the message contains a blocked word' };
    return { verdict: 'allow', body: body.normalize('NFC') };
  }
}
