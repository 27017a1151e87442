import { parseQuery, toTsquery, type SearchQuery } from './query';
import { matchRanges, snippetOf, SNIPPET_CHARS } from './snippet';
import { lexemes, normalize, quoteLexeme, searchVector } from './tokenize';

const q = (text: string): SearchQuery => {
  const parsed = parseQuery(text);
  if (!parsed) throw new Error(`"${text}" parsed to nothing`);
  return parsed;
};
const tsquery = (text: string) => toTsquery(q(text));
/** The highlighted substrings of a body. */
const matched = (body: string, query: string) => matchRanges(body, q(query)).map(([s, e]) => body.slice(s, e));

describe('search - searchVector (the indexed tsvector literal)', () => {
  it('indexes a Chinese run as overlapping bigrams, and every character alone at its position', () => {
    expect(searchVector('明天开会吗')).toBe(`'明天':1 '明':1 '天开':2 '天':2 '开会':3 '开':3 '会吗':4 '会':4 '吗':5`);
  });

  it('indexes Japanese kana and kanji, including the long vowel mark, as one run', () => {
    expect(searchVector('会議室でコーヒー')).toBe(
      `'会議':1 '会':1 '議室':2 '議':2 '室で':3 '室':3 'でコ':4 'で':4 'コー':5 'コ':5 'ーヒ':6 'ー':6,8 'ヒー':7 'ヒ':7`,
    );
  });

  it('indexes Korean (Hangul) the same way, words split at spaces', () => {
    expect(searchVector('회의실에서 만나요')).toBe(
      `'회의':1 '회':1 '의실':2 '의':2 '실에':3 '실':3 '에서':4 '에':4 '서':5 '만나':6 '만':6 '나요':7 '나':7 '요':8`,
    );
  });

  it('keeps Latin words as words next to CJK runs, in text order', () => {
    expect(searchVector('微信pay')).toBe(`'微信':1 '微':1 '信':2 'pay':3`);
    expect(searchVector('用Docker部署')).toBe(`'用':1 'docker':2 '部署':3 '部':3 '署':4`);
  });

  it('folds case and width (NFKC), splits at punctuation, drops emoji and symbols', () => {
    expect(searchVector('Deploy, ＴＯＤＡＹ!! 👍🏽 ok-go ½')).toBe(`'deploy':1 'today':2 'ok':3 'go':4 '1':5 '2':6`);
    expect(searchVector('👍🎉 ... !!!')).toBe('');
  });

  it('keeps letters with their accents and folds the Greek final sigma', () => {
    expect(searchVector('Café ΟΔΟΣ οδος')).toBe(`'café':1 'οδοσ':2,3`);
    // A decomposed é (e + combining acute) is the same word as a precomposed one.
    expect(searchVector('cafe\u0301')).toBe(`'café':1`);
  });

  it('finds CJK extension characters (outside the BMP) as characters, not halves', () => {
    expect(searchVector('𠀀𠀁')).toBe(`'𠀀𠀁':1 '𠀀':1 '𠀁':2`);
  });

  it('quotes every lexeme and skips words Postgres would refuse', () => {
    expect(searchVector('x'.repeat(3000) + ' ok')).toBe(`'ok':2`);
    expect(searchVector("it's")).toBe(`'it':1 's':2`);
  });

  it('quoteLexeme doubles quotes and escapes backslashes', () => {
    expect(quoteLexeme(`a'b\\c`)).toBe(`'a''b\\\\c'`);
    expect(quoteLexeme('开会')).toBe(`'开会'`);
  });

  it('gives each CJK run its own positions so a phrase cannot span two runs', () => {
    expect(lexemes('微信 支付')).toEqual([
      { text: '微信', position: 1 },
      { text: '微', position: 1 },
      { text: '信', position: 2 },
      { text: '支付', position: 3 },
      { text: '支', position: 3 },
      { text: '付', position: 4 },
    ]);
  });
});

describe('search - parseQuery / toTsquery', () => {
  it('a two-character Chinese query is one bigram', () => {
    expect(tsquery('开会')).toBe(`'开会'`);
  });

  it('a longer run is the phrase of its bigrams', () => {
    expect(tsquery('会议室')).toBe(`('会议' <-> '议室')`);
  });

  it('a single CJK character is its own lexeme', () => {
    expect(tsquery('会')).toBe(`'会'`);
  });

  it('words are ANDed; a quoted phrase is a phrase; duplicates count once', () => {
    expect(tsquery('Deploy today deploy')).toBe(`'deploy' & 'today'`);
    expect(tsquery('"deploy today" now')).toBe(`('deploy' <-> 'today') & 'now'`);
    expect(tsquery('“deploy today”')).toBe(`('deploy' <-> 'today')`);
    expect(tsquery('"unclosed phrase')).toBe(`('unclosed' <-> 'phrase')`);
  });

  it('mixed Latin and CJK in one term is a phrase through the run end', () => {
    expect(tsquery('微信pay')).toBe(`('微信' <-> '信' <-> 'pay')`);
    expect(tsquery('用Docker部署')).toBe(`('用' <-> 'docker' <-> '部署')`);
    expect(tsquery('信pay')).toBe(`('信' <-> 'pay')`);
    expect(tsquery('pay信')).toBe(`('pay' <-> '信')`);
  });

  it('spaces between CJK runs: separate terms, or separate runs inside quotes', () => {
    expect(tsquery('微信 支付')).toBe(`'微信' & '支付'`);
    expect(tsquery('"微信 支付"')).toBe(`('微信' <-> '信' <-> '支付')`);
  });

  it('punctuation separates words; a hyphenated term is a phrase', () => {
    expect(tsquery('e-mail, ok!')).toBe(`('e' <-> 'mail') & 'ok'`);
  });

  it('nothing to look for is null (BAD_REQUEST)', () => {
    for (const text of ['', '   ', '!!! ...', '👍🎉', '""', '-']) expect(parseQuery(text)).toBeNull();
  });

  it('quotes and backslashes never escape the literal', () => {
    // The tokenizer never keeps them in a lexeme; the literal is built from lexemes alone.
    expect(tsquery(`a'b\\c`)).toBe(`('a' <-> 'b' <-> 'c')`);
  });
});

describe('search - matchRanges (what gets highlighted)', () => {
  it('a Chinese two-character query in "明天开会吗"', () => {
    expect(matched('明天开会吗', '开会')).toEqual(['开会']);
  });

  it('whole words only, case-insensitively', () => {
    expect(matched('Deploy today! deployment DEPLOY', 'deploy')).toEqual(['Deploy', 'DEPLOY']);
  });

  it('a single character everywhere it occurs', () => {
    expect(matched('会议 开会', '会')).toEqual(['会', '会']);
  });

  it('mixed terms as one range', () => {
    expect(matched('用微信pay付款', '微信pay')).toEqual(['微信pay']);
    expect(matched('请用Docker部署服务', '用Docker部署')).toEqual(['用Docker部署']);
    expect(matched('微信息pay', '信pay')).toEqual([]);
  });

  it('a query run must be unbroken in the body; a space between quoted runs is optional', () => {
    expect(matched('微信 支付', '微信支付')).toEqual([]);
    expect(matched('微信支付', '"微信 支付"')).toEqual(['微信支付']);
    expect(matched('微信 支付', '"微信 支付"')).toEqual(['微信', '支付']);
  });

  it('maps NFKC-changed text back to the original characters', () => {
    expect(matched('Ｄｏｃｋｅｒ で', 'docker')).toEqual(['Ｄｏｃｋｅｒ']);
    expect(matched('㍿の話', '会社')).toEqual(['㍿']);
    expect(matched('cafe\u0301!', 'café')).toEqual(['cafe\u0301']);
  });
});

describe('search - snippetOf', () => {
  it('a short body is the whole snippet', () => {
    expect(snippetOf('明天开会吗', q('开会'))).toEqual({ snippet: '明天开会吗', highlights: [[2, 4]] });
  });

  it('cuts a long body around the first match, with … and shifted highlights', () => {
    const body = 'x'.repeat(300) + ' Deploy today! ' + 'y'.repeat(300);
    const { snippet, highlights } = snippetOf(body, q('deploy'));
    expect(snippet.startsWith('…')).toBe(true);
    expect(snippet.endsWith('…')).toBe(true);
    expect(snippet.length).toBeLessThanOrEqual(SNIPPET_CHARS + 2);
    expect(highlights).toHaveLength(1);
    expect(snippet.slice(highlights[0][0], highlights[0][1])).toBe('Deploy');
  });

  it('never splits a surrogate pair and shows line breaks as spaces', () => {
    const body = '😀'.repeat(200) + '\n开会';
    const { snippet, highlights } = snippetOf(body, q('开会'));
    expect(snippet).not.toMatch(/^…[\uDC00-\uDFFF]/);
    expect(snippet).not.toMatch(/[\uD800-\uDBFF]…?$/);
    expect(snippet).not.toContain('\n');
    expect(snippet.slice(highlights[0][0], highlights[0][1])).toBe('开会');
  });

  it('no match found in the body: its start, no highlights', () => {
    expect(snippetOf('hello', q('other'))).toEqual({ snippet: 'hello', highlights: [] });
  });
});

describe('search - normalize', () => {
  it('is NFKC, lower case, final sigma folded', () => {
    expect(normalize('ＡＢＣ Σσς')).toBe('abc σσσ');
  });
});
