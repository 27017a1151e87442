import type { Mention } from '@chat/contracts';
import { MESSAGE_HTML_MAX_CHARS, plainHtml, renderMessageHtml } from './message-html';

const alice: Mention = { userId: '11111111-1111-4111-8111-111111111111', username: 'alice' };
const zhang: Mention = { userId: '22222222-2222-4222-8222-222222222222', username: '张三' };
const spaced: Mention = { userId: '33333333-3333-4333-8333-333333333333', username: 'Mary Ann' };

const LINK = (href: string, text: string) => `<a href="${href}" target="_blank" rel="noopener nofollow">${text}</a>`;
const MENTION = (m: Mention, text = `@${m.username}`) => `<span class="mention" data-user-id="${m.userId}">${text}</span>`;

/**
 * What docs/protocol.md ("Formatting") allows: these tags, these attributes (values checked
 * separately), nothing else. Every tag of the output is checked against it.
 */
const ALLOWED: Record<string, string[]> = {
  p: [],
  br: [],
  strong: [],
  em: [],
  s: [],
  code: ['class'],
  pre: [],
  blockquote: [],
  ul: [],
  ol: ['start'],
  li: [],
  a: ['href', 'target', 'rel'],
  span: ['class', 'data-user-id'],
};

/** Fails unless the HTML uses only allowed tags and attributes, links only http(s)/mailto, and leaves no raw `<`/`>`/`"` in text. */
function expectSafe(html: string) {
  const tags = [...html.matchAll(/<\/?([a-z0-9]+)((?:\s+[a-z-]+="[^"<>]*")*)\s*\/?>/g)];
  // Everything that looks like a tag must be one of the well-formed tags found above.
  const stripped = html.replace(/<\/?([a-z0-9]+)((?:\s+[a-z-]+="[^"<>]*")*)\s*\/?>/g, '');
  expect(stripped).not.toMatch(/[<>"]/);
  for (const [, tag, attrs] of tags) {
    expect(Object.keys(ALLOWED)).toContain(tag);
    for (const [, name, value] of attrs.matchAll(/([a-z-]+)="([^"]*)"/g)) {
      expect(ALLOWED[tag]).toContain(name);
      if (name === 'href') expect(value).toMatch(/^(https?:|mailto:)/i);
      if (name === 'target') expect(value).toBe('_blank');
      if (name === 'rel') expect(value).toBe('noopener nofollow');
      if (tag === 'span' && name === 'class') expect(value).toBe('mention');
      if (tag === 'code' && name === 'class') expect(value).toMatch(/^language-[A-Za-z0-9_+#.-]+$/);
    }
  }
}

describe('renderMessageHtml - the markdown subset', () => {
  it.each([
    ['**bold** and __bold__', '<p><strong>bold</strong> and <strong>bold</strong></p>'],
    ['*italic* and _italic_', '<p><em>italic</em> and <em>italic</em></p>'],
    ['~~gone~~', '<p><s>gone</s></p>'],
    ['use `npm ci`', '<p>use <code>npm ci</code></p>'],
    ['```ts\nconst a = 1;\n```', '<pre><code class="language-ts">const a = 1;\n</code></pre>'],
    ['```\nno language\n```', '<pre><code>no language\n</code></pre>'],
    ['> quoted\n> twice', '<blockquote>\n<p>quoted<br>\ntwice</p>\n</blockquote>'],
    ['- a\n- b', '<ul>\n<li>a</li>\n<li>b</li>\n</ul>'],
    ['1. one\n2. two', '<ol>\n<li>one</li>\n<li>two</li>\n</ol>'],
    ['line one\nline two', '<p>line one<br>\nline two</p>'],
    ['[docs](https://example.com/a?b=1&c=2)', `<p>${LINK('https://example.com/a?b=1&amp;c=2', 'docs')}</p>`],
    ['see https://example.com.', `<p>see ${LINK('https://example.com', 'https://example.com')}.</p>`],
    ['<https://example.com>', `<p>${LINK('https://example.com', 'https://example.com')}</p>`],
    ['write to bob@example.com', `<p>write to ${LINK('mailto:bob@example.com', 'bob@example.com')}</p>`],
    ['[mail](mailto:bob@example.com)', `<p>${LINK('mailto:bob@example.com', 'mail')}</p>`],
    ['***both*** **_nested_**', '<p><em><strong>both</strong></em> <strong><em>nested</em></strong></p>'],
  ])('%j', (body, html) => {
    expect(renderMessageHtml(body)).toBe(html);
    expectSafe(renderMessageHtml(body));
  });

  it.each([
    ['# not a heading', '<p># not a heading</p>'],
    ['title\n===', '<p>title<br>\n===</p>'],
    ['---', '<p>---</p>'],
    ['| a | b |\n|---|---|\n| 1 | 2 |', '<p>| a | b |<br>\n|---|---|<br>\n| 1 | 2 |</p>'],
    ['    indented', '<p>indented</p>'],
    ['[ref]: https://example.com', `<p>[ref]: ${LINK('https://example.com', 'https://example.com')}</p>`],
    ['node.js and readme.md', '<p>node.js and readme.md</p>'],
  ])('leaves what is not in the subset as text: %j', (body, html) => {
    expect(renderMessageHtml(body)).toBe(html);
  });

  it('shows an image as text with a link, never an <img>', () => {
    const html = renderMessageHtml('![cat](https://example.com/cat.png)');
    expect(html).toBe(`<p>!${LINK('https://example.com/cat.png', 'cat')}</p>`);
    expect(html).not.toContain('<img');
  });

  it('gives "" for an empty body (a deleted message)', () => {
    expect(renderMessageHtml('')).toBe('');
    expect(renderMessageHtml('', [alice])).toBe('');
  });

  it('is deterministic', () => {
    const body = '**a** @alice :smile: https://example.com\n- x\n> y';
    expect(renderMessageHtml(body, [alice])).toBe(renderMessageHtml(body, [alice]));
  });
});

describe('renderMessageHtml - XSS vectors', () => {
  it.each([
    ['<script>alert(1)</script>', '<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>'],
    ['<img src=x onerror=alert(1)>', '<p>&lt;img src=x onerror=alert(1)&gt;</p>'],
    ['<a href="javascript:alert(1)">x</a>', '<p>&lt;a href=&quot;javascript:alert(1)&quot;&gt;x&lt;/a&gt;</p>'],
    ['<div\nonclick="x">y</div>', '<p>&lt;div<br>\nonclick=&quot;x&quot;&gt;y&lt;/div&gt;</p>'],
    ['<!-- comment --><svg onload=alert(1)>', '<p>&lt;!-- comment --&gt;&lt;svg onload=alert(1)&gt;</p>'],
    ['[x](javascript:alert(1))', '<p>[x](javascript:alert(1))</p>'],
    ['[x](JaVaScRiPt:alert(1))', '<p>[x](JaVaScRiPt:alert(1))</p>'],
    ['[x](&#106;avascript:alert(1))', '<p>[x](javascript:alert(1))</p>'],
    ['[x](&#x6A;avascript&colon;alert(1))', '<p>[x](javascript:alert(1))</p>'],
    ['[x](java\tscript:alert(1))', '<p>[x](java\tscript:alert(1))</p>'],
    ['[x](vbscript:msgbox(1))', '<p>[x](vbscript:msgbox(1))</p>'],
    ['[x](data:text/html;base64,PHNjcmlwdD4=)', '<p>[x](data:text/html;base64,PHNjcmlwdD4=)</p>'],
    ['[x](file:///etc/passwd)', '<p>[x](file:///etc/passwd)</p>'],
    ['[x](//evil.example)', '<p>[x](//evil.example)</p>'],
    ['[x](/relative)', '<p>[x](/relative)</p>'],
    ['<javascript:alert(1)>', '<p>&lt;javascript:alert(1)&gt;</p>'],
    ['javascript:alert(1)', '<p>javascript:alert(1)</p>'],
    ['&lt;script&gt;', '<p>&lt;script&gt;</p>'],
    ['&amp;lt;b&amp;gt;', '<p>&amp;lt;b&amp;gt;</p>'],
    ['**[x](javascript:alert(1))**', '<p><strong>[x](javascript:alert(1))</strong></p>'],
    ['[**x**](javascript:alert(1))', '<p>[<strong>x</strong>](javascript:alert(1))</p>'],
    ['[a [b](javascript:x)](https://example.com)', `<p>${LINK('https://example.com', 'a [b](javascript:x)')}</p>`],
    ['[x](https://example.com" onmouseover="alert(1))', null],
    ['[x](https://example.com "title" onclick=alert(1))', null],
    ['```" onmouseover="alert(1)\ncode\n```', '<pre><code>code\n</code></pre>'],
    ['```js"><script>\n<script>alert(1)</script>\n```', '<pre><code>&lt;script&gt;alert(1)&lt;/script&gt;\n</code></pre>'],
    ['`<b>` **`<i>`**', '<p><code>&lt;b&gt;</code> <strong><code>&lt;i&gt;</code></strong></p>'],
    ['> <script>\n> - <b>x</b>', null],
  ])('%j', (body, html) => {
    const out = renderMessageHtml(body);
    if (html !== null) expect(out).toBe(html);
    expectSafe(out);
  });

  it('escapes the text of a mention and the user id', () => {
    const odd: Mention = { userId: '"><script>', username: '<b>bob</b>' };
    const html = renderMessageHtml('hi @<b>bob</b>', [odd]);
    expect(html).toBe('<p>hi <span class="mention" data-user-id="&quot;&gt;&lt;script&gt;">@&lt;b&gt;bob&lt;/b&gt;</span></p>');
  });

  it('keeps deep nesting bounded (quotes in lists in quotes…)', () => {
    const html = renderMessageHtml(`${'> - '.repeat(200)}deep`);
    expectSafe(html);
    expect(html.length).toBeLessThanOrEqual(MESSAGE_HTML_MAX_CHARS);
    expect((html.match(/<blockquote>/g) ?? []).length).toBeLessThanOrEqual(20);
  });
});

describe('renderMessageHtml - mentions', () => {
  it('marks the listed members, compared as at login', () => {
    expect(renderMessageHtml('hi @alice and @ALICE!', [alice])).toBe(`<p>hi ${MENTION(alice)} and ${MENTION(alice, '@ALICE')}!</p>`);
  });

  it('marks names with spaces, and inside formatting', () => {
    expect(renderMessageHtml('**@Mary Ann** _@alice_', [alice, spaced])).toBe(
      `<p><strong>${MENTION(spaced)}</strong> <em>${MENTION(alice)}</em></p>`,
    );
  });

  it('leaves unlisted names, addresses and code alone', () => {
    expect(renderMessageHtml('@bob mail@alice `@alice`', [alice])).toBe('<p>@bob mail@alice <code>@alice</code></p>');
    expect(renderMessageHtml('```\n@alice\n```', [alice])).toBe('<pre><code>@alice\n</code></pre>');
  });

  it('does not mark a longer name that only starts with a listed one', () => {
    expect(renderMessageHtml('@alicette', [alice])).toBe('<p>@alicette</p>');
  });

  it('marks Chinese names without spaces, and the full-width ＠', () => {
    expect(renderMessageHtml('@张三你好，＠alice在吗', [alice, zhang])).toBe(
      `<p>${MENTION(zhang)}你好，${MENTION(alice, '＠alice')}在吗</p>`,
    );
  });

  it('marks a mention in a link text and a list item', () => {
    expect(renderMessageHtml('- [@alice](https://example.com)', [alice])).toBe(
      `<ul>\n<li>${LINK('https://example.com', MENTION(alice))}</li>\n</ul>`,
    );
  });
});

describe('renderMessageHtml - Chinese text and emoji', () => {
  it.each([
    ['你好**世界**！', '<p>你好<strong>世界</strong>！</p>'],
    ['~~删除~~ *斜体* `代码`', '<p><s>删除</s> <em>斜体</em> <code>代码</code></p>'],
    ['> 引用\n- 列表', '<blockquote>\n<p>引用</p>\n</blockquote>\n<ul>\n<li>列表</li>\n</ul>'],
    [
      '看这里 https://example.com/路径 吧',
      `<p>看这里 ${LINK('https://example.com/%E8%B7%AF%E5%BE%84', 'https://example.com/路径')} 吧</p>`,
    ],
  ])('%j', (body, html) => {
    expect(renderMessageHtml(body)).toBe(html);
  });

  it.each([
    [':smile:', '<p>😄</p>'],
    ['nice :+1: :tada:', '<p>nice 👍 🎉</p>'],
    ['好的:ok_hand:', '<p>好的👌</p>'],
    [':not_an_emoji:', '<p>:not_an_emoji:</p>'],
    ['`:smile:`', '<p><code>:smile:</code></p>'],
    [':) :-( 8) <3', '<p>:) :-( 8) &lt;3</p>'],
    ['🎉 👨‍👩‍👧 🇨🇳', '<p>🎉 👨‍👩‍👧 🇨🇳</p>'],
    ['**:fire:**', '<p><strong>🔥</strong></p>'],
  ])('emoji %j', (body, html) => {
    expect(renderMessageHtml(body)).toBe(html);
  });
});

describe('renderMessageHtml - size bound', () => {
  it('falls back to escaped text when the markup would pass the limit', () => {
    const many = Array.from({ length: 1300 }, () => '@alice').join(' ');
    const html = renderMessageHtml(many, [alice]);
    expect(html.length).toBeLessThanOrEqual(MESSAGE_HTML_MAX_CHARS);
    expect(html).toBe(`<p>${many}</p>`);
  });

  it('keeps the longest escaping of a full-length message whole', () => {
    const quotes = '"'.repeat(4000);
    expect(renderMessageHtml(quotes)).toBe(`<p>${'&quot;'.repeat(4000)}</p>`);
  });

  it('cuts plain text with "…" where even that would not fit', () => {
    const html = plainHtml('<'.repeat(10_000));
    expect(html.length).toBeLessThanOrEqual(MESSAGE_HTML_MAX_CHARS);
    expect(html.endsWith('&lt;…</p>')).toBe(true);
    expectSafe(html);
  });
});
