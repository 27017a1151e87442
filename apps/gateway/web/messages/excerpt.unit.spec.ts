/// <reference types="jest" />
import { htmlText, markdownText, plainExcerpt } from './excerpt';

describe('web message excerpts - plain text', () => {
  it('drops the markdown marks and keeps the words', () => {
    expect(markdownText('**bold**, _italic_, ~~strike~~, `code` and __more__ *here*')).toBe('bold, italic, strike, code and more here');
    expect(markdownText('> a quote\n- one\n* two\n3. three')).toBe('a quote\none\ntwo\nthree');
    expect(markdownText('see [the docs](https://example.com/x) or <https://example.com>')).toBe('see the docs or https://example.com');
    expect(markdownText('```ts\nconst a = 1;\n```')).toBe('\nconst a = 1;\n');
  });

  it('leaves marks inside words and lone stars alone', () => {
    expect(markdownText('snake_case_name and 2 * 3 * 4')).toBe('snake_case_name and 2 * 3 * 4');
    expect(markdownText('@李雷 你好')).toBe('@李雷 你好');
  });

  it('reads the html as text when there is one', () => {
    expect(
      plainExcerpt({ body: '', html: '<p>Markdown: <strong>bold</strong> &amp; <em>it</em></p><ul><li>one</li><li>two</li></ul>' }, 99),
    ).toBe('Markdown: bold & it one two');
    expect(htmlText('<p>a<br>b &lt;i&gt; &#39;q&#39; &#x1F600;</p>')).toBe("a b <i> 'q' 😀 ");
    expect(plainExcerpt({ body: '**x**', html: '<p><span class="mention" data-user-id="u">@bo</span> <s>no</s></p>' }, 50)).toBe('@bo no');
  });

  it('makes one line, cut with an ellipsis', () => {
    expect(plainExcerpt({ body: '**bold**\n\n_italic_' }, 120)).toBe('bold italic');
    expect(plainExcerpt('abcdef ghij', 6)).toBe('abcdef…');
    expect(plainExcerpt('周末一起去爬山吧', 4)).toBe('周末一起…');
    expect(plainExcerpt('short', 6)).toBe('short');
  });
});
