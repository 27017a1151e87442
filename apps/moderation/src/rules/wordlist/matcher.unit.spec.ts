import { WordListMatcher, type WordEntry } from './matcher';

const block = (word: string, match?: WordEntry['match']): WordEntry => ({ word, action: 'block', match });
const mask = (word: string, match?: WordEntry['match']): WordEntry => ({ word, action: 'mask', match });

describe('word list - evasions', () => {
  const list = new WordListMatcher([
    block('fuck'),
    block('spam'),
    block('ass'),
    block('违禁'),
    block('shit'),
    block('バカ'),
    block('나쁜'),
  ]);

  it.each([
    ['fuck', 'plain'],
    ['FuCk you', 'case'],
    ['ｆｕｃｋ', 'full-width forms'],
    ['f\u200Bu\u200Cc\u200Dk', 'zero-width characters'],
    ['fu\u00ADck', 'soft hyphen'],
    ['ѕраm', 'Cyrillic look-alikes'],
    ['ѕpαm', 'Cyrillic and Greek look-alikes'],
    ['5p4m', 'digits for letters'],
    ['$p@m', 'symbols for letters'],
    ['@$$', 'symbols for all letters'],
    ['fùçk', 'diacritics'],
    ['f.u.c.k', 'dots between letters'],
    ['f u c k', 'spaces between letters'],
    ['f-u-c-k', 'hyphens between letters'],
    ['f_u_c_k!', 'underscores between letters'],
    ['sh!t', 'an exclamation mark for i'],
    ['fuuuck', 'a stretched letter'],
    ['FFFUUUCCCKKK', 'every letter stretched'],
    ['a.s.s.s', 'a stretched letter spelt out'],
    ['spaaaam', 'a stretched letter'],
    ['a.s.s', 'dots in a short word'],
    ['you a s s', 'spaces in a short word'],
    ['这是违 禁词', 'a space in a Chinese word'],
    ['这是违\u3000禁词', 'an ideographic space'],
    ['这是违\u200B禁词', 'a zero-width space'],
    ['这是违，禁词', 'a full-width comma'],
    ['这是违\uFF0E\u200B禁词', 'full-width full stop and zero-width space'],
    ['这是spam广告', 'a Latin word inside Chinese'],
    ['buy \u0301spam', 'a stray combining mark before the word'],
    ['这是违\u0301禁词', 'a combining mark inside a Chinese word'],
    ['お前はﾊﾞｶだ', 'half-width Katakana'],
    ['이건 나 쁜말', 'Korean with a space inside the word'],
  ])('%s (%s) is blocked', (text) => {
    expect(list.apply(text).verdict).toBe('block');
  });

  it.each([
    ['a class act', 'a longer word'],
    ['spammer', 'a longer word'],
    ['sp am', 'two words'],
    ['违法 禁止', 'two different Chinese words'],
    ['hello world', 'nothing listed'],
    ['fuk', 'a letter missing'],
    ['お前はハカだ', 'a Japanese word that differs by its dakuten'],
    ['각자', 'a Hangul syllable that starts like a listed one (나 is not inside 낙)'],
  ])('%s (%s) passes', (text) => {
    expect(list.apply(text)).toEqual({ verdict: 'allow', text, hits: [] });
  });
});

describe('word list - repeated letters', () => {
  const list = new WordListMatcher([block('god'), block('ass'), block('as', 'substring'), block('boo'), block('hi')]);
  it.each([
    ['hill', 'allow', 'l and i are one letter for matching, but not one run ("hiii" is not a stretched "hi")'],
    ['hiiii', 'block', 'a stretched i'],
    ['goooood', 'block', 'three or more stand for one or two'],
    ['good', 'allow', 'twice is not once'],
    ['asss', 'block', 'three or more stand for two'],
    ['pass', 'block', 'a substring entry may end inside a run'],
    ['bo', 'allow', 'once is not twice'],
  ])('%s -> %s (%s)', (text, verdict) => {
    expect(list.apply(text).verdict).toBe(verdict);
  });

  it('masks the whole run', () => {
    expect(new WordListMatcher([mask('darn')]).apply('daaaarn it')).toMatchObject({ text: '*** it' });
  });
});

describe('word list - allow-list', () => {
  const innocent = ['class', 'Scunthorpe', 'assistant', 'passed'];

  it('whole-word entries never hit inside longer words', () => {
    const list = new WordListMatcher([block('ass'), block('cunt')]);
    for (const text of ['a class act', 'Scunthorpe United', 'my assistant', 'it passed']) expect(list.apply(text).verdict).toBe('allow');
  });

  describe('substring entries hit inside words unless the word is allow-listed', () => {
    const list = new WordListMatcher([block('ass', 'substring'), block('cunt', 'substring')], innocent);
    it.each(['a class act', 'SCUNTHORPE', 'Scunthorpe United', 'my assistant', 'ａｓｓｉｓｔａｎｔ', 'it passed', 'c.l.a.s.s'])(
      '%s passes',
      (text) => {
        expect(list.apply(text).verdict).toBe('allow');
      },
    );
    it.each(['a.s.s', 'ass', 'badass', 'kiss my @$$', 'class ass', 'cunts', 'a class act, you ass'])('%s is blocked', (text) => {
      expect(list.apply(text).verdict).toBe('block');
    });
  });

  it('without the allow-list a substring entry hits the innocent words', () => {
    const list = new WordListMatcher([block('ass', 'substring'), block('cunt', 'substring')]);
    for (const text of ['a class act', 'Scunthorpe', 'my assistant']) expect(list.apply(text).verdict).toBe('block');
  });
});

describe('word list - mask and block', () => {
  it('masks the span of the hit in the original text, separators inside it included', () => {
    const list = new WordListMatcher([mask('darn'), mask('违禁')]);
    expect(list.apply('oh d.a.r.n it')).toMatchObject({ verdict: 'allow', text: 'oh *** it' });
    expect(list.apply('DARN, Darn!')).toMatchObject({ verdict: 'allow', text: '***, ***!' });
    expect(list.apply('这是违 禁词')).toMatchObject({ verdict: 'allow', text: '这是***词' });
    expect(list.apply('这是ｄ\u200Bａｒｎ。')).toMatchObject({ verdict: 'allow', text: '这是***。' });
  });

  it('reports each hit with its span in the original', () => {
    const list = new WordListMatcher([mask('darn')]);
    expect(list.apply('oh d.a.r.n!').hits).toEqual([{ word: 'darn', action: 'mask', start: 3, end: 10 }]);
  });

  it('keeps emoji, surrogate pairs and combining marks around the hit intact', () => {
    const list = new WordListMatcher([mask('cafe'), mask('𠀀𠀁')]);
    // The acute (U+0301) belongs to its e: masked with it, never left dangling.
    expect(list.apply('😀cafe\u0301😀')).toMatchObject({ text: '😀***😀' });
    expect(list.apply('👍🏽 cafe\u0301\u0327 👨‍👩‍👧')).toMatchObject({ text: '👍🏽 *** 👨‍👩‍👧' });
    expect(list.apply('a𠀀 𠀁b')).toMatchObject({ text: 'a***b' });
    expect(list.apply('e\u0301 cafe')).toMatchObject({ text: 'e\u0301 ***' });
  });

  it('overlapping mask hits become one ***', () => {
    const list = new WordListMatcher([mask('abc', 'substring'), mask('bcd', 'substring')]);
    expect(list.apply('xabcdx')).toMatchObject({ text: 'x***x' });
  });

  it('a block hit refuses the message even when mask hits are there too', () => {
    const list = new WordListMatcher([mask('darn'), block('spam')]);
    const r = list.apply('darn spam');
    expect(r.verdict).toBe('block');
    expect(r.hits.map((h) => [h.word, h.action])).toEqual([
      ['darn', 'mask'],
      ['spam', 'block'],
    ]);
  });

  it('the same entry listed twice with both actions blocks', () => {
    const list = new WordListMatcher([mask('spam'), block('SPAM')]);
    expect(list.size).toBe(1);
    expect(list.apply('spam').verdict).toBe('block');
  });

  it('phrases match across one word break, not inside a word', () => {
    const list = new WordListMatcher([block('spam link')]);
    expect(list.apply('buy this spam   link now').verdict).toBe('block');
    expect(list.apply('spamlink').verdict).toBe('allow');
  });

  it('an empty list, or one of empty entries, allows everything as sent', () => {
    for (const list of [new WordListMatcher([]), new WordListMatcher([block(''), mask(' \u200B ')], ['class'])]) {
      expect(list.size).toBe(0);
      expect(list.apply('anything at all')).toEqual({ verdict: 'allow', text: 'anything at all', hits: [] });
      expect(list.apply('')).toEqual({ verdict: 'allow', text: '', hits: [] });
    }
  });
});

describe('word list - 10,000 entries', () => {
  // A seeded generator (mulberry32), so a failure can be replayed.
  let seed = 42;
  const rnd = () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
  const pick = (chars: string[], n: number) => Array.from({ length: n }, () => chars[Math.floor(rnd() * chars.length)]).join('');
  const latin = [...'bcdfghjkmnpqrvwxz']; // letters with no look-alike folding, so words stay distinct
  const han = Array.from({ length: 200 }, (_, i) => String.fromCharCode(0x4e00 + i * 7));
  const unique = (n: number, make: () => string) => {
    const set = new Set<string>();
    while (set.size < n) set.add(make());
    return [...set];
  };

  const latinWords = unique(7000, () => pick(latin, 5 + Math.floor(rnd() * 4)));
  const hanWords = unique(4000, () => pick(han, 2 + Math.floor(rnd() * 3)));
  const listed = [...latinWords.slice(0, 6000), ...hanWords];
  const entries = listed.map((w, i) => (i % 2 ? mask(w) : block(w)));
  const list = new WordListMatcher(entries);
  const absentLatin = latinWords.slice(6000);

  it('holds every entry', () => {
    expect(list.size).toBe(10_000);
  });

  it('finds listed words, Latin and Chinese, where they are, and nothing else', () => {
    for (let k = 0; k < 300; k++) {
      const w = listed[Math.floor(rnd() * listed.length)];
      const isHan = /\p{Script=Han}/u.test(w);
      const text = isHan ? `今天${w}` : `hello ${w} there`;
      const hits = list.hits(text);
      expect(hits.map((h) => text.slice(h.start, h.end))).toContain(w);
      expect(hits.find((h) => text.slice(h.start, h.end) === w)?.action).toBe(entries[listed.indexOf(w)].action);
    }
  });

  it('finds no unlisted Latin word', () => {
    for (const w of absentLatin) expect(list.hits(`hello ${w} there`)).toEqual([]);
  });

  it('every hit is a listed entry at its span', () => {
    const set = new Set(listed);
    for (let k = 0; k < 200; k++) {
      const text = pick(han, 60);
      for (const h of list.hits(text)) expect(set.has(text.slice(h.start, h.end))).toBe(true);
    }
  });
});
