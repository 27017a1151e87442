/// <reference types="jest" />
// Here, not beside sanitize-config.ts: it renders with libs/format (markdown-it), which the page
// bundle and its tsconfig keep out.
// libs/format's own declaration of its markdown plugin, which this spec's tsconfig does not include.
/// <reference path="../../libs/format/src/markdown-it-emoji.d.ts" />
import { renderMessageHtml } from '@chat/format';
import { ALLOWED_ATTR, ALLOWED_CLASS, ALLOWED_TAGS, ALLOWED_URI, LINK_ATTRS } from '../../apps/gateway/web/messages/sanitize-config';

// The page's allow-list must let through everything libs/format makes (or formatted messages
// would lose their markup) and nothing more.

const SAMPLES = [
  '**bold** *italic* ~~gone~~ `code`',
  '```ts\nconst x = 1;\n```',
  '> quoted\n> more',
  '- one\n- two\n\n3. three\n4. four',
  'a [link](https://example.com) and https://example.org and mail@example.com',
  'line one\nline two',
  'hi @alice :tada:',
  '<img src=x onerror=alert(1)> [bad](javascript:alert(1))',
];

function used(html: string) {
  const tags = new Set<string>();
  const attrs = new Set<string>();
  const classes = new Set<string>();
  for (const m of html.matchAll(/<([a-z0-9]+)([^>]*)>/g)) {
    tags.add(m[1]);
    for (const a of m[2].matchAll(/([a-z-]+)="([^"]*)"/g)) {
      attrs.add(a[1]);
      if (a[1] === 'class') for (const c of a[2].split(/\s+/)) classes.add(c);
    }
  }
  return { tags, attrs, classes };
}

describe('the message sanitiser allow-list', () => {
  const html = SAMPLES.map((s) => renderMessageHtml(s, [{ userId: 'u1', username: 'alice' }])).join('\n');
  const { tags, attrs, classes } = used(html);

  it('takes in every tag, attribute and class libs/format produces', () => {
    expect([...tags].filter((x) => !(ALLOWED_TAGS as readonly string[]).includes(x))).toEqual([]);
    expect([...attrs].filter((x) => !(ALLOWED_ATTR as readonly string[]).includes(x))).toEqual([]);
    expect([...classes].filter((x) => !ALLOWED_CLASS.test(x))).toEqual([]);
  });

  it('lists nothing libs/format does not produce', () => {
    expect(ALLOWED_TAGS.filter((x) => !tags.has(x))).toEqual([]);
    expect(ALLOWED_ATTR.filter((x) => !attrs.has(x))).toEqual([]);
    expect(tags.has('img')).toBe(false);
  });

  it('allows only http(s) and mailto links, opened apart from the page', () => {
    for (const ok of ['https://a.example', 'http://a.example', 'mailto:a@example.com']) expect(ALLOWED_URI.test(ok)).toBe(true);
    for (const bad of ['javascript:alert(1)', 'data:text/html,x', '//evil.example', '/relative', 'vbscript:x'])
      expect(ALLOWED_URI.test(bad)).toBe(false);
    expect(LINK_ATTRS).toEqual({ target: '_blank', rel: 'noopener noreferrer nofollow' });
    expect(ALLOWED_CLASS.test('mention')).toBe(true);
    expect(ALLOWED_CLASS.test('language-ts')).toBe(true);
    expect(ALLOWED_CLASS.test('evil')).toBe(false);
  });
});
