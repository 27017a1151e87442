// A message as one short line of plain text, for the places that quote it (the reply bar, a
// reply's quote, the report dialog): the formatting is dropped, not shown as markdown.
// Pure (no DOM), so it is unit-tested; the text only ever reaches the page as text.

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };

/** The server's html (docs/protocol.md "Formatting") as text: blocks and line breaks become spaces. */
export function htmlText(html: string): string {
  return html
    .replace(/<br\s*\/?>|<\/(p|li|blockquote|pre|ul|ol)>/gi, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (whole, name: string) => {
      if (name[0] !== '#') return ENTITIES[name.toLowerCase()] ?? whole;
      const code = name[1] === 'x' || name[1] === 'X' ? parseInt(name.slice(2), 16) : parseInt(name.slice(1), 10);
      return Number.isFinite(code) && code <= 0x10ffff ? String.fromCodePoint(code) : whole;
    });
}

/**
 * Markdown as typed (the body; a reply's stored excerpt) without its marks: emphasis, strike,
 * code ticks and fences, quote and list markers, links as their text. Underscores and stars
 * inside words stay (`snake_case` is not emphasis, as in the server's renderer).
 */
export function markdownText(body: string): string {
  return body
    .replace(/^\s*```.*$/gm, '')
    .replace(/^\s{0,3}(>\s?)+/gm, '')
    .replace(/^\s*([-*+]|\d{1,9}[.)])\s+/gm, '')
    .replace(/!?\[([^\]]*)\]\([^)\s]*\)/g, '$1')
    .replace(/<((?:https?:|mailto:)[^>\s]+|[^>\s@]+@[^>\s]+)>/g, '$1')
    .replace(/`+([^`]*)`+/g, '$1')
    .replace(/(\*\*|__|~~)(?=\S)([\s\S]*?\S)\1/g, '$2')
    .replace(/(^|[^\p{L}\p{N}*_])([*_])(?=\S)([\s\S]*?\S)\2(?![\p{L}\p{N}])/gu, '$1$3');
}

/** One line of plain text, cut at `max` characters with "…": from the html when there is one, else from the markdown. */
export function plainExcerpt(m: { body: string; html?: string | null } | string, max: number): string {
  const text = typeof m === 'string' ? markdownText(m) : m.html ? htmlText(m.html) : markdownText(m.body);
  const line = text.replace(/\s+/g, ' ').trim();
  const chars = [...line];
  return chars.length > max ? `${chars.slice(0, max).join('').trimEnd()}…` : line;
}
