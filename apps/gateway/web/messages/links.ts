// The http(s) URLs in a piece of message text, so the view can make them links. Trailing
// punctuation that usually ends a sentence (`.`, `,`, `)` without its `(`…) is left out.

export interface LinkPart {
  text: string;
  /** Set when this part is a link: the URL as it is opened. */
  url?: string;
}

const URL_RE = /\bhttps?:\/\/[^\s<>"'\u3000-\u303F\uFF01-\uFF0F\uFF1A-\uFF20]+/giu;
const TRAILING = new Set(['.', ',', ';', ':', '!', '?', "'", '"', ']', '}', '>', '*']);

export function linkParts(text: string): LinkPart[] {
  const parts: LinkPart[] = [];
  let at = 0;
  for (const m of text.matchAll(URL_RE)) {
    const url = trimEnd(m[0]);
    if (!isHttpUrl(url)) continue;
    if (m.index > at) parts.push({ text: text.slice(at, m.index) });
    parts.push({ text: url, url });
    at = m.index + url.length;
  }
  if (at < text.length) parts.push({ text: text.slice(at) });
  return parts;
}

/** Drops sentence punctuation at the end; a `)` stays when the URL opened it (Wikipedia-style links). */
function trimEnd(url: string): string {
  let end = url.length;
  const count = (c: string) => url.slice(0, end).split(c).length - 1;
  while (end > 0) {
    const c = url[end - 1];
    if (TRAILING.has(c) || (c === ')' && count(')') > count('('))) end--;
    else break;
  }
  return url.slice(0, end);
}

function isHttpUrl(s: string): boolean {
  try {
    const u = new URL(s);
    return (u.protocol === 'http:' || u.protocol === 'https:') && !!u.hostname;
  } catch {
    return false;
  }
}
