import type { SearchQuery } from './query';
import { units, type Unit } from './tokenize';

/** Characters of body a snippet shows at most (plus the `…` marks). */
export const SNIPPET_CHARS = 160;
/** How much text before the first match the snippet keeps, when there is that much. */
const LEAD_CHARS = 50;
const ELLIPSIS = '…';

/**
 * Where the query matches a body: [start, end) UTF-16 ranges of the original text, sorted, with
 * touching or overlapping ranges merged (a CJK run matched character by character is one
 * range). Matching walks the body's units (tokenize.ts) the way Postgres matches the tsquery
 * against the tsvector: a phrase's units must be consecutive units of the body, equal after
 * normalisation; where the query has a CJK run, the body has that run unbroken.
 * So a highlight is always a whole word or an exact CJK substring.
 */
export function matchRanges(body: string, query: SearchQuery): Array<[number, number]> {
  const text = units(body);
  const ranges: Array<[number, number]> = [];
  for (const phrase of query.phrases) {
    for (let i = 0; i + phrase.length <= text.length; i++) {
      if (!phrase.every((u, k) => sameUnit(u, text[i + k], k > 0 && phrase[k - 1].kind === 'cjk'))) continue;
      for (let k = 0; k < phrase.length; k++) ranges.push([text[i + k].start, text[i + k].end]);
    }
  }
  return merge(ranges);
}

function sameUnit(q: Unit, b: Unit, afterCjk: boolean): boolean {
  if (q.kind !== b.kind || q.text !== b.text) return false;
  // Characters of one query run are a run in the body too (their bigrams are); a space
  // between two runs in a quoted phrase may or may not be in the body (the characters alone
  // sit at consecutive positions either way).
  return !(afterCjk && q.kind === 'cjk' && !q.gapBefore && b.gapBefore);
}

function merge(ranges: Array<[number, number]>): Array<[number, number]> {
  const sorted = [...ranges].sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: Array<[number, number]> = [];
  for (const [s, e] of sorted) {
    const last = out[out.length - 1];
    if (last && s <= last[1]) last[1] = Math.max(last[1], e);
    else out.push([s, e]);
  }
  return out;
}

/**
 * The snippet of a hit: up to SNIPPET_CHARS of the body around its first match, `…` where the
 * body was cut, line breaks shown as spaces (plain text, never HTML: the client escapes it),
 * and the [start, end) UTF-16 offsets of every match inside the snippet. A cut never splits a
 * surrogate pair, and prefers a space near the edge to cutting a word.
 */
export function snippetOf(body: string, query: SearchQuery): { snippet: string; highlights: Array<[number, number]> } {
  const ranges = matchRanges(body, query);
  let start = 0;
  if (ranges.length && body.length > SNIPPET_CHARS) {
    start = Math.max(0, Math.min(ranges[0][0] - LEAD_CHARS, body.length - SNIPPET_CHARS));
    const space = body.indexOf(' ', start);
    if (start > 0 && space >= 0 && space < ranges[0][0] && space - start < 20) start = space + 1;
  }
  let end = Math.min(body.length, start + SNIPPET_CHARS);
  if (end < body.length) {
    const space = body.lastIndexOf(' ', end);
    if (space > start && end - space < 20 && (!ranges.length || space >= ranges[0][1])) end = space;
  }
  start = pairSafe(body, start);
  end = pairSafe(body, end);
  const head = start > 0 ? ELLIPSIS : '';
  const snippet = head + body.slice(start, end).replace(/[\r\n\t\v\f\u2028\u2029]/g, ' ') + (end < body.length ? ELLIPSIS : '');
  const highlights = ranges
    .filter(([s, e]) => s < end && e > start)
    .map(([s, e]): [number, number] => [Math.max(s, start) - start + head.length, Math.min(e, end) - start + head.length]);
  return { snippet, highlights };
}

/** An offset moved back off the low half of a surrogate pair. */
const pairSafe = (text: string, i: number) => (i > 0 && i < text.length && /[\uDC00-\uDFFF]/.test(text[i]) ? i - 1 : i);
