import { quoteLexeme, units, MAX_LEXEME_BYTES, type Unit } from './tokenize';

/**
 * A parsed search query: every phrase must occur in the message. A phrase is a sequence of
 * units (words and single CJK characters) that must follow each other in the message with
 * nothing but separators between words (and nothing at all inside a CJK run).
 */
export interface SearchQuery {
  phrases: Unit[][];
}

/** Quote characters that open or close a phrase (NFKC already maps the full-width `＂` to `"`). */
const QUOTES = /["“”„«»「」『』]/;

/**
 * Parses what a user typed: unquoted text is split on white space into terms, each term a
 * phrase of its units (`deploy` one word; `微信pay` the run 微信 then the word pay; `e-mail`
 * the word e then the word mail); a "quoted phrase" is one phrase whatever spaces it holds
 * (an unclosed quote runs to the end). null when nothing is left to look for (only
 * punctuation, spaces, emoji): the caller answers BAD_REQUEST. Duplicate terms count once.
 */
export function parseQuery(input: string): SearchQuery | null {
  const phrases: Unit[][] = [];
  const seen = new Set<string>();
  const add = (text: string) => {
    const phrase = units(text);
    if (!phrase.length || phrase.some((u) => Buffer.byteLength(u.text, 'utf8') > MAX_LEXEME_BYTES)) return;
    const key = phrase.map((u) => `${u.kind}:${u.text}`).join(' ');
    if (seen.has(key)) return;
    seen.add(key);
    phrases.push(phrase);
  };
  const parts = input.split(QUOTES);
  parts.forEach((part, i) => {
    // Even parts are outside quotes, odd parts inside.
    if (i % 2 === 1) add(part);
    else for (const term of part.split(/\s+/u)) if (term) add(term);
  });
  return phrases.length ? { phrases } : null;
}

/**
 * The `tsquery` literal for a parsed query (passed as a parameter and cast with `::tsquery`,
 * never spliced into SQL; the literal's own quoting keeps any character a lexeme). Mirrors
 * the positions `lexemes` gives (tokenize.ts):
 * - a word is its lexeme;
 * - a single CJK character is its own lexeme (every character is indexed alone too);
 * - a CJK run of n >= 2 characters is the phrase of its n-1 bigrams, plus its last character
 *   alone when something follows it in the phrase (what follows sits one position after the
 *   run's last character).
 * Phrases are joined with `&`.
 */
export function toTsquery(q: SearchQuery): string {
  return q.phrases.map((p) => phraseQuery(p)).join(' & ');
}

function phraseQuery(phrase: Unit[]): string {
  const parts: string[] = [];
  let i = 0;
  while (i < phrase.length) {
    if (phrase[i].kind === 'word') {
      parts.push(quoteLexeme(phrase[i++].text));
      continue;
    }
    const run: string[] = [phrase[i++].text];
    while (i < phrase.length && phrase[i].kind === 'cjk' && !phrase[i].gapBefore) run.push(phrase[i++].text);
    const followed = i < phrase.length;
    if (run.length === 1) {
      parts.push(quoteLexeme(run[0]));
      continue;
    }
    for (let k = 0; k + 1 < run.length; k++) parts.push(quoteLexeme(run[k] + run[k + 1]));
    if (followed) parts.push(quoteLexeme(run[run.length - 1]));
  }
  return parts.length === 1 ? parts[0] : `(${parts.join(' <-> ')})`;
}
