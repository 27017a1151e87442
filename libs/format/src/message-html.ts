import type { Mention } from '@chat/contracts';
import MarkdownIt from 'markdown-it';
import type { StateCore, Token } from 'markdown-it';
import { full as emojiPlugin } from 'markdown-it-emoji';
import { mentionNames, mentionRanges, type MentionNames } from './mentions';

/**
 * Longest HTML a message renders to (UTF-16 code units). A message is at most 4,000 characters;
 * escaping alone can make that 24,000 (`"` → `&quot;`), markup more (`@a @a …` with a span per
 * mention, deep lists). Past this the message is sent as escaped plain text instead (which
 * fits), so a history page of full messages stays a few MB at most.
 */
export const MESSAGE_HTML_MAX_CHARS = 32_768;

/** Link schemes a rendered message may point to; anything else (javascript:, data:, relative, `//host`) stays text. */
const SAFE_SCHEMES = new Set(['http', 'https', 'mailto']);

/** Nesting depth at which markdown-it stops parsing blocks/inline markup (quotes in lists in quotes…) and leaves the rest as text. */
const MAX_NESTING = 20;

/** Per-call state handed through markdown-it's `env`. */
type RenderEnv = { names: MentionNames | null };

/**
 * The one markdown-it instance (rendering is synchronous and keeps per-call state in `env`, so
 * it is shared). html: false escapes any HTML in the text; breaks: a newline is a line break,
 * as people type in a chat; linkify: bare http(s) URLs and e-mail addresses become links.
 */
const md = new MarkdownIt('default', { html: false, linkify: true, breaks: true, typographer: false, maxNesting: MAX_NESTING });

// Headings, tables, images, horizontal rules, indented code (4 spaces of indentation is common
// in pasted chat text), link reference definitions (they would make the line disappear) and raw
// HTML are not part of the subset: their text is shown as typed.
md.disable(['heading', 'lheading', 'table', 'image', 'hr', 'code', 'reference', 'html_block', 'html_inline']);
// Bare domains (`node.js`, `readme.md`) are not links, only `scheme://…` and e-mail addresses.
md.linkify.set({ fuzzyLink: false, fuzzyEmail: true, fuzzyIP: false });
md.linkify.add('ftp:', null).add('//', null);

md.validateLink = (url: string) => {
  const scheme = /^([a-z][a-z0-9+.-]*):/i.exec(url.trim());
  return !!scheme && SAFE_SCHEMES.has(scheme[1].toLowerCase());
};

// `:smile:` shortcodes only; text shortcuts such as `:)` or `8)` stay as typed.
md.use(emojiPlugin, { shortcuts: {} });

// Every link opens in a new tab, tells the target nothing about the page (noopener) and lends
// it no ranking (nofollow). Only href stays from the source (a link title is dropped).
md.renderer.rules.link_open = (tokens, idx, options, _env, self) => {
  const t = tokens[idx];
  t.attrs = [
    ['href', t.attrGet('href') ?? ''],
    ['target', '_blank'],
    ['rel', 'noopener nofollow'],
  ];
  return self.renderToken(tokens, idx, options);
};

// A fenced block's language (its info string's first word) becomes `class="language-…"` when it
// looks like a language name; anything else is dropped rather than carried into an attribute.
md.renderer.rules.fence = (tokens, idx) => {
  const t = tokens[idx];
  const lang = t.info.trim().split(/\s+/)[0] ?? '';
  const cls = /^[A-Za-z0-9_+#.-]{1,32}$/.test(lang) ? ` class="language-${lang}"` : '';
  return `<pre><code${cls}>${md.utils.escapeHtml(t.content)}</code></pre>\n`;
};

md.renderer.rules.mention = (tokens, idx) => {
  const t = tokens[idx];
  const userId = md.utils.escapeHtml(String(t.meta?.userId ?? ''));
  return `<span class="mention" data-user-id="${userId}">${md.utils.escapeHtml(t.content)}</span>`;
};

/**
 * Mentions: after the inline markup is parsed and adjacent text is joined, each text run is
 * searched for the message's `@name`s, which become `mention` tokens. Code spans and blocks are
 * not text runs, so a name in code stays code.
 */
md.core.ruler.push('mention', (state: StateCore) => {
  const names = (state.env as Partial<RenderEnv>).names;
  if (!names) return;
  for (const block of state.tokens) {
    if (block.type !== 'inline' || !block.children) continue;
    const out: Token[] = [];
    for (const t of block.children) {
      const ranges = t.type === 'text' ? mentionRanges(t.content, names) : [];
      if (ranges.length === 0) {
        out.push(t);
        continue;
      }
      let at = 0;
      for (const r of ranges) {
        if (r.start > at) out.push(textToken(state, t, t.content.slice(at, r.start)));
        const m = new state.Token('mention', '', 0);
        m.level = t.level;
        m.content = t.content.slice(r.start, r.end);
        m.meta = { userId: r.mention.userId };
        out.push(m);
        at = r.end;
      }
      if (at < t.content.length) out.push(textToken(state, t, t.content.slice(at)));
    }
    block.children = out;
  }
});

function textToken(state: StateCore, like: Token, content: string): Token {
  const t = new state.Token('text', '', 0);
  t.level = like.level;
  t.content = content;
  return t;
}

/**
 * A message body as safe HTML (docs/protocol.md, "Formatting"): a markdown subset (bold,
 * italic, strikethrough, inline code, fenced code blocks, links, quotes, lists), the listed
 * mentions as `<span class="mention" data-user-id>`, `:shortcode:` emoji. Everything else is
 * escaped text. Pure and deterministic: the same body and mentions always give the same HTML,
 * at most MESSAGE_HTML_MAX_CHARS long. An empty body (a deleted message) gives ''.
 */
export function renderMessageHtml(body: string, mentions: readonly Mention[] = []): string {
  if (!body) return '';
  const env: RenderEnv = { names: mentions.length ? mentionNames(mentions) : null };
  const html = md.render(body, env).replace(/\n$/, '');
  return html.length <= MESSAGE_HTML_MAX_CHARS ? html : plainHtml(body);
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '\n': '<br>\n' };

/** The body as one escaped paragraph with its line breaks, cut (with "…") where it would pass the limit. */
export function plainHtml(body: string): string {
  const close = '</p>';
  let out = '<p>';
  for (const c of body) {
    const piece = ESCAPES[c] ?? c;
    // Room is kept for "…" and the closing tag.
    if (out.length + piece.length + 1 + close.length > MESSAGE_HTML_MAX_CHARS) return `${out}…${close}`;
    out += piece;
  }
  return out + close;
}
